"""What the page is sent, built from the recordings: the loaded sequences and what was said about them
(:class:`Loaded`), the data traits (``_meta``, ``_arrays``, ``_data_<q>``), one layer row's per-gate weights, and the
size check that keeps a browser tab from freezing. Arrays go out as ``WireArray`` (the wire package) in the
dtype the user chose; the trait types encode them.
"""

from __future__ import annotations

import numpy as np

import lstm_widget

from .._core.model import gate_weights
from .._core.recording import Recording
from .._core.recording.recorder import values_per_step
from .._core.validate import is_int
from .._wire import WireArray
from .options import ViewOptions, check_groups, check_label, check_preload, check_targets, names_of
from .tokens import check_top_k, resolve_vocab, shows_top_k, token_label, top_k_arrays

#: With preload="auto", every quantity is sent up front while all of them together stay under this many float32
#: bytes; above it only the shown quantity is, and each other one when it is first chosen.
AUTO_PRELOAD_BYTES = 64 * 2**20


def check_page_bytes(n_values: int, dtype: str, what: str, int32_values: int = 0) -> None:
    """Refuse to send ``n_values`` numbers of wire ``dtype`` (and ``int32_values`` int32 ones) to the page when they
    exceed ``lstm_widget.PAGE_BYTES_LIMIT`` (read at each call, so that setting it takes effect)."""
    limit = lstm_widget.PAGE_BYTES_LIMIT
    itemsize = np.dtype(dtype).itemsize  # a wire dtype (checked before): float32, float16 or uint8
    size = n_values * itemsize + int32_values * 4
    if size > limit:
        smaller = [d for d in ("float16", "uint8") if np.dtype(d).itemsize < itemsize]
        hint = (
            f"wire_dtype={smaller[0]!r} ({'halves' if smaller[0] == 'float16' else 'quarters'} it), " if smaller else ""
        )
        raise ValueError(
            f"{what} would be {size / 2**20:.1f} MiB of {dtype} data; the page takes at most "
            f"{limit / 2**20:.1f} MiB at a time (lstm_widget.PAGE_BYTES_LIMIT) — use {hint}"
            "preload='h' (one quantity at a time), fewer or shorter sequences, or analyse the recordings in Python "
            "(lw.record, lw.record_dataset)"
        )


def check_memory(n_bytes: int, what: str) -> None:
    """Refuse work that will need ``n_bytes`` of memory when they exceed ``lstm_widget.MEMORY_BUDGET`` (read at
    each call), before any of it is done."""
    budget = lstm_widget.MEMORY_BUDGET
    if n_bytes > budget:
        raise ValueError(
            f"{what} would need about {n_bytes / 2**20:.0f} MiB of memory for the recordings; the budget is "
            f"{budget / 2**20:.0f} MiB (lstm_widget.MEMORY_BUDGET, half the memory available at import) — pass fewer "
            "or shorter sequences, or record them to disk with lw.record_dataset and explore them with "
            "Explorer.from_dataset (one window in memory at a time); preload='h' and wire_dtype='float16' shrink "
            "what is sent to the page on top of that. Raise lstm_widget.MEMORY_BUDGET at your own risk"
        )


def check_sizes_before_recording(spec, sequences, wire_dtype: str) -> None:
    """Refuse, from the sequences' shapes alone and before anything is recorded, what would exceed the memory budget
    or could not go to the page even with one quantity (the steps' h, inputs and predictions). Arrays and tensors
    only; anything else is left to ``record``'s checks."""
    seqs = sequences if isinstance(sequences, (list, tuple)) else [sequences]
    shapes = [tuple(getattr(x, "shape", ())) for x in seqs]
    if not shapes or any(len(shape) != 2 for shape in shapes):
        return  # record says what is wrong with it
    steps = sum(shape[0] for shape in shapes)
    features = shapes[0][1]
    per_step = values_per_step(spec, features)
    what = f"recording {len(shapes)} sequence{'s' if len(shapes) != 1 else ''} of {steps} steps in all"
    check_memory(4 * steps * per_step, what)
    head = getattr(spec.head, "out_features", 0)
    shown = len(spec.layer_names) * spec.units["h"] + features + (head if isinstance(head, int) else 0)
    check_page_bytes(steps * shown, wire_dtype, f"showing {what}")


def default_projection_row(layer_names) -> int:
    """The layer row the trajectory projects by default: the last layer's forward direction."""
    reverse = any(name.endswith("_reverse") for name in layer_names)
    return len(layer_names) - (2 if reverse else 1)


def stacked(recs, layer: int, quantity: str) -> np.ndarray:
    """``quantity`` at layer row ``layer`` of every step of ``recs``, stacked: (sum T, units)."""
    return np.concatenate([getattr(r, quantity)[layer] for r in recs], axis=0)


def recording_from_frames(frames, layer_names, embed=None) -> Recording:
    """The :class:`Recording` of consecutive ``Frame`` s (a streamed sequence, or a chunk of it). ``embed`` (token
    models): ids → what the recurrent module received for each, kept as ``module_inputs[""]`` for the inputs view."""

    def stacked_field(name):
        return None if getattr(frames[0], name) is None else np.stack([getattr(f, name) for f in frames])

    inputs = np.stack([f.inputs for f in frames])
    return Recording(
        inputs=inputs,
        outputs=stacked_field("outputs"),
        logits=stacked_field("logits"),
        probs=stacked_field("probs"),
        task=frames[0].task,
        layer_names=tuple(layer_names),
        module_inputs={} if embed is None else {"": embed(inputs)},
        **{q: np.stack([getattr(f, q) for f in frames], axis=1) for q in frames[0].quantities},
    )


def takes_tokens(rec: Recording) -> bool:
    """Whether ``rec`` was recorded from token ids (a model with an ``nn.Embedding``): its inputs are ids (T,)."""
    return rec.inputs.ndim == 1


def shown_inputs(rec: Recording) -> np.ndarray:
    """What the inputs view shows of ``rec``, one row per step of its timeline (T, D): the features per step — for a
    token model, what its first recurrent module received (the embedding of each id) — and NaN on the steps that
    had no input of the model's own (a decoder's steps, closed-loop forecasting)."""
    T = len(rec)
    if takes_tokens(rec):
        first = rec.stages[0].module if rec.stages else None
        x = rec.module_inputs.get(first)
        if x is None:  # a streamed token sequence keeps its embedding in module_inputs[""]
            x = rec.module_inputs.get("", np.zeros((T, 0), np.float32))
        return np.asarray(x, np.float32)
    x = np.asarray(rec.inputs, np.float32)
    if x.shape[0] == T:
        return x
    full = np.full((T, x.shape[1]), np.nan, np.float32)
    full[: x.shape[0]] = x
    return full


def token_ids(rec: Recording) -> np.ndarray:
    """The token id of every step of ``rec``'s timeline (T,) int32, -1 where the step had no input id."""
    ids = np.full(len(rec), -1, np.int32)
    ids[: rec.inputs.shape[0]] = rec.inputs
    return ids


def stage_list(rec: Recording) -> list:
    """``_meta.stages`` entry of one sequence: [[module, start, stop], ...] where each recurrent module ran."""
    return [[st.module, int(st.start), int(st.stop)] for st in rec.stages]


def export_index(sequences, n: int) -> list[int]:
    """The loaded sequences (of ``n``) an export holds: ``sequences`` as indices ("all" or None: all; a slice;
    ints)."""
    if sequences is None or (isinstance(sequences, str) and sequences == "all"):
        return list(range(n))
    if isinstance(sequences, str):
        raise TypeError(
            f'sequences must be "all", indices of the loaded sequences (ints 0..{n - 1}) or a slice; got {sequences!r}'
        )
    if isinstance(sequences, slice):
        index = list(range(n))[sequences]
    else:
        items = [sequences] if np.isscalar(sequences) else list(np.asarray(sequences, dtype=object).reshape(-1))
        if not all(is_int(v) for v in items):
            raise TypeError(
                f"sequences must be indices of the loaded sequences (ints 0..{n - 1}) or a slice; got {sequences!r}"
            )
        index = [int(v) for v in items]
    bad = [v for v in index if not 0 <= v < n]
    if bad or not index or len(set(index)) != len(index):
        what = f"{bad[0]} is out of range" if bad else "it is empty" if not index else "it repeats an index"
        raise ValueError(f"sequences {sequences!r}: {what}; expected distinct indices 0..{n - 1}")
    return index


def neighbours_within(current: int, sizes: list[int], budget: int) -> list[int]:
    """The consecutive indices around ``current`` whose ``sizes`` (one per sequence) add up to at most ``budget``:
    ``current`` always, then one more on each side in turn (after, before) while the next fits; a side that is used
    up or whose next does not fit leaves the other to grow alone."""
    lo = hi = current
    total = sizes[current]
    grow = [1, -1]
    while grow:
        side = grow[0]
        k = hi + 1 if side > 0 else lo - 1
        if 0 <= k < len(sizes) and total + sizes[k] <= budget:
            total += sizes[k]
            lo, hi = min(lo, k), max(hi, k)
            grow.append(grow.pop(0))  # the other side next
        else:
            grow.pop(0)
    return list(range(lo, hi + 1))


def describe_index(index: list[int], n: int) -> str:
    """``index`` (of ``n`` loaded sequences) in words, runs as ranges: "sequences 3–12 of 370", "sequence 4 of 6",
    "sequences 0, 4, 9 of 30", "all 370 sequences"."""
    if len(index) == n and index == list(range(n)):
        return f"all {n} sequences" if n != 1 else "the only sequence"
    runs, start = [], 0
    for k in range(1, len(index) + 1):
        if k == len(index) or index[k] != index[k - 1] + 1:
            a, b = index[start], index[k - 1]
            runs.append(str(a) if a == b else f"{a}, {b}" if b == a + 1 else f"{a}–{b}")
            start = k
    word = "sequence" if len(index) == 1 else "sequences"
    return f"{word} {', '.join(runs)} of {n}"


class Loaded:
    """The sequences an explorer shows and what was said about them (labels, names, groups), checked once; builds
    the data traits the page is sent. ``spec`` is the model's description (None for recordings without a model)."""

    def __init__(
        self,
        recs: list[Recording],
        spec,
        options: ViewOptions,
        first_quantity: str = "h",
        spec_note: str | None = None,
        n_token_ids: int | None = None,
    ):
        first = recs[0]
        self.spec = spec
        self.spec_note = spec_note  # why there is no spec although there is a model (see ModelSource)
        self.wire_dtype = options.wire_dtype
        self.first_quantity = first_quantity
        self.quantities = tuple(first.quantities)  # the cell kind's: h c i f g o (LSTM) or h r z n (GRU)
        self.cell = first.cell
        self.preload = check_preload(options.preload, first_quantity, self.quantities)
        self.layer_names = tuple(first.layer_names)
        self.units = {q: int(getattr(first, q).shape[2]) for q in self.quantities}
        n = len(recs)
        labels = options.labels
        if labels is not None:
            labels = [check_label(v, "labels") for v in np.asarray(labels, dtype=object).reshape(-1)]
            if len(labels) != n:
                raise ValueError(f"labels has {len(labels)} entries; expected one per sequence ({n})")
        n_classes = 0 if first.probs is None else first.probs.shape[1]
        class_names = options.class_names
        if class_names is not None or n_classes:
            n_names = n_classes or (max(v for v in labels if v is not None) + 1 if labels else 0)
            class_names = names_of(class_names, n_names, "class {}", "class_names")
        if labels is not None and class_names is not None:
            bad = [v for v in labels if v is not None and not 0 <= v < len(class_names)]
            if bad:
                raise ValueError(f"label {bad[0]} is out of range; expected 0..{len(class_names) - 1} (class_names)")
        self.tokens = takes_tokens(first)
        # token models: the vocabulary (ids 0..n_token_ids-1: the model's embedding's, else the ids seen) and whether
        # the page gets the top-k next tokens instead of every class's probability
        if options.tokens is not None and not self.tokens:
            raise ValueError(
                "tokens= labels the token ids of a model that takes ids (one with an nn.Embedding); this model takes "
                "float features (name them with feature_names=)"
            )
        if self.tokens and n_token_ids is None:  # recordings without the model: the ids seen, or the head's classes
            n_token_ids = max(max(int(r.inputs.max(initial=-1)) for r in recs) + 1, n_classes)
        self.n_token_ids = n_token_ids
        self.vocab = resolve_vocab(options.tokens, n_token_ids) if self.tokens else None
        self.top_k = check_top_k(options.top_k)
        self.shows_top_k = first.probs is not None and shows_top_k(self.tokens, n_classes)
        # a next-token head: its classes are the token ids (the actual next token can be ranked)
        self.next_token = self.tokens and n_classes == n_token_ids
        if self.next_token and options.class_names is None:  # the classes are the vocabulary: labelled as tokens
            class_names = [token_label(self.vocab, c) for c in range(n_classes)]
        # what the model's head gave per step: "classification" (probs), "regression" (outputs) or None (nothing
        # verified; outputs_note says why)
        self.task = first.task
        self.outputs_note = first.outputs_note
        # per-step targets of the sequences loaded at first, (T, k) each; streamed sequences have none (NaN)
        self.targets = check_targets(options.targets, recs)
        width = shown_inputs(first).shape[1]
        self.feature_names = names_of(options.feature_names, width, "e{}" if self.tokens else "x{}", "feature_names")
        self.sequence_names = names_of(options.sequence_names, n, "sequence {}", "sequence_names")
        self.labels = labels if labels is not None else [None] * n
        self.class_names = class_names
        self.groups = check_groups(options.groups, options.group_name, n)
        self.recordings = list(recs)

    # ---- what changes ---------------------------------------------------------------------------------------------
    def replace(self, recs, labels, names, group_values) -> None:
        """Show other sequences (a data set's next window): their recordings, labels, names and group values."""
        self.recordings = list(recs)
        self.labels = list(labels)
        self.sequence_names = list(names)
        if self.groups is not None:
            self.groups = (self.groups[0], list(group_values))

    def appended(self, rec: Recording, label, name: str, group) -> tuple:
        """The content with one more sequence (a streamed one): (recordings, labels, names, group values), to
        :meth:`assemble` and :meth:`replace` with."""
        return (
            self.recordings + [rec],
            self.labels + [label],
            self.sequence_names + [name],
            None if self.groups is None else self.groups[1] + [None if group is None else str(group)],
        )

    @property
    def n_classes(self) -> int:
        """Classes the trajectory overlay may name: the class names, else the labels seen."""
        if self.class_names is not None:
            return len(self.class_names)
        known = [v for v in self.labels if v is not None]
        return max(known) + 1 if known else 0

    # ---- the data traits ------------------------------------------------------------------------------------------
    def wire(self, values) -> WireArray:
        """``values`` as they travel to the page: in the wire dtype the user chose."""
        return WireArray(values, self.wire_dtype)

    def quantity_array(self, q: str, dtype: str | None = None, recs=None) -> WireArray:
        """``_data_<q>``: quantity ``q`` of every loaded step, (L, sum T, units)."""
        recs = self.recordings if recs is None else recs
        return WireArray(np.concatenate([getattr(r, q) for r in recs], axis=1), dtype or self.wire_dtype)

    def assemble(
        self, projection, key, traj=None, *, recs=None, content=None, index=None, wire_dtype=None, load=None, have=()
    ) -> tuple[dict, dict]:
        """Meta and the data traits for ``recs`` (default: the loaded ones) or for ``content`` (other sequences:
        recordings, labels, names and group values, as :meth:`replace` takes them): ``_arrays`` (inputs, probs,
        traj) and one ``_data_<q>`` per quantity — an array when it is to be loaded now, else None until the page
        asks for it.
        ``projection`` (a fitted Projection) of ``key`` = (layer row, quantity) places every step, unless ``traj`` was
        just computed. ``index`` (the loaded sequences ``recs`` are, for an export of some of them), ``wire_dtype`` and
        ``load`` (the quantities to send) override what the explorer itself uses; ``have`` are the quantities the
        page already has (sent again)."""
        labels, names = self.labels, self.sequence_names
        groups = None if self.groups is None else self.groups[1]
        if content is not None:
            recs, labels, names, groups = content
        recs = self.recordings if recs is None else recs
        layer, quantity = key
        pick = (lambda values: list(values)) if index is None else (lambda values: [values[i] for i in index])
        if traj is None:
            traj = projection.transform(stacked(recs, layer, quantity))
        lengths = [len(r) for r in recs]
        has_head = recs[0].probs is not None
        small = {"inputs": np.concatenate([shown_inputs(r) for r in recs], axis=0)}
        ranked = {}  # a large vocabulary: the top-k next tokens instead of every class's probability
        if has_head and self.shows_top_k:
            ranked = self.top_k_fields(recs)
            small["topk_probs"], small["next_prob"] = ranked.pop("topk_probs"), ranked.pop("next_prob")
        elif has_head:
            small["probs"] = np.concatenate([r.probs for r in recs], axis=0)
        if self.task == "regression":
            small["outputs"] = np.concatenate([r.outputs for r in recs], axis=0)
        if self.targets is not None:
            small["targets"] = self.target_rows(recs, index)
        small["traj"] = traj
        dtype = wire_dtype or self.wire_dtype
        if load is not None:
            wanted = set(load)
        elif self.preload == "auto":
            values = sum(getattr(r, q).size for r in recs for q in self.quantities)
            wanted = set(self.quantities) if values * 4 <= AUTO_PRELOAD_BYTES else {self.first_quantity}
        else:
            wanted = set(self.preload)
        if load is None:
            wanted |= set(have)
        check_page_bytes(
            sum(v.size for v in (*small.values(), *ranked.values()))
            + sum(getattr(r, q).size for r in recs for q in self.quantities if q in wanted),
            dtype,
            "showing these sequences" if load is None else "this export",
        )
        traits, limits = {"_arrays": {k: WireArray(v, dtype) for k, v in small.items()}}, {}
        if self.tokens:
            traits["_arrays"]["token_ids"] = WireArray(np.concatenate([token_ids(r) for r in recs]), "int32")
        for name, values in ranked.items():  # ids and ranks travel as int32 whatever the wire dtype
            traits["_arrays"][name] = WireArray(values, "int32")
        for q in self.quantities:  # NaN: steps where a module did not run (a decoder's rows during the encoder)
            limits[q] = [
                min(float(np.nanmin(getattr(r, q), initial=np.inf)) for r in recs),
                max(float(np.nanmax(getattr(r, q), initial=-np.inf)) for r in recs),
            ]
            traits[f"_data_{q}"] = self.quantity_array(q, dtype, recs) if q in wanted else None
        meta = {
            "n_sequences": len(recs),
            "lengths": lengths,
            "offsets": [0] + np.cumsum(lengths).tolist(),
            "labels": pick(labels),
            "class_names": self.class_names,
            "feature_names": self.feature_names,
            "sequence_names": pick(names),
            "layer_names": list(self.layer_names),
            "quantities": list(self.quantities),
            "cell": self.cell,
            "units": self.units,
            "has_weights": self.spec is not None,
            "model_note": self.spec_note,
            "framework": None if self.spec is None else getattr(self.spec, "framework", "pytorch"),
            "has_head": has_head,
            "n_classes": int(recs[0].probs.shape[1]) if has_head else 0,
            "task": self.task,
            "outputs_note": self.outputs_note,
            "n_outputs": int(small["outputs"].shape[1]) if "outputs" in small else 0,
            "tokens": self.tokens,
            "vocab": self.vocab,
            "top_k": int(small["topk_probs"].shape[1]) if "topk_probs" in small else 0,
            "next_token": self.next_token,
            "stages": [stage_list(r) for r in recs] if self.staged(recs) else None,
            "limits": limits,
            "projection": projection.meta(layer, quantity),
            "groups": None if self.groups is None else {"name": self.groups[0], "values": pick(groups)},
        }
        return meta, traits

    def top_k_fields(self, recs) -> dict:
        """``topk_ids``, ``topk_probs``, ``next_rank`` and ``next_prob`` of ``recs``, concatenated (see
        :func:`~.tokens.top_k_arrays`; the next id is always the same sequence's)."""
        parts = [top_k_arrays(r.probs, token_ids(r), self.top_k, self.next_token) for r in recs]
        return {name: np.concatenate([p[name] for p in parts], axis=0) for name in parts[0]}

    def target_rows(self, recs, index=None) -> np.ndarray:
        """``_arrays.targets`` (sum T, k) of ``recs`` — the loaded sequences (``index``: which of them, for an
        export), or those with one more streamed — NaN on a sequence given no targets."""
        k = self.targets[0].shape[1]
        rows = []
        for j, rec in enumerate(recs):
            s = j if index is None else index[j]
            given = self.targets[s] if s < len(self.targets) else None
            rows.append(given if given is not None and len(given) == len(rec) else np.full((len(rec), k), np.nan))
        return np.concatenate(rows, axis=0).astype(np.float32)

    @staticmethod
    def staged(recs) -> bool:
        """Whether the recurrent modules of ``recs`` ran one after another (an encoder, then a decoder): the page then
        draws the stage boundaries."""
        return any(len({(st.start, st.stop) for st in r.stages}) > 1 for r in recs)

    def values_per_step(self, loaded, dims: int) -> tuple[int, int]:
        """Numbers the page holds per step, as (those in the wire dtype, the int32 ones): inputs, probs (or the top-k
        next tokens' probabilities) or outputs, trajectory and every ``loaded`` quantity; token ids, top-k ids and the
        next id's rank travel as int32 whatever the wire dtype."""
        first = self.recordings[0]
        classes = 0 if first.probs is None else first.probs.shape[1]
        k = min(self.top_k, classes) if self.shows_top_k else 0
        floats = (
            len(self.feature_names)
            + (k + 1 if self.shows_top_k else classes)  # topk_probs and next_prob, or probs
            + (first.outputs.shape[1] if self.task == "regression" else 0)
            + (0 if self.targets is None else self.targets[0].shape[1])
            + dims
            + sum(getattr(first, q)[:, 0].size for q in loaded)
        )
        ints = int(self.tokens) + (k + 1 if self.shows_top_k else 0)  # token_ids; topk_ids and next_rank
        return floats, ints

    def bytes_per_step(self, loaded, dims: int, dtype: str) -> int:
        """Bytes the page holds per step (``values_per_step`` in wire ``dtype`` and int32)."""
        floats, ints = self.values_per_step(loaded, dims)
        return floats * np.dtype(dtype).itemsize + ints * 4

    def weights_entry(self, row: int, dtype: str | None = None) -> dict:
        """``_weights.rows[row]`` (js/PROTOCOL.md): layer row ``row``'s W, U and biases split per gate, in the names
        and gate order of the framework the model came from."""
        gw = gate_weights(self.spec, self.layer_names[row])
        dtype = dtype or self.wire_dtype
        entry = {
            "row": row,
            "layer_name": gw.layer_name,
            "direction": gw.direction,
            "cell": gw.cell,
            "framework": gw.framework,
            "gates": list(gw.gates),
            "ours": list(gw.ours),
            "names": dict(gw.names),
            "biases": [name for name, _ in gw.biases],
            "W": WireArray(np.stack([gw.W[g] for g in gw.gates]), dtype),  # (G, units, inputs)
            "U": WireArray(np.stack([gw.U[g] for g in gw.gates]), dtype),  # (G, units, outputs)
        }
        if gw.biases:  # (biases, G, units)
            entry["b"] = WireArray(np.stack([[v[g] for g in gw.gates] for _, v in gw.biases]), dtype)
        return entry
