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
from .options import ViewOptions, check_groups, check_label, check_preload, names_of

#: With preload="auto", every quantity is sent up front while all of them together stay under this many float32
#: bytes; above it only the shown quantity is, and each other one when it is first chosen.
AUTO_PRELOAD_BYTES = 64 * 2**20


def check_page_bytes(n_values: int, dtype: str, what: str) -> None:
    """Refuse to send ``n_values`` numbers of wire ``dtype`` to the page when they exceed
    ``lstm_widget.PAGE_BYTES_LIMIT`` (read at each call, so that setting it takes effect)."""
    limit = lstm_widget.PAGE_BYTES_LIMIT
    itemsize = np.dtype(dtype).itemsize  # a wire dtype (checked before): float32, float16 or uint8
    size = n_values * itemsize
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


def recording_from_frames(frames, layer_names) -> Recording:
    """The :class:`Recording` of consecutive ``Frame`` s (a streamed sequence, or a chunk of it)."""
    probs = None if frames[0].probs is None else np.stack([f.probs for f in frames])
    logits = None if frames[0].logits is None else np.stack([f.logits for f in frames])
    return Recording(
        inputs=np.stack([f.inputs for f in frames]),
        logits=logits,
        probs=probs,
        layer_names=tuple(layer_names),
        **{q: np.stack([getattr(f, q) for f in frames], axis=1) for q in frames[0].quantities},
    )


def export_index(sequences, n: int) -> list[int]:
    """The loaded sequences (of ``n``) an export holds: ``sequences`` as indices (None: all; a slice; ints)."""
    if sequences is None:
        return list(range(n))
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


class Loaded:
    """The sequences an explorer shows and what was said about them (labels, names, groups), checked once; builds
    the data traits the page is sent. ``spec`` is the model's description (None for recordings without a model)."""

    def __init__(self, recs: list[Recording], spec, options: ViewOptions, first_quantity: str = "h"):
        first = recs[0]
        self.spec = spec
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
        self.feature_names = names_of(options.feature_names, first.inputs.shape[1], "x{}", "feature_names")
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
        small = {"inputs": np.concatenate([r.inputs for r in recs], axis=0)}
        if has_head:
            small["probs"] = np.concatenate([r.probs for r in recs], axis=0)
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
            sum(v.size for v in small.values())
            + sum(getattr(r, q).size for r in recs for q in self.quantities if q in wanted),
            dtype,
            "showing these sequences" if load is None else "this export",
        )
        traits, limits = {"_arrays": {k: WireArray(v, dtype) for k, v in small.items()}}, {}
        for q in self.quantities:
            limits[q] = [min(float(getattr(r, q).min()) for r in recs), max(float(getattr(r, q).max()) for r in recs)]
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
            "framework": None if self.spec is None else getattr(self.spec, "framework", "pytorch"),
            "has_head": has_head,
            "n_classes": int(small["probs"].shape[1]) if has_head else 0,
            "limits": limits,
            "projection": projection.meta(layer, quantity),
            "groups": None if self.groups is None else {"name": self.groups[0], "values": pick(groups)},
        }
        return meta, traits

    def values_per_step(self, loaded, dims: int) -> int:
        """Numbers the page holds per step: inputs, probs, trajectory and every ``loaded`` quantity."""
        first = self.recordings[0]
        return (
            first.inputs.shape[1]
            + (0 if first.probs is None else first.probs.shape[1])
            + dims
            + sum(getattr(first, q)[:, 0].size for q in loaded)
        )

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
