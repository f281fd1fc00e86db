"""An explorer over a network's training (:meth:`Explorer.from_training`): the probe sequences of a
:class:`~lstm_widget.TrainingRecorder` shown at one recorded epoch at a time, with an epoch axis beside time.

``epoch`` (synced) is the recorded epoch shown. Changing it — from Python, the page's epoch slider or its ``[`` /
``]`` keys — swaps the loaded recordings for that epoch's (read back from the recorder: memory or its store) and sends
them in one update (``hold_sync``), as a data set's next window is: every view (heatmap, gates, trajectory,
predictions, the Why section's ranking and patterns) then shows that epoch, and ``t``, ``sequence``, ``layer``,
``quantity`` and ``selected_units`` stay as they were. The trajectory uses one projection for every epoch, fitted on
the last snapshot (``projection_fit="last"``) or on the steps of all of them (``"all"``), so that the paths move as
the network learns instead of the map moving under them. ``_meta.training`` tells the page the epochs, the metrics
and the epoch the data is of (js/PROTOCOL.md); a standalone export carries every epoch's data (``_epoch_states``) and
the page swaps them itself.
"""

from __future__ import annotations

import numpy as np
import traitlets as tl

import lstm_widget

from .._core.projection.fit import fit_projection, is_fitted, unfitted_copy
from .._core.recording.training import TrainingRecorder
from .._core.validate import is_int
from .._wire import WireArray, check_wire_dtype
from .explorer import Explorer
from .options import ViewOptions
from .payload import Loaded, default_projection_row, stacked

PROJECTION_FITS = ("last", "all")


def _epoch_list(tr: TrainingRecorder) -> list[int]:
    if not isinstance(tr, TrainingRecorder):
        raise TypeError(f"from_training expects a lstm_widget.TrainingRecorder; got {type(tr).__name__}")
    if not tr.snapshots:
        raise ValueError("the TrainingRecorder has no snapshots yet; call tr.snapshot(epoch, ...) while training first")
    return tr.epochs


class TrainingExplorer(Explorer):
    """An :class:`~lstm_widget.Explorer` over the snapshots of a :class:`~lstm_widget.TrainingRecorder`; made by
    :meth:`Explorer.from_training`. ``epoch`` (synced): the recorded epoch shown — one of :attr:`epochs` (an epoch
    number as given to ``tr.snapshot``, not an index); any other value is refused. :meth:`step_epoch` moves by
    recorded epochs. The epochs are those recorded when the explorer was made."""

    epoch = tl.Int(0, help="the recorded epoch shown (one of the recorder's epochs)").tag(sync=True)

    @classmethod
    def make(
        cls,
        tr: TrainingRecorder,
        labels=None,
        class_names=None,
        feature_names=None,
        sequence_names=None,
        *,
        epoch=None,
        projection_fit: str = "last",
        **options,
    ) -> TrainingExplorer:
        epochs = _epoch_list(tr)
        if projection_fit not in PROJECTION_FITS:
            raise ValueError(f"projection_fit must be 'last' or 'all'; got {projection_fit!r}")
        epoch = epochs[-1] if epoch is None else epoch
        if isinstance(epoch, bool) or not is_int(epoch) or int(epoch) not in epochs:
            raise ValueError(f"epoch {epoch!r} was not recorded; expected one of {epochs}")
        epoch = int(epoch)
        if labels is None and tr.labels is not None:
            labels = tr.labels
        opts, traits = ViewOptions.split(
            options, labels=labels, class_names=class_names, feature_names=feature_names, sequence_names=sequence_names
        )
        self = cls.__new__(cls)
        self._training, self._epochs, self._projection_fit = tr, list(epochs), projection_fit
        self._metrics = {k: [None if np.isnan(v) else float(v) for v in vals] for k, vals in tr.metrics.items()}
        self._shown_epoch = epoch
        recs = self._recordings_of(epoch)
        loaded = Loaded(recs, None, opts, traits.get("quantity", "h"))
        self._start(loaded, opts, {**traits, "epoch": epoch})
        self._trajectory.fit_store = self._fit_over_epochs  # a refit (another layer, set_projection) spans epochs too
        return self

    def _start(self, loaded, opts, traits, pager=None) -> None:
        # the projection: fitted on the last (or every) epoch before the explorer is built, then used as is
        self._loaded = loaded
        layer = default_projection_row(loaded.layer_names) if opts.projection_layer is None else opts.projection_layer
        self._check_projected(layer, opts.projection_quantity, ValueError)
        fitted = self._fitted_over_epochs(opts.projection, layer, opts.projection_quantity)
        opts.projection, opts.projection_layer = "pca" if fitted is None else fitted, layer
        super()._start(loaded, opts, traits, pager)

    # ---- the epochs -----------------------------------------------------------------------------------------------
    @property
    def training(self) -> TrainingRecorder:
        """The recorder whose snapshots are shown."""
        return self._training

    @property
    def epochs(self) -> list[int]:
        """The recorded epochs the explorer shows, in order."""
        return list(self._epochs)

    @property
    def metrics(self) -> dict[str, np.ndarray]:
        """{name: (epochs,) float array} aligned with :attr:`epochs` (NaN where an epoch lacks the metric)."""
        return {k: np.array([np.nan if v is None else v for v in vals]) for k, vals in self._metrics.items()}

    def step_epoch(self, n: int = 1) -> int:
        """Move ``n`` recorded epochs (clamped to the first and last) and return the epoch shown."""
        k = self._epochs.index(self.epoch) + int(n)
        self.epoch = self._epochs[min(max(k, 0), len(self._epochs) - 1)]
        return self.epoch

    def _recordings_of(self, epoch: int) -> list:
        recs = self._training.recordings(epoch)
        return list(recs) if isinstance(recs, list) else [recs]

    def _fitted_over_epochs(self, given, layer: int, quantity: str):
        """``given`` (a name, or a transformer: a fitted one is refitted on a copy) fitted on ``quantity`` at ``layer``
        over the last epoch's steps or every epoch's (``projection_fit``); None when there is too little to fit."""
        fit_epochs = self._epochs if self._projection_fit == "all" else self._epochs[-1:]
        states = np.concatenate([stacked(self._recordings_of(e), layer, quantity) for e in fit_epochs], axis=0)
        transformer = given if isinstance(given, str) or not is_fitted(given) else unfitted_copy(given)
        return fit_projection(transformer, states)[0].transformer

    def _fit_over_epochs(self, given, as_given: bool, recs, layer: int, quantity: str):
        """``Trajectory.fit`` over the epochs (a refit for another layer or quantity, or ``set_projection``):
        (Projection, coordinates of ``recs``). A fitted transformer given for this layer and quantity is used as is."""
        fitted = given if not isinstance(given, str) and is_fitted(given) and as_given else None
        if fitted is None:
            fitted = self._fitted_over_epochs(given, layer, quantity)
        return fit_projection("pca" if fitted is None else fitted, stacked(recs, layer, quantity))

    def _training_meta(self, epoch: int) -> dict:
        """``_meta.training`` (js/PROTOCOL.md): the epochs, the metrics per epoch and the epoch the data is of."""
        return {
            "epochs": list(self._epochs),
            "metrics": {k: list(v) for k, v in self._metrics.items()},
            "epoch": int(epoch),
            "projection_fit": self._projection_fit,
        }

    def _assemble(self, content=None, traj=None, window_start=None) -> tuple[dict, dict]:
        meta, traits = super()._assemble(content, traj, window_start)
        meta["training"] = self._training_meta(self._shown_epoch)
        return meta, traits

    @tl.validate("epoch")
    def _check_epoch(self, proposal):
        epoch = proposal["value"]
        if getattr(self, "_ready", False) and epoch not in self._epochs:
            self._refuse_page("epoch", self.epoch)
            raise tl.TraitError(f"epoch {epoch} was not recorded; expected one of {self._epochs}")
        return epoch

    @tl.observe("epoch")
    def _load_epoch(self, change):
        """Swap the loaded recordings for the new epoch's and send them in one update; the cursor, sequence, layer,
        quantity and units stay; the Why section's ranking and pattern search are redone on the new epoch."""
        if not self._ready or change["new"] == self._shown_epoch:
            return
        loaded = self._loaded
        recs = self._recordings_of(change["new"])
        content = (recs, loaded.labels, loaded.sequence_names, None if loaded.groups is None else loaded.groups[1])
        self._shown_epoch = change["new"]
        meta, traits = self._assemble(content)
        why = self._why
        with self.hold_sync():
            loaded.replace(*content)
            self._meta = meta
            for name, value in traits.items():
                setattr(self, name, value)
            if self.comparison:
                self.clear_comparison()  # what it compared was the previous epoch's
            if self.pattern_query:
                why.patterns, self._patterns = why.patterns_for(self.pattern_query, self._shown())
            if self.why_open:
                self._update_ranking(force=True)

    def stream(self, *args, **kwargs):
        raise RuntimeError(
            "an explorer over training snapshots shows the recorder's probe sequences at each epoch; it cannot step "
            "new ones (use Explorer(model, sequences) for that)"
        )

    # ---- the export: every epoch's data, swapped by the page itself --------------------------------------------------
    def _export_extra(self, state: dict, index: list[int], dtype: str, epochs=None) -> tuple[dict, str]:
        """``state`` with ``_epoch_states`` ({epoch: {_meta, _arrays, _data_<q>}}) for the exported epochs, and a
        note on which ones. Every epoch costs about what the shown one does: when all of them would pass
        ``lstm_widget.PAGE_BYTES_LIMIT``, evenly spaced epochs (the first, the shown and the last among them) that
        fit are exported and the note says which."""
        chosen = self._export_epochs(epochs)
        per_epoch = _state_bytes(state)
        limit = lstm_widget.PAGE_BYTES_LIMIT
        fit = max(1, int(limit // max(per_epoch, 1)))
        note = ""
        if len(chosen) > fit:
            if epochs is not None:
                raise ValueError(
                    f"the {len(chosen)} epochs asked for would be about {len(chosen) * per_epoch / 2**20:.1f} MiB; the "
                    f"page takes at most {limit / 2**20:.1f} MiB (lstm_widget.PAGE_BYTES_LIMIT) — export at most {fit} "
                    "epochs, fewer sequences, or wire_dtype='float16'"
                )
            picks = sorted({round(k) for k in np.linspace(0, len(chosen) - 1, fit)} | {len(chosen) - 1})
            kept = [chosen[k] for k in picks]
            if self.epoch not in kept:
                kept = sorted(kept[:-2] + [self.epoch, kept[-1]]) if len(kept) > 1 else [self.epoch]
            note = f" The page size limit kept {len(kept)} of {len(chosen)} epochs: {', '.join(map(str, kept))}."
            chosen = kept
        if self.epoch not in chosen:
            chosen = sorted(set(chosen) | {self.epoch})
        loaded, trajectory = self._loaded, self._trajectory
        states = {}
        for e in chosen:
            recs = self._recordings_of(e)
            meta, traits = loaded.assemble(
                trajectory.fitted,
                trajectory.key,
                recs=[recs[i] for i in index],
                index=index,
                wire_dtype=dtype,
                load=loaded.quantities,
            )
            meta["training"] = {**self._training_meta(e), "epochs": chosen, "metrics": self._metrics_of(chosen)}
            states[str(e)] = {"_meta": meta, **traits}
        state = {**state, "_epoch_states": states, "epoch": int(self.epoch)}
        state["_meta"] = states[str(self.epoch)]["_meta"]
        return state, f" {len(chosen)} epochs ({chosen[0]}..{chosen[-1]}).{note}"

    def _metrics_of(self, chosen: list[int]) -> dict:
        pos = [self._epochs.index(e) for e in chosen]
        return {k: [v[p] for p in pos] for k, v in self._metrics.items()}

    def _export_epochs(self, epochs) -> list[int]:
        if epochs is None:
            return list(self._epochs)
        items = [epochs] if np.isscalar(epochs) else list(epochs)
        bad = [e for e in items if isinstance(e, bool) or not is_int(e) or int(e) not in self._epochs]
        if bad or not items:
            raise ValueError(f"epochs {epochs!r}: {bad[0] if bad else 'none'} was not recorded; expected some of "
                             f"{self._epochs}")  # fmt: skip
        return sorted({int(e) for e in items})

    def save_html(
        self,
        path,
        sequences=None,
        *,
        epochs=None,
        wire_dtype: str | None = None,
        title: str = "LSTM explorer",
        quiet: bool = False,
    ) -> int:
        """As :meth:`Explorer.save_html`, with the epochs: every recorded epoch (or ``epochs``, some of them) is in
        the file and the page's epoch slider swaps them with no kernel. When all of them would pass
        ``lstm_widget.PAGE_BYTES_LIMIT``, evenly spaced epochs that fit are written (the first, the shown and the last
        among them) and the printed line and the page's note say which; ``epochs`` given and too many: a ValueError."""
        if wire_dtype is not None:
            check_wire_dtype(wire_dtype)
        self._export_epochs(epochs)  # a bad list fails before anything is written
        self._export_epochs_arg = epochs
        try:
            return super().save_html(path, sequences, wire_dtype=wire_dtype, title=title, quiet=quiet)
        finally:
            self._export_epochs_arg = None

    def _export_hook(self, state: dict, index: list[int], dtype: str) -> tuple[dict, str]:
        return self._export_extra(state, index, dtype, getattr(self, "_export_epochs_arg", None))


def _state_bytes(state: dict) -> int:
    """Bytes of the arrays in an export's state (one epoch's data)."""
    total = 0
    for value in state.values():
        if isinstance(value, WireArray):
            total += value.nbytes
        elif isinstance(value, dict):
            total += _state_bytes(value)
    return total
