"""Recording a network as it learns: :class:`TrainingRecorder` records a fixed set of probe sequences with the
weights of the moment each time the user's training loop calls :meth:`TrainingRecorder.snapshot`, and keeps the
metrics (loss, accuracy, ...) given with it. Kept in memory, one :class:`Snapshot` per recorded epoch — or, with
``path=``, written to a folder of zarr stores (one per snapshot) so that memory holds one snapshot at a time.

The folder (``path``)::

    lstm_widget.training.json   {format, version, epochs, metrics: {name: [value or null per epoch]}, labels,
                                 single, count, stores: [folder name per epoch]} — rewritten (temporary file, then
                                 renamed into place) after every snapshot, so it lists complete snapshots only
    epoch-000000/ ...           one store per snapshot in record_dataset's format (lw.open_dataset reads it):
                                 the probe sequences' recordings at that epoch, written with its manifest and renamed
                                 into place once complete
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .observe import record
from .recorder import Recording


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One recorded epoch: ``epoch``, the ``metrics`` given with it ({name: float}) and ``recordings`` (one
    :class:`Recording` per probe sequence; None in the recorder's list when the snapshots go to a store on disk —
    ``TrainingRecorder.recordings(epoch)`` reads them back)."""

    epoch: int
    metrics: dict
    recordings: list

    def __repr__(self) -> str:
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in self.metrics.items())
        held = "on disk" if self.recordings is None else f"{len(self.recordings)} recordings"
        return f"Snapshot(epoch {self.epoch}, {held}{', ' + metrics if metrics else ''})"


#: The folder's index file (``path=``) and its format name.
INDEX = "lstm_widget.training.json"
INDEX_FORMAT = "lstm_widget.training"


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
    (``snapshots``; ``epochs``, ``metrics``, :meth:`recordings`) unless ``path`` is given: then each snapshot's
    recordings are written to a zarr store under the folder ``path`` (a new or empty folder; see the module's
    documentation for its layout) and dropped, so memory holds one snapshot at a time; :meth:`recordings` reads an
    epoch back (``snapshots`` keep the epochs and metrics, with ``recordings`` None). A store holds float inputs and a
    classifier's (or no) head over one recurrent stage: other recordings (token ids, a regression head, an
    encoder–decoder) are refused here, with ``path`` — keep those in memory. Needs zarr (``pip install
    'lstm_widget[datasets]'``).
    """

    def __init__(self, model, probe_sequences, labels=None, every: int = 1, path=None, **record_options):
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
        self.path = None if path is None else self._open_folder(path, [trial] if self._single else trial)

    def _open_folder(self, path, trial: list) -> Path:
        """Check that the trial recordings can be stored and that ``path`` is a new or empty folder; make it."""
        from .store import _require, storable_reason

        _require("zarr", "TrainingRecorder(path=...)")
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a folder path (str or pathlib.Path); got {type(path).__name__}")
        for k, rec in enumerate(trial):
            why = storable_reason(rec)
            if why:
                raise ValueError(
                    f"path=: probe sequence {k}'s recording cannot be written to a store ({why}); "
                    "keep the snapshots in memory (path=None)"
                )
        p = Path(path)
        if p.exists() and (not p.is_dir() or any(p.iterdir())):
            raise FileExistsError(f"{p} exists and is not an empty folder; choose a new path for the snapshots")
        if not p.resolve().parent.is_dir():
            raise FileNotFoundError(f"the folder {p.resolve().parent} (where {p.name} would go) does not exist")
        p.mkdir(exist_ok=True)
        return p

    @staticmethod
    def _store_name(epoch: int) -> str:
        return f"epoch-{epoch:06d}" if epoch >= 0 else f"epoch-m{-epoch:06d}"

    def _write_index(self) -> None:
        """The folder's lstm_widget.training.json: every complete snapshot's epoch, metrics and store."""
        metrics = {k: [None if np.isnan(v) else float(v) for v in values] for k, values in self.metrics.items()}
        index = {
            "format": INDEX_FORMAT,
            "version": 1,
            "epochs": self.epochs,
            "metrics": metrics,
            "stores": [self._store_name(e) for e in self.epochs],
            "labels": None if self.labels is None else self.labels.tolist(),
            "single": self._single,
            "count": self._count,
        }
        tmp = self.path / f".{INDEX}.{uuid.uuid4().hex[:12]}.tmp"
        try:
            tmp.write_text(json.dumps(index), encoding="utf-8")
            os.replace(tmp, self.path / INDEX)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

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
        if self.path is None:
            snap = Snapshot(epoch=epoch, metrics=values, recordings=recs)
            self.snapshots.append(snap)
            return snap
        from .store import write_recordings

        write_recordings(recs, self.path / self._store_name(epoch), extra_attrs={"epoch": epoch, "metrics": values})
        self.snapshots.append(Snapshot(epoch=epoch, metrics=values, recordings=None))
        self._write_index()
        return Snapshot(epoch=epoch, metrics=values, recordings=recs)  # the caller's; the recorder keeps none

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
                recs = s.recordings
                if recs is None:
                    from .store import open_dataset

                    recs = open_dataset(self.path / self._store_name(s.epoch)).recordings()
                return recs[0] if self._single else recs
        raise KeyError(f"epoch {epoch!r} was not recorded; recorded epochs: {self.epochs}")

    def __len__(self) -> int:
        return len(self.snapshots)

    def __repr__(self) -> str:
        span = f"epochs {self.epochs[0]}..{self.epochs[-1]}" if self.snapshots else "no snapshots yet"
        where = "" if self.path is None else f", in {self.path}"
        return (
            f"TrainingRecorder({self._count} probe sequences, every {self.every}, {len(self)} snapshots, {span}{where})"
        )
