"""lstm_widget: see inside recurrent networks, in a notebook.

Kernel core (record, Stepper, gate_saturation, gate_weights) works on any torch LSTM or GRU, and on Keras and ONNX
models brought in by from_keras / from_onnx; ``Explorer`` shows a live, linked view of the recordings;
``DenoisingAutoencoder`` (a scikit-learn transformer) maps hidden states to 2-D/3-D trajectories. ``activations``
returns any layer's outputs of any torch model through forward hooks; ``ChannelGrid`` shows a conv layer's channels.
``datasets`` and ``models`` hold the bundled sample data and trained networks; ``record_dataset`` / ``open_dataset``
are recorded data-set stores on disk.

The widget, the autoencoder (scikit-learn), the bundled data and the bqplot figures load on first use, not on import.
"""

import importlib

from ._core.analysis import (
    FixedPoints,
    GateSaturation,
    Influence,
    InfluenceMap,
    PatternMatches,
    UnitRanking,
    fixed_points,
    gate_saturation,
    influence,
    influence_all,
    match_pattern,
    rank_units,
)
from ._core.importers import from_keras, from_onnx
from ._core.model import GATE_ORDER, GRU_GATE_ORDER, GateWeights, describe, gate_order, gate_weights
from ._core.projection import fit_projection_incremental
from ._core.recording import (
    Activations,
    Frame,
    Intervention,
    RecordedDataset,
    Recording,
    RecordingMismatch,
    Stage,
    Stepper,
    TrainingRecorder,
    activations,
    hook_names,
    open_dataset,
    record,
    record_dataset,
)

__version__ = "0.1.0"

#: The most bytes one update may send to the page (or one export may embed): above it the explorer refuses with a
#: ValueError that says what to change, rather than freezing the browser tab. Read at each update, so that
#: ``lstm_widget.PAGE_BYTES_LIMIT = n`` takes effect at once; raise it at your own risk.
PAGE_BYTES_LIMIT = 512 * 2**20

#: About how many bytes ``Explorer.save_html`` writes when it is not told which sequences to export: the current
#: sequence and as many of its neighbours as fit (``sequences="all"`` exports every one). Read at each call.
EXPORT_BUDGET = 4 * 2**20


def _available_memory() -> int:
    """Bytes of memory available now: /proc/meminfo's MemAvailable (Linux), else free pages × page size
    (``os.sysconf``), else 8 GiB when neither can be read."""
    import os

    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return 8 * 2**30


#: The most bytes of memory one ``Explorer(model, sequences)`` (or ``lstm-widget export``) may need for its
#: recordings, estimated from the sequences' lengths before anything is recorded (steps × units × quantities × layer
#: rows × 4 bytes, plus the inputs): above it the call is refused with what to change. Half of the memory available
#: when lstm_widget was imported; read at each call, so that ``lstm_widget.MEMORY_BUDGET = n`` takes effect at once.
MEMORY_BUDGET = _available_memory() // 2

#: Loaded on first use: name → (module, attribute or None for the module itself).
_LAZY = {
    "Explorer": ("._widget.explorer", "Explorer"),
    "ChannelGrid": ("._widget.channels", "ChannelGrid"),
    "DenoisingAutoencoder": ("._core.projection.autoencoder", "DenoisingAutoencoder"),
    "datasets": (".datasets", None),
    "models": (".models", None),
    "plots": (".plots", None),
    "vision": (".vision", None),
}

__all__ = [
    # recording
    "record",
    "Recording",
    "RecordingMismatch",
    "Stage",
    "Frame",
    "Stepper",
    "Intervention",
    "activations",
    "Activations",
    "hook_names",
    "record_dataset",
    "open_dataset",
    "RecordedDataset",
    "TrainingRecorder",
    # the model layer and importers
    "describe",
    "from_keras",
    "from_onnx",
    "gate_weights",
    "GateWeights",
    "gate_order",
    "GATE_ORDER",
    "GRU_GATE_ORDER",
    # analysis
    "gate_saturation",
    "GateSaturation",
    "influence",
    "influence_all",
    "Influence",
    "InfluenceMap",
    "rank_units",
    "UnitRanking",
    "match_pattern",
    "PatternMatches",
    "fixed_points",
    "FixedPoints",
    # projections
    "fit_projection_incremental",
    "DenoisingAutoencoder",
    # widgets and what goes with them
    "Explorer",
    "ChannelGrid",
    "PAGE_BYTES_LIMIT",
    "EXPORT_BUDGET",
    "MEMORY_BUDGET",
    "plots",
    "vision",
    # bundled sample data and trained networks
    "datasets",
    "models",
    "__version__",
]


def __getattr__(name):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        mod = importlib.import_module(module, __name__)
        return mod if attribute is None else getattr(mod, attribute)
    raise AttributeError(f"module 'lstm_widget' has no attribute {name!r}")


def __dir__():
    """The public API only (what tab completion offers), the lazily loaded names included."""
    return sorted(__all__)
