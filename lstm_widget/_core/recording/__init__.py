"""Recording: every quantity of whole sequences (``record``, which observes the model's own forward with hooks on
every recurrent module it calls and recomputes each, vectorised), one step at a time (``Stepper``), with
interventions on the state, across training (``TrainingRecorder``), any layer's activations through forward hooks,
and recorded data-set stores on disk (zarr, imported only when a store is used)."""

from .hooks import Activations, activations, hook_names
from .interventions import Intervention
from .observe import RecordingMismatch, record
from .recorder import Frame, Recording, Stage
from .stepper import Stepper
from .store import RecordedDataset, open_dataset, record_dataset
from .training import Snapshot, TrainingRecorder

__all__ = [
    "Activations",
    "activations",
    "hook_names",
    "Intervention",
    "Frame",
    "Recording",
    "RecordingMismatch",
    "Stage",
    "record",
    "Stepper",
    "RecordedDataset",
    "open_dataset",
    "record_dataset",
    "Snapshot",
    "TrainingRecorder",
]
