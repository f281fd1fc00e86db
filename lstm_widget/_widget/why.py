"""The Explorer's "Why" section, kernel side: influence of past inputs, unit ranking per class, interventions
and comparisons shown beside the original, pattern search. :class:`WhyController` computes what the traits
js/PROTOCOL.md ("Why") describes hold, from what the explorer shows (a :class:`~.payload.Loaded` and a
:class:`~.trajectory.Trajectory` it is given); the Explorer owns the traits and the observers that call it (the
"Why" section of explorer.py). The page draws them (js/src/why.js and its views).

Every request is a synced trait whose change is the request (as ``quantity`` or ``projection_layer`` are):
``why_open`` / ``influence_method`` / ``sequence`` → ``_influence`` (and ``layer`` / ``quantity`` → ``_ranking``),
``comparison`` → ``_comparison``, ``pattern_query`` → ``_patterns``. A request is computed in full before anything
changes: a bad one raises (TraitError from a trait, ValueError / TypeError from a method) and leaves every trait as
it was; a page that asked is sent the old value back so that it stops waiting.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._core.analysis import influence_all, match_pattern, rank_units
from .._core.recording import Intervention, Recording, record
from .._core.recording.interventions import OPS, resolve_interventions
from .._core.validate import check_sequence, check_text, is_int, resolve_layer
from .._wire import INDEX_DTYPE, WireArray
from .payload import Loaded
from .trajectory import Trajectory

#: The influence map of one sequence is (T, T, D) float32: above this many values the page is told to use
#: ``lstm_widget.influence`` for single steps instead (16 MiB).
INFLUENCE_MAX_VALUES = 2**22
#: Influence maps kept per (sequence, method), so that going back to a sequence costs nothing.
INFLUENCE_CACHE = 16
#: Units per class in ``_ranking``; matches in ``_patterns``.
RANK_K = 10
PATTERN_K = 20
#: The keys of one intervention in ``comparison["interventions"]`` (js/PROTOCOL.md).
INTERVENTION_KEYS = ("quantity", "layer", "units", "start", "stop", "op", "value")
PATTERN_KEYS = ("sequence", "start", "stop", "threshold", "layer", "quantity", "margin")


def _is_number(v) -> bool:
    return isinstance(v, (numbers.Real, np.floating, np.integer)) and not isinstance(v, (bool, np.bool_))


def intervention_to_json(iv: Intervention, layer_names) -> dict:
    """One :class:`Intervention` as the JSON of ``comparison["interventions"]``: the layer by its recording name."""
    value = iv.value
    if value is not None:
        value = float(value) if np.ndim(value) == 0 else [float(v) for v in np.asarray(value).reshape(-1)]
    return {
        "quantity": iv.quantity,
        "layer": layer_names[resolve_layer(layer_names, iv.layer)],
        "units": None if iv.units is None else [int(u) for u in iv.units],
        "start": int(iv.start),
        "stop": None if iv.stop is None else int(iv.stop),
        "op": iv.op,
        "value": value,
    }


def intervention_from_json(entry, where: str = "intervention") -> Intervention:
    """An :class:`Intervention` from its JSON (keys ``INTERVENTION_KEYS``; every one but ``quantity`` optional)."""
    if not isinstance(entry, dict):
        raise TypeError(f"{where} must be a dict with keys from {list(INTERVENTION_KEYS)}; got {type(entry).__name__}")
    bad = [k for k in entry if k not in INTERVENTION_KEYS]
    if bad:
        raise ValueError(f"{where} has an unknown key {bad[0]!r}; expected keys from {list(INTERVENTION_KEYS)}")
    args = {k: v for k, v in entry.items() if v is not None or k in ("stop",)}
    if isinstance(args.get("units"), list):
        if not all(is_int(u) for u in args["units"]):
            raise TypeError(f"{where}.units must be a list of unit indices (ints); got {entry['units']!r}")
    if isinstance(args.get("value"), list):
        args["value"] = np.asarray(args["value"], dtype=np.float64)
    if "op" in args and args["op"] not in OPS:
        raise ValueError(f"{where}.op must be one of {list(OPS)}; got {args['op']!r}")
    try:
        return Intervention(**args)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{where}: {err}") from None


def _flatten_interventions(interventions) -> list[Intervention]:
    """Interventions as given to ``Explorer.intervene``: one Intervention or dict, or a list of them (tuples from
    ``Intervention.set_state`` may be entries)."""
    if isinstance(interventions, (Intervention, dict)):
        interventions = [interventions]
    if not isinstance(interventions, (list, tuple)) or not interventions:
        raise TypeError(
            "interventions must be an Intervention (or its dict), or a non-empty list of them; got "
            f"{'an empty list' if isinstance(interventions, (list, tuple)) else type(interventions).__name__}"
        )
    out = []
    for k, item in enumerate(interventions):
        subs = list(item) if isinstance(item, tuple) else [item]
        for j, sub in enumerate(subs):
            where = f"interventions[{k}]" + (f"[{j}]" if isinstance(item, tuple) else "")
            if isinstance(sub, Intervention):
                out.append(sub)
            elif isinstance(sub, dict):
                out.append(intervention_from_json(sub, where))
            else:
                raise TypeError(f"{where} is a {type(sub).__name__}; expected an Intervention or its dict")
    return out


def describe_intervention(entry: dict) -> str:
    """A short text for one intervention's JSON: "zero layer0.h[17] from t=5"."""
    units = "all" if entry.get("units") is None else ",".join(str(u) for u in entry["units"])
    stop = entry.get("stop")
    start = entry.get("start", 0)
    steps = f"from t={start}" if stop is None else (f"at t={start}" if stop == start + 1 else f"t={start}..{stop - 1}")
    op = entry.get("op", "zero")
    value = entry.get("value")
    what = {"zero": "zero", "scale": f"scale ×{_short(value)}", "clamp": f"clamp at {_short(value)}"}.get(op, op)
    return f"{what} {entry.get('layer')}.{entry.get('quantity')}[{units}] {steps}"


def _short(value) -> str:
    if isinstance(value, list):
        return f"[{len(value)} values]"
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


class WhyController:
    """Computes the "Why" payloads of an explorer and keeps what they were computed from.

    It reads what the explorer shows through two objects it is given — ``loaded`` (recordings, model description,
    names, labels, wire dtype) and ``trajectory`` (the projection in force) — and takes the explorer's current
    ``sequence`` / ``layer`` / ``quantity`` and ``_comparison`` as arguments. It sets no trait: the Explorer assigns
    what it returns. A bad request raises ValueError / TypeError / RuntimeError and changes nothing here.
    """

    def __init__(self, loaded: Loaded, trajectory: Trajectory):
        self.loaded = loaded
        self.trajectory = trajectory
        self.influence_cache: dict = {}  # (sequence, method) -> (InfluenceMap | None, payload); insertion order = age
        self.comparison_pending = None  # (request, Recording | None, payload) computed by a validator
        self.comparison_rec: Recording | None = None  # the Recording shown beside the original
        self.pattern_pending = None  # (query, PatternMatches, payload)
        self.patterns = None  # the PatternMatches shown

    # ---- influence of past inputs -----------------------------------------------------------------------------
    def influence(self, s: int, method: str):
        """(InfluenceMap | None, payload) of sequence ``s`` — from the cache when it was computed before."""
        cache = self.influence_cache
        key = (s, method)
        if key in cache:
            cache[key] = cache.pop(key)  # most recently used last
            return cache[key]
        loaded, dtype = self.loaded, self.loaded.wire_dtype
        base = {"sequence": s, "method": method}
        rec = loaded.recordings[s]
        # a token model's influence is on the embedding vectors its recurrent module received (E per step)
        T = rec.inputs.shape[0]
        D = loaded.spec.input_size if loaded.tokens and loaded.spec is not None else rec.inputs.reshape(T, -1).shape[1]
        im = None
        if loaded.spec is None:
            payload = {
                **base,
                "error": "the influence of past inputs needs the model: this explorer was made from recordings",
            }
        elif loaded.spec.head is None:
            payload = {**base, "error": "the model has no head: there is no prediction to explain"}
        elif T * T * D > INFLUENCE_MAX_VALUES:
            payload = {
                **base,
                "error": f"sequence {s} is too long for the page's influence map ({T} steps × {T} × "
                f"{D} features); call lstm_widget.influence(model, x, t=...) for single steps",
            }
        else:
            try:
                task = loaded.task if loaded.task in ("classification", "regression") else "auto"
                im = influence_all(None, rec.inputs, method=method, task=task, _spec=loaded.spec)
            except Exception as err:  # shown in the page; Python users call influence_all themselves
                payload = {**base, "error": f"influence_all failed: {err}"}
            else:
                payload = {
                    **base,
                    "tokens": loaded.tokens,  # values[t][s] are over the embedding of the token at s
                    # a regression explains its raw output targets[t] ("output"), a classifier a class's logit
                    "output": "output" if im.regression else im.output,
                    "values": WireArray(im.values, dtype),
                    "f_x": WireArray(np.asarray(im.f_x, dtype=np.float32), dtype),
                    "targets": WireArray(np.asarray(im.targets), INDEX_DTYPE),
                    "steps": im.steps,
                }
                if im.f_baseline is not None:
                    payload["f_baseline"] = WireArray(np.asarray(im.f_baseline, dtype=np.float32), dtype)
                    payload["completeness"] = WireArray(np.asarray(im.completeness_error, dtype=np.float32), dtype)
        cache[key] = (im, payload)
        while len(cache) > INFLUENCE_CACHE:
            cache.pop(next(iter(cache)))
        return cache[key]

    def influence_map(self, shown: dict):
        """The InfluenceMap of the ``_influence`` payload ``shown``, or None."""
        hit = self.influence_cache.get((shown.get("sequence"), shown.get("method")))
        return None if hit is None else hit[0]

    # ---- unit ranking per class -------------------------------------------------------------------------------
    def class_ranking(self, layer: int, quantity: str):
        """``rank_units`` of the labelled sequences per class (Welch's t; the difference of means when a class has
        fewer than 2 sequences), or a text saying why there is none."""
        loaded = self.loaded
        # the cache holds the recordings list it was computed from (a new list is a new content: Loaded.replace)
        key = (layer, quantity, tuple(loaded.labels))
        cached = getattr(self, "_ranking_cache", None)
        if cached is not None and cached[0] == key and cached[1] is loaded.recordings:
            return cached[2]
        labelled = [(r, v) for r, v in zip(loaded.recordings, loaded.labels, strict=True) if v is not None]
        if len({v for _, v in labelled}) < 2:
            result = "ranking per class needs labels of at least 2 classes (Explorer(..., labels=...))"
        else:
            recs, labels = [r for r, _ in labelled], [v for _, v in labelled]
            try:
                result = rank_units(recs, quantity, layer, labels=labels, by="t", k=RANK_K)
            except ValueError:
                try:
                    result = rank_units(recs, quantity, layer, labels=labels, by="diff", k=RANK_K)
                except ValueError as err:  # e.g. the row's module ran in no labelled sequence of a class
                    result = str(err)
        self._ranking_cache = (key, loaded.recordings, result)
        return result

    def ranking(self, layer: int, quantity: str) -> dict:
        """The ``_ranking`` payload for layer row ``layer`` and ``quantity``."""
        base = {"layer": layer, "quantity": quantity}
        result = self.class_ranking(layer, quantity)
        if isinstance(result, str):
            return {**base, "error": result}
        return {
            **base,
            "by": result.by,
            "classes": [int(c) for c in result.classes],
            "units": WireArray(result.units, INDEX_DTYPE),
            "scores": WireArray(result.scores.astype(np.float32), self.loaded.wire_dtype),
        }

    # ---- interventions and comparisons: one display beside the original ------------------------------------------
    def check_sequence_index(self, sequence, shown: int) -> int:
        """A loaded sequence's index (``shown`` when None)."""
        n = len(self.loaded.recordings)
        if sequence is None:
            return shown
        if not is_int(sequence) or not 0 <= sequence < n:
            raise ValueError(f"sequence must be the index of a loaded sequence (0..{n - 1}); got {sequence!r}")
        return int(sequence)

    def comparison_for(self, request: dict, shown: int, current: dict):
        """(request, Recording, payload) for a ``comparison`` value, ``shown`` being the explorer's sequence and
        ``current`` its ``_comparison``; raises ValueError / TypeError / RuntimeError for a bad one."""
        loaded = self.loaded
        if not isinstance(request, dict):
            raise TypeError(f"comparison must be a dict; got {type(request).__name__}")
        kind = request.get("kind")
        s = self.check_sequence_index(request.get("sequence", shown), shown)
        rec = loaded.recordings[s]
        if kind == "intervention":
            if loaded.spec is None:
                raise RuntimeError(
                    "interventions re-run the model: this explorer was made from recordings, without one"
                )
            bad = [k for k in request if k not in ("kind", "sequence", "interventions")]
            if bad:
                raise ValueError(
                    f"comparison has an unknown key {bad[0]!r} for kind 'intervention'; expected kind, "
                    "sequence, interventions"
                )
            items = request.get("interventions")
            if not isinstance(items, list) or not items:
                raise ValueError("comparison['interventions'] must be a non-empty list of interventions")
            ivs = [intervention_from_json(d, f"comparison['interventions'][{k}]") for k, d in enumerate(items)]
            resolve_interventions(ivs, loaded.spec)  # one clear error for the first that does not fit the model
            other = record(None, rec.inputs, interventions=ivs, _spec=loaded.spec)
            entries = [intervention_to_json(iv, loaded.layer_names) for iv in ivs]
            request = {"kind": "intervention", "sequence": s, "interventions": entries}
            names = [loaded.sequence_names[s], "intervened"]
            description = "; ".join(describe_intervention(e) for e in entries)
        elif kind == "compare":
            bad = [k for k in request if k not in ("kind", "sequence", "other", "name")]
            if bad:
                raise ValueError(
                    f"comparison has an unknown key {bad[0]!r} for kind 'compare'; expected kind, sequence, other, name"
                )
            k = request.get("other")
            if k is None:  # an input given from Python: only the one shown can be shown again
                if current.get("request") != request or self.comparison_rec is None:
                    raise ValueError(
                        "comparison['other'] None names an input given to compare(); pass it to "
                        "compare(x_other) instead"
                    )
                return request, self.comparison_rec, current
            other = loaded.recordings[self.check_sequence_index(k, shown)]
            request = {"kind": "compare", "sequence": s, "other": int(k)}
            names = [loaded.sequence_names[s], loaded.sequence_names[int(k)]]
            description = f"{names[0]} against {names[1]}"
        else:
            raise ValueError(f"comparison['kind'] must be 'intervention' or 'compare'; got {kind!r}")
        return request, other, self.comparison_payload(request, s, other, names, description)

    def intervention_request(self, interventions, s: int) -> dict:
        """The ``comparison`` value of ``Explorer.intervene(interventions)`` on sequence ``s``, checked."""
        if self.loaded.spec is None:
            raise RuntimeError("intervene re-runs the model: this explorer was made from recordings, without one")
        ivs = _flatten_interventions(interventions)
        resolve_interventions(ivs, self.loaded.spec)
        return {
            "kind": "intervention",
            "sequence": s,
            "interventions": [intervention_to_json(iv, self.loaded.layer_names) for iv in ivs],
        }

    def comparison_with_input(self, x_other, s: int, name: str | None):
        """(request, Recording, payload) of ``compare(x_other)`` with an array: recorded here with the model."""
        loaded = self.loaded
        if loaded.spec is None:
            raise RuntimeError(
                "compare(x_other) with an array records it with the model: this explorer was made "
                "from recordings, without one; pass the index of a loaded sequence instead"
            )
        x = check_sequence(x_other, loaded.spec.raw_features, "x_other")
        other = record(None, x, _spec=loaded.spec)
        label = "edited input" if name is None else check_text(str(name), "name")
        request = {"kind": "compare", "sequence": s, "other": None, "name": label}
        names = [loaded.sequence_names[s], label]
        return request, other, self.comparison_payload(request, s, other, names, f"{names[0]} against {label}")

    def comparison_payload(self, request: dict, s: int, other: Recording, names, description: str) -> dict:
        dtype = self.loaded.wire_dtype
        payload = {
            "request": request,
            "kind": request["kind"],
            "sequence": s,
            "names": [str(n) for n in names],
            "description": description,
            "length": len(other),
            "inputs": WireArray(other.inputs, dtype),
            "traj": WireArray(self.trajectory.place(other), dtype),
            "data": {q: WireArray(getattr(other, q), dtype) for q in self.loaded.quantities},
        }
        if other.probs is not None:
            payload["probs"] = WireArray(other.probs, dtype)
        return payload

    def comparison_traj(self) -> WireArray:
        """The trajectory of the recording shown beside the original, on the projection in force."""
        return WireArray(self.trajectory.place(self.comparison_rec), self.loaded.wire_dtype)

    # ---- pattern search -----------------------------------------------------------------------------------------
    def patterns_for(self, query: dict, shown: tuple[int, int, str]):
        """(PatternMatches, payload) for a ``pattern_query`` value, ``shown`` being the explorer's (sequence, layer,
        quantity) for the keys left out; raises ValueError / TypeError for a bad one."""
        if not isinstance(query, dict):
            raise TypeError(f"pattern_query must be a dict; got {type(query).__name__}")
        bad = [k for k in query if k not in PATTERN_KEYS]
        if bad:
            raise ValueError(f"pattern_query has an unknown key {bad[0]!r}; expected keys from {list(PATTERN_KEYS)}")
        missing = [k for k in ("start", "stop", "threshold") if k not in query]
        if missing:
            raise ValueError(f"pattern_query needs {missing[0]!r}")
        s = query.get("sequence", shown[0])
        layer = query.get("layer", shown[1])
        quantity = query.get("quantity", shown[2])
        threshold = query["threshold"]
        if not _is_number(threshold):
            raise ValueError(f"pattern_query['threshold'] must be a number; got {threshold!r}")
        result = match_pattern(
            self.loaded.recordings,
            s,
            query["start"],
            query["stop"],
            float(threshold),
            quantity,
            layer,
            margin=query.get("margin", 1),
            k=PATTERN_K,
        )
        row = resolve_layer(self.loaded.layer_names, layer)
        full = {
            "sequence": int(s),
            "start": int(query["start"]),
            "stop": int(query["stop"]),
            "threshold": float(threshold),
            "layer": row,
            "quantity": quantity,
            "margin": result.margin,
        }
        payload = {"query": query, "resolved": full, "units": [int(u) for u in result.units], "matches": result.rows()}
        return result, payload


def why_export_state(shown: dict, index: list[int], sequence: int) -> dict:
    """The Why traits for an export of the loaded sequences ``index`` (renumbered 0..len-1 there), from the traits
    ``shown`` (why_open, influence_method, _ranking, _influence, _comparison, pattern_query, _patterns) and the
    explorer's ``sequence``: what the page shows now, for the sequences the export holds (an influence map or a
    comparison of a sequence left out is left out; pattern matches in sequences left out are dropped). The per-class
    ranking is kept as computed over every loaded sequence. No kernel answers in the export: a request made there
    shows "not in this export"."""
    where = {s: k for k, s in enumerate(index)}
    state = {
        "why_open": shown["why_open"],
        "influence_method": shown["influence_method"],
        "_ranking": dict(shown["_ranking"]),
        "_influence": {},
        "_comparison": {},
        "comparison": {},
        "_patterns": {},
        "pattern_query": {},
    }
    inf = shown["_influence"]
    if inf.get("sequence") in where:
        state["_influence"] = {**inf, "sequence": where[inf["sequence"]]}
    cmp = shown["_comparison"]
    if cmp.get("sequence") in where:
        request = {**cmp["request"], "sequence": where[cmp["sequence"]]}
        if request.get("kind") == "compare" and request.get("other") is not None:
            other = request["other"]
            request = {**request, "other": where.get(other)}
            if request["other"] is None:
                request["name"] = cmp["names"][1]
        state["_comparison"] = {**cmp, "sequence": where[cmp["sequence"]], "request": request}
        state["comparison"] = request
    query = shown["pattern_query"]
    pat = shown["_patterns"]
    if pat and query.get("sequence", sequence) in where:
        s = where[query.get("sequence", sequence)]
        query = {**query, "sequence": s}
        matches = [{**m, "sequence": where[m["sequence"]]} for m in pat["matches"] if m["sequence"] in where]
        state["pattern_query"] = query
        state["_patterns"] = {**pat, "query": query, "resolved": {**pat["resolved"], "sequence": s}, "matches": matches}
    return state
