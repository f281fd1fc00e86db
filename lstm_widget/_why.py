"""The Explorer's "Why" section, kernel side: influence of past inputs, unit ranking per class, interventions
and comparisons shown beside the original, pattern search. A mixin of :class:`~lstm_widget.Explorer` — it reads the
explorer's recordings, model description and projection and fills the traits js/PROTOCOL.md ("Why") describes; the
page draws them (js/src/why.js and its views).

Every request is a synced trait whose change is the request (as ``quantity`` or ``projection_layer`` are):
``why_open`` / ``influence_method`` / ``sequence`` → ``_influence`` (and ``layer`` / ``quantity`` → ``_ranking``),
``comparison`` → ``_comparison``, ``pattern_query`` → ``_patterns``. A request is computed in full before anything
changes: a bad one raises (TraitError from a trait, ValueError / TypeError from a method) and leaves every trait as
it was; a page that asked is sent the old value back so that it stops waiting.
"""

from __future__ import annotations

import numbers

import numpy as np
import traitlets as tl

from ._core.analysis import influence_all, match_pattern, rank_units
from ._core.analysis.attribution import METHODS
from ._core.recording import Intervention, Recording, record
from ._core.recording.interventions import OPS, resolve_interventions
from ._core.validate import check_sequence, resolve_layer
from ._wire import encode_array

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


def _is_int(v) -> bool:
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_))


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
        if not all(_is_int(u) for u in args["units"]):
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


class WhyMixin(tl.HasTraits):
    """Traits and methods of the "Why" section (see the module notes and js/PROTOCOL.md)."""

    # ---- synced both ways: the requests -------------------------------------------------------------------------
    why_open = tl.Bool(False, help="whether the page's Why section is open (opening it is the request for "
                                   "_influence and _ranking)").tag(sync=True)
    influence_method = tl.Unicode("gradient_x_input",
                                  help="'gradient_x_input' or 'integrated_gradients'").tag(sync=True)
    comparison = tl.Dict(help="what is shown beside the original: {} or an intervention / a comparison "
                              "(js/PROTOCOL.md); set by intervene(), compare() and the page").tag(sync=True)
    pattern_query = tl.Dict(help="{} or {sequence, start, stop, threshold, layer, quantity, margin}: the pattern "
                                 "search to run").tag(sync=True)
    # ---- kernel -> page ---------------------------------------------------------------------------------------------
    _influence = tl.Dict().tag(sync=True)
    _ranking = tl.Dict().tag(sync=True)
    _comparison = tl.Dict().tag(sync=True)
    _patterns = tl.Dict().tag(sync=True)

    # ---- shared ---------------------------------------------------------------------------------------------------
    def _why_state(self) -> dict:
        state = self.__dict__.get("_why")
        if state is None:
            state = self.__dict__["_why"] = {
                "influence": {},  # (sequence, method) -> (InfluenceMap | None, payload); insertion order = age
                "comparison_pending": None,  # (request, Recording | None, payload) computed by a validator
                "comparison_rec": None,  # the Recording shown beside the original
                "pattern_pending": None,
                "patterns": None,  # the PatternMatches shown
            }
        return state

    def _refuse_page(self, name: str, old) -> None:
        """A page that wrote ``name`` is sent the value still in force (it would otherwise keep waiting)."""
        if name in getattr(self, "_property_lock", {}):
            self._send({"method": "update", "state": {name: old}, "buffer_paths": []})

    def _why_init(self) -> None:
        """After construction: compute what the constructor's arguments asked for (the validators skip it while
        there are no recordings yet)."""
        if self.comparison:
            self._show_comparison(self._comparison_for(self.comparison))
        if self.pattern_query:
            result, payload = self._patterns_for(self.pattern_query)
            self._why_state()["patterns"] = result
            self._patterns = payload
        if self.why_open:
            self._update_influence()
            self._update_ranking()

    # ---- influence of past inputs -----------------------------------------------------------------------------
    @tl.validate("influence_method")
    def _check_influence_method(self, proposal):
        method = proposal["value"]
        if method not in METHODS:
            self._refuse_page("influence_method", self.influence_method)
            raise tl.TraitError(f"influence_method must be one of {list(METHODS)}; got {method!r}")
        return method

    @tl.observe("why_open", "influence_method", "sequence")
    def _influence_request(self, change):
        if not self.why_open or not getattr(self, "_recordings", None):
            return
        self._update_influence()
        if change["name"] == "why_open":
            self._update_ranking()

    def _influence_for(self, s: int, method: str):
        """(InfluenceMap | None, payload) of sequence ``s`` — from the cache when it was computed before."""
        cache = self._why_state()["influence"]
        key = (s, method)
        if key in cache:
            cache[key] = cache.pop(key)  # most recently used last
            return cache[key]
        base = {"sequence": s, "method": method}
        rec = self._recordings[s]
        T, D = rec.inputs.shape
        im = None
        if self._spec is None:
            payload = {**base, "error": "the influence of past inputs needs the model: this explorer was made from "
                                        "recordings"}
        elif self._spec.head is None:
            payload = {**base, "error": "the model has no head: there is no prediction to explain"}
        elif T * T * D > INFLUENCE_MAX_VALUES:
            payload = {**base, "error": f"sequence {s} is too long for the page's influence map ({T} steps × {T} × "
                                        f"{D} features); call lstm_widget.influence(model, x, t=...) for single steps"}
        else:
            try:
                im = influence_all(None, rec.inputs, method=method, _spec=self._spec)
            except Exception as err:  # shown in the page; Python users call influence_all themselves
                payload = {**base, "error": f"influence_all failed: {err}"}
            else:
                payload = {
                    **base,
                    "output": im.output,
                    "values": encode_array(im.values.astype(np.float32), "float32"),
                    "f_x": encode_array(np.asarray(im.f_x, dtype=np.float32), "float32"),
                    "targets": encode_array(np.asarray(im.targets, dtype=np.int32), "float32"),
                    "steps": im.steps,
                }
                if im.f_baseline is not None:
                    payload["f_baseline"] = encode_array(np.asarray(im.f_baseline, dtype=np.float32), "float32")
                    payload["completeness"] = encode_array(np.asarray(im.completeness_error, dtype=np.float32),
                                                           "float32")
        cache[key] = (im, payload)
        while len(cache) > INFLUENCE_CACHE:
            cache.pop(next(iter(cache)))
        return cache[key]

    def _update_influence(self) -> None:
        s, method = self.sequence, self.influence_method
        if not 0 <= s < len(self._recordings):
            return
        current = self._influence
        if current.get("sequence") == s and current.get("method") == method:
            return
        self._influence = self._influence_for(s, method)[1]

    @property
    def influence_map(self):
        """The :class:`~lstm_widget.InfluenceMap` the page's influence view shows (``_influence``: the shown
        sequence's, by ``influence_method``), or None when none was computed (the Why section was never opened, or
        the explorer cannot compute one — see ``_influence["error"]``)."""
        cur = self._influence
        hit = self._why_state()["influence"].get((cur.get("sequence"), cur.get("method")))
        return None if hit is None else hit[0]

    # ---- unit ranking per class -----------------------------------------------------------------------------------
    @tl.observe("layer", "quantity")
    def _ranking_request(self, change):
        if self.why_open and getattr(self, "_recordings", None):
            self._update_ranking()

    def _class_ranking(self, layer: int, quantity: str):
        """``rank_units`` of the labelled sequences per class (Welch's t; the difference of means when a class has
        fewer than 2 sequences), or a text saying why there is none."""
        labelled = [(r, v) for r, v in zip(self._recordings, self._labels) if v is not None]
        if len({v for _, v in labelled}) < 2:
            return "ranking per class needs labels of at least 2 classes (Explorer(..., labels=...))"
        recs, labels = [r for r, _ in labelled], [v for _, v in labelled]
        try:
            return rank_units(recs, quantity, layer, labels=labels, by="t", k=RANK_K)
        except ValueError:
            return rank_units(recs, quantity, layer, labels=labels, by="diff", k=RANK_K)

    def _update_ranking(self, force: bool = False) -> None:
        layer, quantity = self.layer, self.quantity
        cur = self._ranking
        if not force and cur.get("layer") == layer and cur.get("quantity") == quantity:
            return
        base = {"layer": layer, "quantity": quantity}
        result = self._class_ranking(layer, quantity)
        if isinstance(result, str):
            self._ranking = {**base, "error": result}
            return
        self._ranking = {
            **base,
            "by": result.by,
            "classes": [int(c) for c in result.classes],
            "units": encode_array(result.units.astype(np.int32), "float32"),
            "scores": encode_array(result.scores.astype(np.float32), "float32"),
        }

    # ---- interventions and comparisons: one display beside the original ------------------------------------------
    def _check_comparison_sequence(self, sequence) -> int:
        n = len(self._recordings)
        if sequence is None:
            return self.sequence
        if not _is_int(sequence) or not 0 <= sequence < n:
            raise ValueError(f"sequence must be the index of a loaded sequence (0..{n - 1}); got {sequence!r}")
        return int(sequence)

    def _comparison_for(self, request: dict):
        """(request, Recording, payload) for a ``comparison`` value; raises ValueError / TypeError for a bad one."""
        if not isinstance(request, dict):
            raise TypeError(f"comparison must be a dict; got {type(request).__name__}")
        kind = request.get("kind")
        s = self._check_comparison_sequence(request.get("sequence", self.sequence))
        rec = self._recordings[s]
        if kind == "intervention":
            if self._spec is None:
                raise RuntimeError("interventions re-run the model: this explorer was made from recordings, "
                                   "without one")
            bad = [k for k in request if k not in ("kind", "sequence", "interventions")]
            if bad:
                raise ValueError(f"comparison has an unknown key {bad[0]!r} for kind 'intervention'; expected kind, "
                                 "sequence, interventions")
            items = request.get("interventions")
            if not isinstance(items, list) or not items:
                raise ValueError("comparison['interventions'] must be a non-empty list of interventions")
            ivs = [intervention_from_json(d, f"comparison['interventions'][{k}]") for k, d in enumerate(items)]
            resolve_interventions(ivs, self._spec)  # one clear error for the first that does not fit the model
            other = record(None, rec.inputs, interventions=ivs, _spec=self._spec)
            entries = [intervention_to_json(iv, self._layer_names) for iv in ivs]
            request = {"kind": "intervention", "sequence": s, "interventions": entries}
            names = [self._sequence_names[s], "intervened"]
            description = "; ".join(describe_intervention(e) for e in entries)
        elif kind == "compare":
            bad = [k for k in request if k not in ("kind", "sequence", "other", "name")]
            if bad:
                raise ValueError(f"comparison has an unknown key {bad[0]!r} for kind 'compare'; expected kind, "
                                 "sequence, other, name")
            k = request.get("other")
            if k is None:  # an input given from Python: only the one shown can be shown again
                if self._comparison.get("request") != request or self._why_state()["comparison_rec"] is None:
                    raise ValueError("comparison['other'] None names an input given to compare(); pass it to "
                                     "compare(x_other) instead")
                return request, self._why_state()["comparison_rec"], self._comparison
            other = self._recordings[self._check_comparison_sequence(k)]
            request = {"kind": "compare", "sequence": s, "other": int(k)}
            names = [self._sequence_names[s], self._sequence_names[int(k)]]
            description = f"{names[0]} against {names[1]}"
        else:
            raise ValueError(f"comparison['kind'] must be 'intervention' or 'compare'; got {kind!r}")
        return request, other, self._comparison_payload(request, s, other, names, description)

    def _comparison_payload(self, request: dict, s: int, other: Recording, names, description: str) -> dict:
        dtype = self._wire_dtype
        layer, quantity = self._projection_key
        payload = {
            "request": request,
            "kind": request["kind"],
            "sequence": s,
            "names": [str(n) for n in names],
            "description": description,
            "length": len(other),
            "inputs": encode_array(other.inputs, dtype),
            "traj": encode_array(self._projection.transform(getattr(other, quantity)[layer]), dtype),
            "data": {q: encode_array(getattr(other, q), dtype) for q in self._quantities},
        }
        if other.probs is not None:
            payload["probs"] = encode_array(other.probs, dtype)
        return payload

    @tl.validate("comparison")
    def _check_comparison(self, proposal):
        value = proposal["value"]
        state = self._why_state()
        pending = state["comparison_pending"]
        if pending is not None and pending[0] == value:
            return value  # computed already (by intervene() / compare())
        if not value or not getattr(self, "_recordings", None) or value == self._comparison.get("request"):
            return value
        try:
            request, rec, payload = self._comparison_for(value)
        except Exception as err:
            state["comparison_pending"] = None
            self._refuse_page("comparison", self.comparison)
            raise tl.TraitError(f"comparison {value!r}: {err}; nothing was changed") from err
        state["comparison_pending"] = (value, rec, payload)
        return value

    @tl.observe("comparison")
    def _comparison_request(self, change):
        """Show what the validator computed for the new ``comparison`` ({} clears the display)."""
        state = self._why_state()
        pending, state["comparison_pending"] = state["comparison_pending"], None
        value = change["new"]
        if not getattr(self, "_recordings", None):
            return
        if not value:
            state["comparison_rec"] = None
            self._comparison = {}
            return
        if pending is None or pending[0] != value:
            return
        _, rec, payload = pending
        state["comparison_rec"] = rec
        with self.hold_sync():
            self._comparison = payload
            if payload["request"] != value:  # a page's request, normalised (layer names, every key): say what is shown
                self.comparison = payload["request"]

    def _show_comparison(self, computed) -> None:
        """Show a computed (request, Recording, payload): both traits at once, and the section that shows them."""
        request, rec, payload = computed
        state = self._why_state()
        state["comparison_pending"] = (request, rec, payload)
        try:
            with self.hold_sync():
                self.comparison = request
                state["comparison_rec"] = rec
                self._comparison = payload
                self.why_open = True
        finally:
            state["comparison_pending"] = None

    def intervene(self, interventions, sequence: int | None = None) -> Recording:
        """Re-run the shown sequence (or ``sequence``) through the model with ``interventions`` — one
        :class:`~lstm_widget.Intervention` (or its dict: quantity, layer, units, start, stop, op, value), or a list of
        them; a tuple from ``Intervention.set_state`` may be an entry — and show the result beside the original in the
        page: the predictions of both, the difference (intervened − original) of the shown quantity, and the
        intervened trajectory on the same projection. Returns the intervened :class:`~lstm_widget.Recording` (what
        ``record(model, x, interventions=...)`` gives). Everything is checked and computed first: an error changes
        nothing. Opens the page's Why section (``why_open``); ``clear_intervention()`` removes the display."""
        if self._spec is None:
            raise RuntimeError("intervene re-runs the model: this explorer was made from recordings, without one")
        s = self._check_comparison_sequence(sequence)
        ivs = _flatten_interventions(interventions)
        resolve_interventions(ivs, self._spec)
        request = {"kind": "intervention", "sequence": s,
                   "interventions": [intervention_to_json(iv, self._layer_names) for iv in ivs]}
        computed = self._comparison_for(request)
        self._show_comparison(computed)
        return computed[1]

    def compare(self, x_other, sequence: int | None = None, *, name: str | None = None) -> Recording:
        """Show another input beside the shown sequence (or ``sequence``): ``x_other`` is the index of another loaded
        sequence, or an array (steps, features) — e.g. an edited copy of ``ex.recording.inputs`` — recorded here.
        The page shows both predictions, the difference heatmap (other − original, over their common steps) and both
        trajectories, as for :meth:`intervene`. Returns the other input's :class:`~lstm_widget.Recording`."""
        s = self._check_comparison_sequence(sequence)
        if _is_int(x_other):
            computed = self._comparison_for({"kind": "compare", "sequence": s, "other": int(x_other)})
        else:
            if self._spec is None:
                raise RuntimeError("compare(x_other) with an array records it with the model: this explorer was made "
                                   "from recordings, without one; pass the index of a loaded sequence instead")
            x = check_sequence(x_other, self._spec.raw_features, "x_other")
            other = record(None, x, _spec=self._spec)
            label = "edited input" if name is None else str(name)
            request = {"kind": "compare", "sequence": s, "other": None, "name": label}
            names = [self._sequence_names[s], label]
            payload = self._comparison_payload(request, s, other, names, f"{names[0]} against {label}")
            computed = (request, other, payload)
        self._show_comparison(computed)
        return computed[1]

    def clear_intervention(self) -> None:
        """Remove the intervention (or comparison) shown beside the original."""
        self._why_state()["comparison_rec"] = None
        with self.hold_sync():
            self.comparison = {}
            self._comparison = {}

    clear_comparison = clear_intervention

    @property
    def intervened(self) -> Recording | None:
        """The recording shown beside the original (intervened, or the compared input), or None."""
        return self._why_state()["comparison_rec"] if self._comparison else None

    @tl.observe("_meta")
    def _why_meta_changed(self, change):
        """The projection was refitted (the compared trajectory follows it) or sequences were added (the ranking per
        class counts them)."""
        old, new = change["old"] or {}, change["new"] or {}
        rec = self._why_state()["comparison_rec"]
        if rec is not None and self._comparison and old.get("projection") != new.get("projection"):
            layer, quantity = self._projection_key
            traj = encode_array(self._projection.transform(getattr(rec, quantity)[layer]), self._wire_dtype)
            self._comparison = {**self._comparison, "traj": traj}
        if self.why_open and old.get("n_sequences") != new.get("n_sequences") and getattr(self, "_recordings", None):
            self._update_ranking(force=True)

    # ---- pattern search -----------------------------------------------------------------------------------------
    def _patterns_for(self, query: dict):
        """(PatternMatches, payload) for a ``pattern_query`` value; raises ValueError / TypeError for a bad one."""
        if not isinstance(query, dict):
            raise TypeError(f"pattern_query must be a dict; got {type(query).__name__}")
        bad = [k for k in query if k not in PATTERN_KEYS]
        if bad:
            raise ValueError(f"pattern_query has an unknown key {bad[0]!r}; expected keys from {list(PATTERN_KEYS)}")
        missing = [k for k in ("start", "stop", "threshold") if k not in query]
        if missing:
            raise ValueError(f"pattern_query needs {missing[0]!r}")
        s = query.get("sequence", self.sequence)
        layer = query.get("layer", self.layer)
        quantity = query.get("quantity", self.quantity)
        threshold = query["threshold"]
        if not _is_number(threshold):
            raise ValueError(f"pattern_query['threshold'] must be a number; got {threshold!r}")
        result = match_pattern(self._recordings, s, query["start"], query["stop"], float(threshold), quantity, layer,
                               margin=query.get("margin", 1), k=PATTERN_K)
        row = resolve_layer(self._layer_names, layer)
        full = {"sequence": int(s), "start": int(query["start"]), "stop": int(query["stop"]),
                "threshold": float(threshold), "layer": row, "quantity": quantity, "margin": result.margin}
        payload = {"query": query, "resolved": full, "units": [int(u) for u in result.units],
                   "matches": result.rows()}
        return result, payload

    @tl.validate("pattern_query")
    def _check_pattern_query(self, proposal):
        value = proposal["value"]
        state = self._why_state()
        if not value or not getattr(self, "_recordings", None):
            return value
        pending = state["pattern_pending"]
        if pending is not None and pending[0] == value:
            return value
        try:
            state["pattern_pending"] = (value, *self._patterns_for(value))
        except Exception as err:
            state["pattern_pending"] = None
            self._refuse_page("pattern_query", self.pattern_query)
            raise tl.TraitError(f"pattern_query {value!r}: {err}; nothing was changed") from err
        return value

    @tl.observe("pattern_query")
    def _pattern_request(self, change):
        state = self._why_state()
        pending, state["pattern_pending"] = state["pattern_pending"], None
        if not getattr(self, "_recordings", None):
            return
        if not change["new"]:
            state["patterns"] = None
            self._patterns = {}
            return
        if pending is not None and pending[0] == change["new"]:
            state["patterns"] = pending[1]
            self._patterns = pending[2]

    def find_pattern(self, start: int, stop: int, threshold: float, *, sequence: int | None = None,
                     layer: int | None = None, quantity: str | None = None, margin: int = 1):
        """LSTMVis' select-and-match, shown in the page's pattern list: the units of ``quantity`` (default the shown
        one) in layer row ``layer`` (default the shown one) that are above ``threshold`` at every step of [start, stop)
        of ``sequence`` (default the shown one) and below it at the ``margin`` steps around, and the places in every
        loaded sequence where they switch on together, best first. Returns the
        :class:`~lstm_widget.PatternMatches` (``match_pattern``'s)."""
        query = {"sequence": self.sequence if sequence is None else sequence, "start": start, "stop": stop,
                 "threshold": threshold, "layer": self.layer if layer is None else layer,
                 "quantity": self.quantity if quantity is None else quantity, "margin": margin}
        result, payload = self._patterns_for(query)
        state = self._why_state()
        state["pattern_pending"] = (query, result, payload)
        try:
            with self.hold_sync():
                self.pattern_query = query
                self.why_open = True
        finally:
            state["pattern_pending"] = None
        return result

    @property
    def patterns(self):
        """The :class:`~lstm_widget.PatternMatches` the page's pattern list shows, or None."""
        return self._why_state()["patterns"] if self._patterns else None

    # ---- standalone HTML export -------------------------------------------------------------------------------
    def _why_export_state(self, index: list[int]) -> dict:
        """The Why traits for an export of the loaded sequences ``index`` (renumbered 0..len-1 there): what the page
        shows now, for the sequences the export holds (an influence map or a comparison of a sequence left out is
        left out; pattern matches in sequences left out are dropped). The per-class ranking is kept as computed over
        every loaded sequence. No kernel answers in the export: a request made there shows "not in this export"."""
        where = {s: k for k, s in enumerate(index)}
        state = {"why_open": self.why_open, "influence_method": self.influence_method, "_ranking": dict(self._ranking),
                 "_influence": {}, "_comparison": {}, "comparison": {}, "_patterns": {}, "pattern_query": {}}
        inf = self._influence
        if inf.get("sequence") in where:
            state["_influence"] = {**inf, "sequence": where[inf["sequence"]]}
        cmp = self._comparison
        if cmp.get("sequence") in where:
            request = {**cmp["request"], "sequence": where[cmp["sequence"]]}
            if request.get("kind") == "compare" and request.get("other") is not None:
                other = request["other"]
                request = {**request, "other": where.get(other)}
                if request["other"] is None:
                    request["name"] = cmp["names"][1]
            state["_comparison"] = {**cmp, "sequence": where[cmp["sequence"]], "request": request}
            state["comparison"] = request
        query = self.pattern_query
        pat = self._patterns
        if pat and query.get("sequence", self.sequence) in where:
            s = where[query.get("sequence", self.sequence)]
            query = {**query, "sequence": s}
            matches = [{**m, "sequence": where[m["sequence"]]} for m in pat["matches"] if m["sequence"] in where]
            state["pattern_query"] = query
            state["_patterns"] = {**pat, "query": query, "resolved": {**pat["resolved"], "sequence": s},
                                  "matches": matches}
        return state
