"""Recording a network as it learns: :class:`TrainingRecorder` records a fixed set of probe sequences with the
weights of the moment each time the user's training loop calls :meth:`TrainingRecorder.snapshot`, and keeps the
metrics (loss, accuracy, ...) given with it. Kept in memory, one :class:`Snapshot` per recorded epoch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..model.adapters import _AUTO, describe
from ..validate import check_sequences
from .recorder import Recording, record


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
    """Records ``probe_sequences`` (one (T, D) array or a list, any lengths) with the current weights of ``model``
    whenever the training loop calls :meth:`snapshot` (or the recorder itself, as a callback: ``tr(epoch, loss=...)``).

    Each snapshot is exactly ``record(model, probe_sequences)`` run in eval mode (dropout off, batch norm on its
    running statistics), the mode of every submodule restored afterwards, and under no_grad — the training's graph and
    gradients are left alone. ``labels`` (one per probe sequence) travel with the recorder for the views. ``every``:
    an epoch is recorded when ``epoch % every == 0``; other calls are skipped (the metrics too) unless ``force=True``.
    ``lstm=`` / ``head=`` as for ``record``. Snapshots are kept in memory (``snapshots``; ``epochs``, ``metrics``,
    :meth:`recordings`).
    """

    def __init__(self, model, probe_sequences, labels=None, every: int = 1, *, lstm=None, head=_AUTO):
        spec = describe(model, lstm=lstm, head=head)
        seqs, was_list = check_sequences(probe_sequences, spec.raw_features)
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be a positive integer (record every n-th epoch); got {every!r}")
        if labels is not None:
            labels = np.asarray(labels)
            if labels.ndim != 1 or len(labels) != len(seqs):
                raise ValueError(f"labels has shape {labels.shape}; expected one label per probe sequence "
                                 f"({len(seqs)},)")
        self.model = model
        self.probes = seqs
        self.labels = labels
        self.every = int(every)
        self._single = not was_list
        self._lstm, self._head = lstm, head
        self.snapshots: list[Snapshot] = []

    def snapshot(self, epoch: int, *, force: bool = False, **metrics) -> Snapshot | None:
        """Record the probe sequences now, as epoch ``epoch`` (an integer above the last one recorded), with
        ``metrics`` (numbers: ``loss=0.41, accuracy=0.87``). Returns the :class:`Snapshot`, or None when ``epoch`` is
        not a multiple of ``every`` (nothing recorded) and ``force`` is not set."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)):
            raise TypeError(f"epoch must be an integer; got {type(epoch).__name__} {epoch!r}")
        epoch = int(epoch)
        if self.snapshots and epoch <= self.snapshots[-1].epoch:
            raise ValueError(f"epoch {epoch} is not after the last one recorded ({self.snapshots[-1].epoch}); epochs "
                             "must increase")
        values = {}
        for name, value in metrics.items():
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                value = value.item()
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"metric {name!r} is a {type(value).__name__}; expected a number")
            values[name] = float(value)
        if epoch % self.every and not force:
            return None
        modes = _model_modes(self.model)
        try:
            self.model.eval()
            recs = record(self.model, self.probes, lstm=self._lstm, head=self._head)
        finally:
            for module, mode in modes:
                module.training = mode
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
        return f"TrainingRecorder({len(self.probes)} probe sequences, every {self.every}, {len(self)} snapshots, {span})"
