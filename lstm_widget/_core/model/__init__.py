"""The model layer: a user's recurrent model as one description of its recurrent modules (weights per layer,
direction and gate, head, input preprocessing) and the maths that runs a layer from those weights. The gate order of
every framework lives in ``gates``."""

from .adapters import RecurrentSpec, describe
from .gates import (
    GATE_ORDER,
    GATES,
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
from .stack import LayerOptions, RecurrentStack
from .weights import GateWeights, gate_weights

__all__ = [
    "RecurrentSpec",
    "describe",
    "GATE_ORDER",
    "GATES",
    "GRU_GATE_ORDER",
    "GRU_GATES",
    "GRU_QUANTITIES",
    "LSTM_GATES",
    "LSTM_QUANTITIES",
    "QUANTITIES",
    "SIGMOID_GATES",
    "gate_order",
    "reorder_gates",
    "split_gates",
    "stack_gates",
    "LayerOptions",
    "RecurrentStack",
    "GateWeights",
    "gate_weights",
]
