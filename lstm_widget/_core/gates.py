"""Gate-order knowledge for every framework, in one place.

A recurrent layer stores its four LSTM gate blocks stacked along the first axis of W (input weights), U (recurrent
weights) and b, in an order that differs between frameworks. Everything that slices weights per gate asks this module.
Our own names follow PyTorch: i (input), f (forget), g (cell candidate), o (output).
"""

from __future__ import annotations

import numpy as np

#: Quantities recorded for every LSTM layer, in display order.
LSTM_QUANTITIES = ("h", "c", "i", "f", "g", "o")
#: The four gates in our naming.
LSTM_GATES = ("i", "f", "g", "o")

#: Order of the stacked gate blocks, per framework, in that framework's own names.
GATE_ORDER = {
    "pytorch": ("i", "f", "g", "o"),
    "keras": ("i", "f", "c", "o"),
    "onnx": ("i", "o", "f", "c"),
}

#: A framework's own gate name → ours (Keras and ONNX call the cell candidate "c").
_TO_OURS = {"i": "i", "f": "f", "g": "g", "c": "g", "o": "o"}


def split_gates(stacked, framework: str = "pytorch", axis: int = 0) -> dict:
    """Return {our gate name: block} for an array or tensor whose ``axis`` stacks the four gate blocks."""
    if framework not in GATE_ORDER:
        raise ValueError(f"unknown framework {framework!r}; expected one of {sorted(GATE_ORDER)}")
    n = stacked.shape[axis]
    if n % 4:
        raise ValueError(f"cannot split {n} rows into 4 gate blocks: axis {axis} must be a multiple of 4")
    size = n // 4
    index = [slice(None)] * stacked.ndim
    blocks = {}
    for k, name in enumerate(GATE_ORDER[framework]):
        index[axis] = slice(k * size, (k + 1) * size)
        blocks[_TO_OURS[name]] = stacked[tuple(index)]
    return blocks


def stack_gates(blocks: dict, framework: str = "pytorch"):
    """Inverse of :func:`split_gates`: stack {our gate name: block} in ``framework``'s order."""
    order = [_TO_OURS[name] for name in GATE_ORDER[framework]]
    first = blocks[order[0]]
    if isinstance(first, np.ndarray):
        return np.concatenate([blocks[k] for k in order], axis=0)
    import torch

    return torch.cat([blocks[k] for k in order], dim=0)
