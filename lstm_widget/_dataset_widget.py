"""The Explorer on a recorded data set: :meth:`Explorer.from_dataset` opens a store written by
:func:`lstm_widget.record_dataset` lazily. Only a window of ``window_size`` consecutive sequences is read from the store
and sent to the page; setting ``window_start`` (from Python or from the page) loads the next window. The trajectory's
projection is fitted incrementally (``partial_fit`` over the store's chunks, :func:`fit_projection_incremental`) on
every step of the whole data set, so that every window is placed on the same map.

Kept apart from ``_widget.py``: a subclass of :class:`~lstm_widget.Explorer` that overrides only how the projection
is fitted and adds the window traits.
"""

from __future__ import annotations

import numpy as np
import traitlets as tl

from ._core.recording.store import RecordedDataset, open_dataset
from ._core.model.gates import QUANTITIES
from ._core.projection.fit import fit_projection, fit_projection_incremental, is_fitted, unfitted_copy
from ._widget import Explorer, _stacked, default_projection_row

#: Sequences per window when ``window`` is not given.
DEFAULT_WINDOW = 32


def _per_sequence(values, n: int, what: str) -> list | None:
    """``values`` given for every sequence of the store as a list of n entries (None stays None)."""
    if values is None:
        return None
    values = list(np.asarray(values, dtype=object).reshape(-1))
    if len(values) != n:
        raise ValueError(f"{what} has {len(values)} entries; expected one per sequence of the data set ({n})")
    return values


def _int_arg(value, what: str, lo: int, hi: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"{what} must be an integer in {lo}..{hi}; got {value!r}")
    return int(value)


class DatasetExplorer(Explorer):
    """An :class:`~lstm_widget.Explorer` over a recorded data set; made by :meth:`Explorer.from_dataset`.

    ``window_start`` (synced): the store's index of the first sequence shown; ``window_size``: how many consecutive
    sequences a window holds (the last may hold fewer). ``sequence`` indexes the window, so the store's index of the
    sequence shown is ``window_start + sequence`` (:attr:`dataset_index`). ``_meta.dataset`` tells the page
    ``{n_sequences, start, size}``."""

    window_start = tl.Int(0, help="the data set's index of the first sequence in the window").tag(sync=True)
    window_size = tl.Int(DEFAULT_WINDOW, help="sequences per window (read only)").tag(sync=True)

    @classmethod
    def from_dataset(cls, dataset, labels=None, class_names=None, feature_names=None, sequence_names=None, *,
                     window: int = DEFAULT_WINDOW, start: int = 0, projection=None,
                     projection_layer: int | None = None, projection_quantity: str = "h", groups=None,
                     group_name: str = "group", wire_dtype: str = "float32", preload="auto",
                     **kwargs) -> "DatasetExplorer":
        ds = dataset if isinstance(dataset, RecordedDataset) else open_dataset(dataset)
        n = len(ds)
        missing = [q for q in QUANTITIES[ds.cell] if q not in ds.quantities]
        if missing:
            raise ValueError(f"the data set lacks {', '.join(missing)} (recorded with quantities="
                             f"{list(ds.quantities)}); the explorer shows every quantity of an {ds.cell.upper()} — "
                             "record the data set with quantities=None")
        window = _int_arg(window, "window", 1, 1 << 20)
        start = _int_arg(start, "start", 0, n - 1)
        labels = _per_sequence(labels, n, "labels")
        names = _per_sequence(sequence_names, n, "sequence_names")
        names = [f"sequence {k}" for k in range(n)] if names is None else [str(v) for v in names]
        group_values = None
        if groups is not None:
            group_values = _per_sequence(groups, n, "groups")
        # the trajectory: fitted on every step of the store before anything is read for the page
        layers = ds.layer_names
        layer = default_projection_row(layers) if projection_layer is None else projection_layer
        _int_arg(layer, "projection_layer", 0, len(layers) - 1)
        if projection_quantity not in ds.quantities:
            raise ValueError(f"projection_quantity {projection_quantity!r} is not recorded; expected one of "
                             f"{', '.join(ds.quantities)}")
        fitted = _fit_over_store(ds, projection, layer, projection_quantity)

        self = cls.__new__(cls)
        self._dataset = ds
        self._all_labels, self._all_names = labels, names
        self._all_groups = group_values
        stop = min(start + window, n)
        recs = ds.recordings(start, stop)
        self._setup(recs, None, None if labels is None else labels[start:stop], class_names, feature_names,
                    names[start:stop], fitted, wire_dtype, preload, {**kwargs, "window_start": start,
                                                                       "window_size": window},
                    projection_layer=layer, projection_quantity=projection_quantity,
                    groups=None if group_values is None else group_values[start:stop], group_name=group_name)
        if labels is not None and self._class_names is not None:  # every label of the store, not just the window's
            bad = [v for v in labels if v is not None and not 0 <= int(v) < len(self._class_names)]
            if bad:
                raise ValueError(f"label {bad[0]} is out of range; expected 0..{len(self._class_names) - 1}")
        self._meta = {**self._meta, "dataset": self._dataset_meta()}
        return self

    # ---- the window ---------------------------------------------------------------------------------------------
    @property
    def dataset(self) -> RecordedDataset:
        """The opened store (:func:`lstm_widget.open_dataset`)."""
        return self._dataset

    @property
    def dataset_index(self) -> int:
        """The data set's index of the sequence shown."""
        return self.window_start + self.sequence

    def _dataset_meta(self) -> dict:
        return {"n_sequences": len(self._dataset), "start": int(self.window_start), "size": int(self.window_size)}

    @tl.validate("window_start")
    def _check_window_start(self, proposal):
        start, n = proposal["value"], len(self._dataset)
        if isinstance(start, bool) or not 0 <= start < n:
            raise tl.TraitError(f"window_start {start} is out of range; expected 0..{n - 1}")
        return start

    @tl.validate("window_size")
    def _check_window_size(self, proposal):
        if getattr(self, "_recordings", None) and proposal["value"] != self.window_size:
            raise tl.TraitError("window_size is fixed when the explorer is made (Explorer.from_dataset(window=...))")
        return proposal["value"]

    @tl.observe("window_start")
    def _load_window(self, change):
        """Read the new window's sequences from the store and send them (and only them) to the page."""
        if not getattr(self, "_recordings", None):
            return  # still being made
        start = change["new"]
        stop = min(start + self.window_size, len(self._dataset))
        recs = self._dataset.recordings(start, stop)
        self._labels = [None] * len(recs) if self._all_labels is None else \
            [None if v is None else int(v) for v in self._all_labels[start:stop]]
        self._sequence_names = self._all_names[start:stop]
        if self._groups is not None:
            self._groups = (self._groups[0], [None if v is None else str(v) for v in self._all_groups[start:stop]])
        meta, traits = self._assemble(recs)
        meta["dataset"] = self._dataset_meta()  # window_start already holds the new start
        with self.hold_sync():
            self.t = 0  # valid in both windows
            self.sequence = 0
            self._recordings = recs
            self._meta = meta
            for name, value in traits.items():
                setattr(self, name, value)

    def show_sequence(self, k: int) -> None:
        """Show the data set's sequence ``k``: moves the window when it is elsewhere (windows start at multiples of
        ``window_size``)."""
        n = len(self._dataset)
        k = _int_arg(k, "sequence", 0, n - 1)
        if not self.window_start <= k < self.window_start + len(self._recordings):
            self.window_start = k // self.window_size * self.window_size
        self.sequence = k - self.window_start

    def stream(self, *args, **kwargs):
        raise RuntimeError("an explorer over a recorded data set shows the store's sequences; it cannot step new "
                           "ones (use Explorer(model, sequences) for that)")

    # ---- the projection: fitted over the whole store, not the window ------------------------------------------------
    def _fit_projection(self, recs, layer: int, quantity: str, given=None):
        ds = getattr(self, "_dataset", None)
        given = self._projection_given if given is None else given
        if ds is None:
            return super()._fit_projection(recs, layer, quantity, given)
        if not isinstance(given, str) and is_fitted(given) and (layer, quantity) == self._projection_given_for:
            return fit_projection(given, _stacked(recs, layer, quantity))  # used as is
        transformer = given if isinstance(given, str) else unfitted_copy(given)
        fitted = _fit_over_store(ds, transformer, layer, quantity)
        return fit_projection(fitted, _stacked(recs, layer, quantity))


def _fit_over_store(ds: RecordedDataset, projection, layer: int, quantity: str):
    """The transformer for the trajectory, fitted on every step of ``quantity`` at ``layer`` in the store: None or
    "pca" → IncrementalPCA, fitted block by block; an unfitted transformer with ``partial_fit`` → fitted the same
    way; a fitted transformer → as it is."""
    if projection is None or (isinstance(projection, str) and projection == "pca"):
        return fit_projection_incremental(ds, None, layer=layer, quantity=quantity).transformer
    if isinstance(projection, str):
        raise ValueError(f"projection {projection!r} cannot be fitted over a data set out of core; give 'pca' "
                         "(IncrementalPCA), a transformer with partial_fit, or one fitted beforehand")
    if is_fitted(projection):
        return projection
    if not callable(getattr(projection, "partial_fit", None)):
        raise TypeError(f"projection {type(projection).__name__} has no partial_fit: over a data set it is fitted "
                        "chunk by chunk; give one with partial_fit (e.g. IncrementalPCA) or fit it beforehand")
    return fit_projection_incremental(ds, projection, layer=layer, quantity=quantity).transformer
