"""Kernel core: torch + numpy only. Adapters, recording, stepping. Imports nothing of the widget."""

from .adapters import RecurrentSpec, describe
from .gates import GATE_ORDER, LSTM_GATES, LSTM_QUANTITIES, split_gates, stack_gates
from .recording import Frame, Recording, record
from .stepper import Stepper

__all__ = [
    "GATE_ORDER",
    "LSTM_GATES",
    "LSTM_QUANTITIES",
    "Frame",
    "Recording",
    "RecurrentSpec",
    "Stepper",
    "describe",
    "record",
    "split_gates",
    "stack_gates",
]
