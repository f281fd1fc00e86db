"""Recording a network as it learns: :class:`TrainingRecorder` records a fixed set of probe sequences with the
weights of the moment each time the user's training loop calls :meth:`TrainingRecorder.snapshot`, and keeps the
metrics (loss, accuracy, ...) given with it. Kept in memory, one :class:`Snapshot` per recorded epoch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .observe import record
from .recorder import Recording


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One recorded epoch: ``epoch``, the ``metrics`` given with it ({name: float}) and ``recordings`` (one
    :class:`Recording` per probe sequence)."""

    epoch: int
    metrics: dict
    recordings: list

    def __repr__(self) -> str:
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in self.metrics.items())
        return f"Snapshot(epoch {self.epoch}, {len(self.recordings)} recordings{', ' + metrics if metrics else ''})"


def _model_modes(model: torch.nn.Module) -> list[tuple[torch.nn.Module, bool]]:
    return [(m, m.training) for m in model.modules()]


class TrainingRecorder:
    """Records ``probe_sequences`` with the current weights of ``model`` whenever the training loop calls
    :meth:`snapshot` (or the recorder itself, as a callback: ``tr(epoch, loss=...)``).

    Each snapshot is exactly ``lw.record(model, probe_sequences, **record_options)`` (``lstm=``, ``head=``,
    ``task=``, ``forward=``, ``lengths=`` as there) run in eval mode (dropout off, batch norm on its running
    statistics), the mode of every submodule restored afterwards, and under no_grad — the training's graph and
    gradients are left alone. The probe sequences are recorded once when the recorder is made, so that a bad probe
    set or option fails here and not in the middle of training (that recording is not kept). ``labels`` (one per
    probe sequence) travel with the recorder for the views. ``every``: an epoch is recorded when ``epoch % every ==
    0``; other calls are skipped (the metrics too) unless ``force=True``. Snapshots are kept in memory
    (``snapshots``; ``epochs``, ``metrics``, :meth:`recordings`); a store on disk is not offered yet.
    """

    def __init__(self, model, probe_sequences, labels=None, every: int = 1, **record_options):
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be a positive integer (record every n-th epoch); got {every!r}")
        self.model = model
        self.probes = probe_sequences
        self.every = int(every)
        self._options = record_options
        trial = self._record()
        self._single = isinstance(trial, Recording)
        self._count = count = 1 if self._single else len(trial)
        if labels is not None:
            labels = np.asarray(labels)
            if labels.ndim != 1 or len(labels) != count:
                raise ValueError(f"labels has shape {labels.shape}; expected one label per probe sequence ({count},)")
        self.labels = labels
        self.snapshots: list[Snapshot] = []

    def _record(self):
        """The probe sequences recorded now, in eval mode, every submodule's mode restored."""
        modes = _model_modes(self.model) if isinstance(self.model, torch.nn.Module) else []
        try:
            if modes:
                self.model.eval()
            with torch.no_grad():
                return record(self.model, self.probes, **self._options)
        finally:
            for module, mode in modes:
                module.training = mode

    def snapshot(self, epoch: int, *, force: bool = False, **metrics) -> Snapshot | None:
        """Record the probe sequences now, as epoch ``epoch`` (an integer above the last one recorded), with
        ``metrics`` (numbers: ``loss=0.41, accuracy=0.87``). Returns the :class:`Snapshot`, or None when ``epoch`` is
        not a multiple of ``every`` (nothing recorded) and ``force`` is not set."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)):
            raise TypeError(f"epoch must be an integer; got {type(epoch).__name__} {epoch!r}")
        epoch = int(epoch)
        if self.snapshots and epoch <= self.snapshots[-1].epoch:
            raise ValueError(
                f"epoch {epoch} is not after the last one recorded ({self.snapshots[-1].epoch}); epochs must increase"
            )
        values = {}
        for name, value in metrics.items():
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                value = value.item()
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"metric {name!r} is a {type(value).__name__}; expected a number")
            values[name] = float(value)
        if epoch % self.every and not force:
            return None
        recs = self._record()
        recs = [recs] if self._single else recs
        snap = Snapshot(epoch=epoch, metrics=values, recordings=recs)
        self.snapshots.append(snap)
        return snap

    __call__ = snapshot

    @property
    def epochs(self) -> list[int]:
        """The recorded epochs, in order."""
        return [s.epoch for s in self.snapshots]

    @property
    def metrics(self) -> dict[str, np.ndarray]:
        """{name: (n_snapshots,) float array} aligned with :attr:`epochs`; NaN where a snapshot lacks the metric."""
        names = list(dict.fromkeys(k for s in self.snapshots for k in s.metrics))
        return {k: np.array([s.metrics.get(k, np.nan) for s in self.snapshots]) for k in names}

    def recordings(self, epoch: int) -> list[Recording] | Recording:
        """The recordings of the probe sequences at ``epoch`` (one Recording when a single sequence was given)."""
        for s in self.snapshots:
            if s.epoch == epoch:
                return s.recordings[0] if self._single else s.recordings
        raise KeyError(f"epoch {epoch!r} was not recorded; recorded epochs: {self.epochs}")

    def __len__(self) -> int:
        return len(self.snapshots)

    def __repr__(self) -> str:
        span = f"epochs {self.epochs[0]}..{self.epochs[-1]}" if self.snapshots else "no snapshots yet"
        return f"TrainingRecorder({self._count} probe sequences, every {self.every}, {len(self)} snapshots, {span})"
