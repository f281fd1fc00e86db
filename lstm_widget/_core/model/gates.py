"""Gate-order knowledge for every framework and cell kind, in one place.

A recurrent layer stores its gate blocks stacked along one axis of W (input weights), U (recurrent weights) and b, in an
order that differs between frameworks: four blocks for an LSTM, three for a GRU. Everything that slices weights per
gate asks this module. Our own names follow PyTorch: LSTM i (input), f (forget), g (cell candidate), o (output); GRU
r (reset), z (update), n (candidate).
"""

from __future__ import annotations

import numpy as np

#: Quantities recorded for every LSTM layer, in display order.
LSTM_QUANTITIES = ("h", "c", "i", "f", "g", "o")
#: The four LSTM gates in our naming.
LSTM_GATES = ("i", "f", "g", "o")
#: Quantities recorded for every GRU layer, in display order (a GRU keeps no cell state c).
GRU_QUANTITIES = ("h", "r", "z", "n")
#: The three GRU gates in our naming.
GRU_GATES = ("r", "z", "n")

#: Per cell kind: the quantities recorded, the gate blocks, and the gates squashed to [0, 1] (those whose saturation
#: is counted; g and n are tanh candidates in [-1, 1]).
QUANTITIES = {"lstm": LSTM_QUANTITIES, "gru": GRU_QUANTITIES}
GATES = {"lstm": LSTM_GATES, "gru": GRU_GATES}
SIGMOID_GATES = {"lstm": ("i", "f", "o"), "gru": ("r", "z")}

#: Order of the stacked LSTM gate blocks, per framework, in that framework's own names.
GATE_ORDER = {
    "pytorch": ("i", "f", "g", "o"),
    "keras": ("i", "f", "c", "o"),
    "onnx": ("i", "o", "f", "c"),
}
#: Order of the stacked GRU gate blocks, per framework, in that framework's own names (Keras and ONNX call the
#: candidate "h").
GRU_GATE_ORDER = {
    "pytorch": ("r", "z", "n"),
    "keras": ("z", "r", "h"),
    "onnx": ("z", "r", "h"),
}
_ORDERS = {"lstm": GATE_ORDER, "gru": GRU_GATE_ORDER}

#: A framework's own gate name → ours, per cell kind.
_TO_OURS = {
    "lstm": {"i": "i", "f": "f", "g": "g", "c": "g", "o": "o"},
    "gru": {"r": "r", "z": "z", "n": "n", "h": "n"},
}


def gate_order(framework: str = "pytorch", cell: str = "lstm") -> tuple:
    """The order of the stacked gate blocks of a ``cell`` ("lstm" or "gru") layer in ``framework``, in its names."""
    if cell not in _ORDERS:
        raise ValueError(f"unknown cell kind {cell!r}; expected one of {sorted(_ORDERS)}")
    orders = _ORDERS[cell]
    if framework not in orders:
        raise ValueError(f"unknown framework {framework!r}; expected one of {sorted(orders)}")
    return orders[framework]


def split_gates(stacked, framework: str = "pytorch", axis: int = 0, cell: str = "lstm") -> dict:
    """Return {our gate name: block} for an array or tensor whose ``axis`` stacks the gate blocks (4 for an LSTM, 3
    for a GRU) in ``framework``'s order."""
    order = gate_order(framework, cell)
    n = stacked.shape[axis]
    if n % len(order):
        raise ValueError(
            f"cannot split {n} rows into {len(order)} {cell.upper()} gate blocks: axis {axis} must be a multiple of "
            f"{len(order)}"
        )
    size = n // len(order)
    index = [slice(None)] * stacked.ndim
    blocks = {}
    for k, name in enumerate(order):
        index[axis] = slice(k * size, (k + 1) * size)
        blocks[_TO_OURS[cell][name]] = stacked[tuple(index)]
    return blocks


def stack_gates(blocks: dict, framework: str = "pytorch", axis: int = 0, cell: str = "lstm"):
    """Inverse of :func:`split_gates`: stack {our gate name: block} along ``axis`` in ``framework``'s order."""
    order = [_TO_OURS[cell][name] for name in gate_order(framework, cell)]
    missing = [k for k in order if k not in blocks]
    if missing:
        raise ValueError(f"missing gate blocks {missing}; a {cell.upper()} needs {order}")
    first = blocks[order[0]]
    if isinstance(first, np.ndarray):
        return np.concatenate([blocks[k] for k in order], axis=axis)
    import torch

    return torch.cat([blocks[k] for k in order], dim=axis)


def reorder_gates(stacked, source: str, target: str = "pytorch", axis: int = 0, cell: str = "lstm"):
    """``stacked`` with its gate blocks along ``axis`` moved from ``source``'s order to ``target``'s."""
    return stack_gates(split_gates(stacked, source, axis, cell), target, axis, cell)


#: Per framework, its own names of a layer's input weights (W) and recurrent weights (U), in the order of the
#: matrices it keeps (the biases are named by :func:`bias_names`).
WEIGHT_NAMES = {
    "pytorch": {"W": "weight_ih", "U": "weight_hh"},
    "keras": {"W": "kernel", "U": "recurrent_kernel"},
    "onnx": {"W": "W", "U": "R"},
}
#: Axis of a framework's own stacked W / U along which the gate blocks lie: PyTorch and ONNX keep
#: (gates·units, inputs), Keras (inputs, gates·units).
GATE_AXIS = {"pytorch": 0, "keras": 1, "onnx": 0}


def gate_names(framework: str = "pytorch", cell: str = "lstm") -> dict:
    """{the framework's gate name: ours}, in the framework's stacking order — e.g. Keras LSTM
    ``{"i": "i", "f": "f", "c": "g", "o": "o"}``, ONNX GRU ``{"z": "z", "r": "r", "h": "n"}``."""
    return {name: _TO_OURS[cell][name] for name in gate_order(framework, cell)}


def bias_names(framework: str = "pytorch", cell: str = "lstm", reset_after: bool = True) -> tuple:
    """How ``framework`` names the bias vectors a weight view shows, as pairs (name, part): part "sum" is
    b_ih + b_hh (the one effective bias of an LSTM, and of a GRU that resets before its recurrent product), "ih" and
    "hh" the input and recurrent biases a GRU keeps apart (PyTorch's GRU adds b_hn inside r·(W_hn h + b_hn))."""
    split = cell == "gru" and reset_after
    names = {
        "pytorch": (("bias_ih", "ih"), ("bias_hh", "hh")) if split else (("bias_ih + bias_hh", "sum"),),
        "keras": (("bias[0]", "ih"), ("bias[1]", "hh")) if split else (("bias", "sum"),),
        "onnx": (("Wb", "ih"), ("Rb", "hh")) if split else (("Wb + Rb", "sum"),),
    }
    if framework not in names:
        raise ValueError(f"unknown framework {framework!r}; expected one of {sorted(names)}")
    return names[framework]
