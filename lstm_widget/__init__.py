"""lstm_widget: see inside recurrent networks, in a notebook.

Kernel core (record, Stepper, gate_saturation, gate_weights) works on any torch LSTM or GRU, and on Keras and ONNX
models brought in by from_keras / from_onnx; ``Explorer`` shows a live, linked view of the recordings;
``DenoisingAutoencoder`` (a scikit-learn transformer) maps hidden states to 2-D/3-D trajectories. ``activations``
returns any layer's outputs of any torch model through forward hooks; ``ChannelGrid`` shows a conv layer's channels.
"""

from ._core import (
    Activations,
    Frame,
    Recording,
    Stepper,
    activations,
    describe,
    from_keras,
    from_onnx,
    gate_saturation,
    gate_weights,
    GateWeights,
    hook_names,
    record,
)
from ._core import Influence, InfluenceMap, Intervention, PatternMatches, UnitRanking  # why it predicted that
from ._core import influence, influence_all, match_pattern, rank_units
from ._core import RecordedDataset, fit_projection_incremental, open_dataset, record_dataset  # data sets out of core

__version__ = "0.1.0"

__all__ = [
    "Explorer", "Frame", "Recording", "Stepper", "describe", "record", "gate_saturation", "from_keras", "from_onnx",
    "ChannelGrid", "Activations", "activations", "hook_names", "DenoisingAutoencoder", "datasets", "models", "plots", "__version__",
    "influence", "influence_all", "Influence", "InfluenceMap", "Intervention", "rank_units", "UnitRanking",
    "match_pattern", "PatternMatches",
    "gate_weights", "GateWeights",
    "record_dataset", "open_dataset", "RecordedDataset", "fit_projection_incremental",
]


def __getattr__(name):  # the widget and the bundled data load on first use, not on import
    if name == "Explorer":
        from ._widget import Explorer

        return Explorer
    if name == "ChannelGrid":
        from ._channels_widget import ChannelGrid

        return ChannelGrid
    if name == "DenoisingAutoencoder":  # imports scikit-learn: on first use only
        from ._core.autoencoder import DenoisingAutoencoder

        return DenoisingAutoencoder
    if name in ("datasets", "models", "plots"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lstm_widget' has no attribute {name!r}")
