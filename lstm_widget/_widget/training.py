"""An explorer over a network's training (:meth:`Explorer.from_training`), kernel side: :class:`TrainingEpochs` holds
a :class:`~lstm_widget.TrainingRecorder` and what the explorer needs of it — the epochs, the metrics, one epoch's
recordings, the projection fitted over the epochs and the export's per-epoch state. The widget class
(``TrainingExplorer``, in explorer.py beside ``DatasetExplorer``) owns the ``epoch`` trait and its observer.
The probe sequences are shown at one recorded epoch at a time, with an epoch axis beside time.

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

import lstm_widget

from .._core.projection.fit import fit_projection, is_fitted, unfitted_copy
from .._core.recording.training import TrainingRecorder
from .._core.validate import is_int
from .._wire import WireArray
from .payload import stacked

PROJECTION_FITS = ("last", "all")


class TrainingEpochs:
    """The snapshots of ``tr`` as an explorer shows them: ``epochs`` (those recorded when it was made), ``metrics``
    ({name: [float or None per epoch]}) and ``projection_fit`` ("last" or "all": what the trajectory's projection is
    fitted on)."""

    def __init__(self, tr: TrainingRecorder, projection_fit: str = "last"):
        if not isinstance(tr, TrainingRecorder):
            raise TypeError(f"from_training expects a lstm_widget.TrainingRecorder; got {type(tr).__name__}")
        if not tr.snapshots:
            raise ValueError(
                "the TrainingRecorder has no snapshots yet; call tr.snapshot(epoch, ...) while training first"
            )
        if projection_fit not in PROJECTION_FITS:
            raise ValueError(f"projection_fit must be 'last' or 'all'; got {projection_fit!r}")
        self.recorder, self.epochs, self.projection_fit = tr, list(tr.epochs), projection_fit
        self.metrics = {k: [None if np.isnan(v) else float(v) for v in vals] for k, vals in tr.metrics.items()}

    def check(self, epoch, error=ValueError) -> int:
        """``epoch`` as an int when it is one of :attr:`epochs`, else ``error``."""
        if isinstance(epoch, bool) or not is_int(epoch) or int(epoch) not in self.epochs:
            raise error(f"epoch {epoch!r} was not recorded; expected one of {self.epochs}")
        return int(epoch)

    def recordings(self, epoch: int) -> list:
        """The probe sequences' recordings at ``epoch`` (read from the recorder: memory or its store)."""
        recs = self.recorder.recordings(epoch)
        return list(recs) if isinstance(recs, list) else [recs]

    def fitted(self, given, layer: int, quantity: str):
        """``given`` (a name, or a transformer: a fitted one is refitted on a copy) fitted on ``quantity`` at ``layer``
        over the last epoch's steps or every epoch's (``projection_fit``); None when there is too little to fit."""
        fit_epochs = self.epochs if self.projection_fit == "all" else self.epochs[-1:]
        states = np.concatenate([stacked(self.recordings(e), layer, quantity) for e in fit_epochs], axis=0)
        transformer = given if isinstance(given, str) or not is_fitted(given) else unfitted_copy(given)
        return fit_projection(transformer, states)[0].transformer

    def fit(self, given, as_given: bool, recs, layer: int, quantity: str):
        """``Trajectory.fit`` over the epochs (a refit for another layer or quantity, or ``set_projection``):
        (Projection, coordinates of ``recs``). A fitted transformer given for this layer and quantity is used as is."""
        fitted = given if not isinstance(given, str) and is_fitted(given) and as_given else None
        if fitted is None:
            fitted = self.fitted(given, layer, quantity)
        return fit_projection("pca" if fitted is None else fitted, stacked(recs, layer, quantity))

    def meta(self, epoch: int, chosen: list[int] | None = None) -> dict:
        """``_meta.training`` (js/PROTOCOL.md): the epochs (``chosen``: an export's), their metrics and the epoch the
        data is of."""
        epochs = self.epochs if chosen is None else chosen
        pos = [self.epochs.index(e) for e in epochs]
        return {
            "epochs": list(epochs),
            "metrics": {k: [v[p] for p in pos] for k, v in self.metrics.items()},
            "epoch": int(epoch),
            "projection_fit": self.projection_fit,
        }

    def export_choice(self, epochs) -> list[int]:
        """The epochs an export asks for (None: all), checked and sorted."""
        if epochs is None:
            return list(self.epochs)
        items = [epochs] if np.isscalar(epochs) else list(epochs)
        bad = [e for e in items if isinstance(e, bool) or not is_int(e) or int(e) not in self.epochs]
        if bad or not items:
            raise ValueError(f"epochs {epochs!r}: {bad[0] if bad else 'none'} was not recorded; expected some of "
                             f"{self.epochs}")  # fmt: skip
        return sorted({int(e) for e in items})

    def export_state(self, state: dict, index: list[int], dtype: str, loaded, trajectory, shown: int, epochs=None):
        """``state`` (an export of the shown epoch) with ``_epoch_states`` ({epoch: {_meta, _arrays, _data_<q>}}) for
        the exported epochs, and a note on which ones. Every epoch costs about what the shown one does: when all of
        them would pass ``lstm_widget.PAGE_BYTES_LIMIT``, the epochs :func:`spread_epochs` picks are exported and the
        note says which; ``epochs`` given and too many: a ValueError. The shown epoch's data traits are in
        ``_epoch_states`` only (the page takes them from there, js/src/offline.js), not at the top level too."""
        chosen = self.export_choice(epochs)
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
            kept = spread_epochs(chosen, shown, fit)
            note = f" The page size limit kept {len(kept)} of {len(chosen)} epochs: {', '.join(map(str, kept))}."
            chosen = kept
        if shown not in chosen:
            chosen = sorted(set(chosen) | {shown})
        states = {}
        for e in chosen:
            recs = self.recordings(e)
            meta, traits = loaded.assemble(
                trajectory.fitted,
                trajectory.key,
                recs=[recs[i] for i in index],
                index=index,
                wire_dtype=dtype,
                load=loaded.quantities,
            )
            meta["training"] = self.meta(e, chosen)
            states[str(e)] = {"_meta": meta, **traits}
        state = {k: v for k, v in state.items() if k == "_meta" or k not in states[str(shown)]}
        state.update({"_epoch_states": states, "epoch": int(shown), "_meta": states[str(shown)]["_meta"]})
        return state, f" {len(chosen)} epochs ({chosen[0]}..{chosen[-1]}).{note}"


def spread_epochs(chosen: list[int], shown: int, fit: int) -> list[int]:
    """The epochs of ``chosen`` (sorted) kept when only ``fit`` of them fit: with room for 3 or more, evenly spaced
    ones that include the first, the shown and the last (the shown one replaces the pick nearest to it); with room
    for 2, the shown one and the first (the last when the shown one is the first); with room for 1, the shown one."""
    if fit >= len(chosen):
        return list(chosen)
    first, last = chosen[0], chosen[-1]
    if fit <= 1:
        return [shown]
    if fit == 2:
        return sorted({shown, last if shown == first else first})
    kept = [chosen[round(k)] for k in np.linspace(0, len(chosen) - 1, fit)]
    if shown not in kept:
        inner = range(1, len(kept) - 1)
        k = min(inner, key=lambda j: abs(chosen.index(kept[j]) - chosen.index(shown)))
        kept[k] = shown
    return sorted(set(kept))


def _state_bytes(state: dict) -> int:
    """Bytes of the arrays in an export's state (one epoch's data)."""
    total = 0
    for value in state.values():
        if isinstance(value, WireArray):
            total += value.nbytes
        elif isinstance(value, dict):
            total += _state_bytes(value)
    return total
