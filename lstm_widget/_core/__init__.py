"""Kernel core: torch + numpy only. Adapters, recording, stepping, gate statistics, Keras / ONNX import, any layer's
activations through forward hooks, and the channel-grid maths. Imports nothing of the widget (keras and onnx are
imported only when their importers are called)."""

from .adapters import RecurrentSpec, describe
from .dataset import RecordedDataset, open_dataset, record_dataset
from .attribution import Influence, InfluenceMap, influence, influence_all
from .channels import (
    channel_change,
    channel_difference,
    channel_maps,
    grid_shape,
    layer_choices,
    normalize_channels,
    rank_by_difference,
    rank_channels,
    resize_bilinear,
    strongest_channel,
    tile_channels,
)
from .gates import (
    GATE_ORDER,
    GRU_GATE_ORDER,
    GRU_GATES,
    GRU_QUANTITIES,
    LSTM_GATES,
    LSTM_QUANTITIES,
    QUANTITIES,
    SIGMOID_GATES,
    gate_order,
    reorder_gates,
    split_gates,
    stack_gates,
)
from .hooks import Activations, activations, hook_names
from .interventions import Intervention
from .keras_import import from_keras
from .onnx_import import from_onnx
from .patterns import Match, PatternMatches, match_pattern
from .projection import fit_projection_incremental
from .ranking import UnitRanking, rank_units
from .recording import Frame, Recording, record
from .saturation import GateSaturation, gate_saturation
from .weights import GateWeights, gate_weights
from .stack import LayerOptions, RecurrentStack
from .stepper import Stepper

__all__ = [
    "GATE_ORDER",
    "GRU_GATE_ORDER",
    "GRU_GATES",
    "GRU_QUANTITIES",
    "LSTM_GATES",
    "LSTM_QUANTITIES",
    "QUANTITIES",
    "SIGMOID_GATES",
    "Activations",
    "Frame",
    "GateSaturation",
    "GateWeights",
    "Influence",
    "InfluenceMap",
    "Intervention",
    "LayerOptions",
    "Match",
    "PatternMatches",
    "RecordedDataset",
    "Recording",
    "RecurrentSpec",
    "RecurrentStack",
    "Stepper",
    "UnitRanking",
    "activations",
    "channel_change",
    "channel_difference",
    "channel_maps",
    "describe",
    "from_keras",
    "from_onnx",
    "gate_saturation",
    "gate_weights",
    "gate_order",
    "influence",
    "influence_all",
    "match_pattern",
    "rank_units",
    "grid_shape",
    "hook_names",
    "layer_choices",
    "normalize_channels",
    "rank_by_difference",
    "rank_channels",
    "record",
    "record_dataset",
    "open_dataset",
    "fit_projection_incremental",
    "resize_bilinear",
    "reorder_gates",
    "split_gates",
    "stack_gates",
    "strongest_channel",
    "tile_channels",
]
