"""An explorer over a recorded data set, kernel side: :class:`StorePager` holds a store written by
:func:`lstm_widget.record_dataset` and reads one window of ``window_size`` consecutive sequences at a time — the only
ones sent to the page. It holds what was said about every sequence of the store (labels, names, groups) and fits
the trajectory's projection incrementally (``partial_fit`` over the store's chunks) on every step of the whole data
set, so that every window is placed on the same map, and places every step of the store on that map
(``_dataset_traj``: the whole data set drawn behind the window). ``Explorer.from_dataset`` makes an explorer that
holds one.
"""

from __future__ import annotations

import numpy as np

from .._core.model.gates import QUANTITIES
from .._core.projection.fit import fit_projection, fit_projection_incremental, is_fitted, unfitted_copy
from .._core.recording.store import RecordedDataset, open_dataset
from .._core.validate import check_int, check_text
from .._wire import WireArray
from .options import check_label
from .payload import default_projection_row, stacked

#: Sequences per window when ``window`` is not given.
DEFAULT_WINDOW = 32

#: The most bytes ``DatasetExplorer._dataset_traj`` sends (its float32 points, int32 offsets and classes): 64 MiB,
#: about 5.5 M steps of 3 components. A bigger store is not placed (nothing is read for it): the trait says so in its
#: ``note``. Read at each call, so that setting it (``lstm_widget._widget.recorded.DATASET_TRAJ_BYTES = n``) takes
#: effect at the next projection.
DATASET_TRAJ_BYTES = 64 * 2**20


def int_in(value, what: str, lo: int, hi: int) -> int:
    """``value`` as an int in ``lo..hi`` (not a bool), else a ValueError naming ``what``."""
    return check_int(value, what, low=lo, high=hi + 1, expected=f"an integer in {lo}..{hi}")


class StorePager:
    """The store ``ds`` seen ``size`` sequences at a time; ``labels``, ``names`` and ``group_values`` have one entry
    per sequence of the store (labels and group values may be None)."""

    def __init__(self, ds: RecordedDataset, size: int, labels, names: list[str], group_values):
        self.dataset, self.size = ds, size
        self.labels, self.names, self.group_values = labels, names, group_values

    @classmethod
    def open(cls, dataset, window, start, labels, sequence_names, groups) -> StorePager:
        """Open ``dataset`` (a path or an opened store) and check what the explorer is asked to show of it."""
        ds = dataset if isinstance(dataset, RecordedDataset) else open_dataset(dataset)
        n = len(ds)
        missing = [q for q in QUANTITIES[ds.cell] if q not in ds.quantities]
        if missing:
            raise ValueError(
                f"the data set lacks {', '.join(missing)} (recorded with quantities="
                f"{list(ds.quantities)}); the explorer shows every quantity of an {ds.cell.upper()} — "
                "record the data set with quantities=None"
            )
        window = int_in(window, "window", 1, 1 << 20)
        int_in(start, "start", 0, n - 1)
        labels = _per_sequence(labels, n, "labels")
        if labels is not None:  # every label of the store checked now, not when its window is shown
            labels = [check_label(v, f"labels[{k}]") for k, v in enumerate(labels)]
        names = _per_sequence(sequence_names, n, "sequence_names")
        names = (
            [f"sequence {k}" for k in range(n)]
            if names is None
            else [check_text(str(v), f"sequence_names[{k}]") for k, v in enumerate(names)]
        )
        groups = _per_sequence(groups, n, "groups")
        for k, v in enumerate(groups or ()):
            if v is not None:
                check_text(str(v), f"groups[{k}]")
        return cls(ds, window, labels, names, groups)

    def __len__(self) -> int:
        return len(self.dataset)

    def stop(self, start: int) -> int:
        return min(start + self.size, len(self.dataset))

    def window(self, start: int, as_given: bool = False) -> tuple[list, list, list[str], list | None]:
        """The window from ``start``: (recordings, labels, sequence names, group values), read from the store.
        ``as_given``: the labels and group values as the user gave them (to be checked), else as ints and strings."""
        stop = self.stop(start)
        recs = self.dataset.recordings(start, stop)
        if as_given:

            def part(values):
                return None if values is None else values[start:stop]

            return recs, part(self.labels), self.names[start:stop], part(self.group_values)
        labels = [None] * len(recs) if self.labels is None else list(self.labels[start:stop])
        groups = (
            None
            if self.group_values is None
            else [None if v is None else str(v) for v in self.group_values[start:stop]]
        )
        return recs, labels, self.names[start:stop], groups

    def meta(self, start: int) -> dict:
        """``_meta.dataset`` (js/PROTOCOL.md)."""
        return {"n_sequences": len(self.dataset), "start": int(start), "size": int(self.size)}

    def class_count(self) -> int:
        """How many classes the labels of the whole store name (0 without labels)."""
        given = [v for v in self.labels or () if v is not None]
        return max(given) + 1 if given else 0

    def check_labels(self, class_names) -> None:
        """Every label of the store (not just the window's) names a class."""
        if self.labels is not None and class_names is not None:
            bad = [v for v in self.labels if v is not None and not 0 <= v < len(class_names)]
            if bad:
                raise ValueError(f"label {bad[0]} is out of range; expected 0..{len(class_names) - 1}")

    def check_projected(self, layer, quantity: str) -> int:
        """The layer row to project (default: the last layer's forward direction), checked with ``quantity``."""
        layers = self.dataset.layer_names
        layer = default_projection_row(layers) if layer is None else layer
        int_in(layer, "projection_layer", 0, len(layers) - 1)
        if quantity not in self.dataset.quantities:
            raise ValueError(
                f"projection_quantity {quantity!r} is not recorded; expected one of "
                f"{', '.join(self.dataset.quantities)}"
            )
        return layer

    # ---- the projection: fitted over the whole store, not the window ------------------------------------------------
    def fit_over_store(self, projection, layer: int, quantity: str):
        """The transformer for the trajectory, fitted on every step of ``quantity`` at ``layer`` in the store: None or
        "pca" → IncrementalPCA, fitted block by block; an unfitted transformer with ``partial_fit`` → fitted the same
        way; a fitted transformer → as it is."""
        ds = self.dataset
        if projection is None or (isinstance(projection, str) and projection == "pca"):
            return fit_projection_incremental(ds, None, layer=layer, quantity=quantity).transformer
        if isinstance(projection, str):
            raise ValueError(
                f"projection {projection!r} cannot be fitted over a data set out of core; give 'pca' "
                "(IncrementalPCA), a transformer with partial_fit, or one fitted beforehand"
            )
        if is_fitted(projection):
            return projection
        if not callable(getattr(projection, "partial_fit", None)):
            raise TypeError(
                f"projection {type(projection).__name__} has no partial_fit: over a data set it is "
                "fitted chunk by chunk; give one with partial_fit (e.g. IncrementalPCA) or fit it "
                "beforehand"
            )
        return fit_projection_incremental(ds, projection, layer=layer, quantity=quantity).transformer

    def fit(self, given, as_given: bool, recs, layer: int, quantity: str):
        """``Trajectory.fit`` over the store: (Projection, coordinates of ``recs``)."""
        if not isinstance(given, str) and is_fitted(given) and as_given:
            return fit_projection(given, stacked(recs, layer, quantity))  # used as is
        transformer = given if isinstance(given, str) else unfitted_copy(given)
        fitted = self.fit_over_store(transformer, layer, quantity)
        return fit_projection(fitted, stacked(recs, layer, quantity))

    # ---- every step of the store on the trajectory's map ---------------------------------------------------------------
    def classes(self) -> np.ndarray | None:
        """(N,) int32: every sequence's label (its class index; -1 unlabelled), or None without labels."""
        if self.labels is None:
            return None
        return np.array([-1 if v is None else int(v) for v in self.labels], dtype=np.int32)

    def place_store(self, projection, layer: int, quantity: str) -> dict:
        """``_dataset_traj`` (js/PROTOCOL.md): every step of every sequence of the store, ``quantity`` at layer row
        ``layer``, placed by ``projection`` (the fitted :class:`~lstm_widget._core.projection.fit.Projection` that
        places the window's ``traj``, so the window's points are among these). One pass over the store's chunks: only
        one chunk of states is held beside the float32 result. When the result would exceed
        :data:`DATASET_TRAJ_BYTES` nothing is read and ``note`` says why."""
        ds = self.dataset
        n, steps, dims = len(ds), ds.n_steps, int(projection.dims)
        classes = self.classes()
        size = steps * dims * 4 + (n + 1) * 4 + (0 if classes is None else n * 4)
        head = {"layer": int(layer), "quantity": quantity}
        if size > DATASET_TRAJ_BYTES:
            return {
                **head,
                "note": (
                    f"the data set's {steps:,} steps are not drawn: placing them would send {size / 2**20:.1f} MiB, "
                    f"more than the {DATASET_TRAJ_BYTES / 2**20:.1f} MiB cap (DATASET_TRAJ_BYTES)"
                ),
            }
        points = np.empty((steps, dims), dtype=np.float32)
        a = 0
        for block in ds.blocks(quantity, layer):
            b = a + len(block)
            points[a:b] = projection.transform(block)
            a = b
        if a != steps:
            raise ValueError(f"the store gave {a} steps of {quantity} at layer row {layer}; expected {steps}")
        return {
            **head,
            "points": WireArray(points, "float32"),
            "offsets": WireArray(ds.offsets.astype(np.int32), "int32"),
            "classes": None if classes is None else WireArray(classes, "int32"),
            "note": None,
        }


def _per_sequence(values, n: int, what: str) -> list | None:
    """``values`` given for every sequence of the store as a list of n entries (None stays None)."""
    if values is None:
        return None
    values = list(np.asarray(values, dtype=object).reshape(-1))
    if len(values) != n:
        raise ValueError(f"{what} has {len(values)} entries; expected one per sequence of the data set ({n})")
    return values
