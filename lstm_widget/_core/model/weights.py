"""Per-gate weights of one recurrent layer, in the names and gate order of the framework the model came from.

A layer keeps W (input weights), U (recurrent weights) and its biases with the gate blocks stacked — four for an
LSTM, three for a GRU — in an order and orientation that differ between frameworks (PyTorch ``weight_ih`` (4H, D),
gates i, f, g, o; Keras ``kernel`` (D, 4H), gates i, f, c, o; ONNX ``W`` (4H, D) per direction, gates i, o, f, c).
:func:`gate_weights` splits them through :mod:`.gates` (nothing here slices by hand) and returns every block with
units as rows: ``W[gate]`` (units, inputs), ``U[gate]`` (units, outputs), biases (units,), so that one unit is one
row of every block. ``block`` and ``stacked`` give them back in the framework's own layout, for checking against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validate import check_int, to_numpy
from .gates import GATE_AXIS, GATE_ORDER, WEIGHT_NAMES, bias_names, gate_names, split_gates, stack_gates

#: What each of our gates is, for titles.
GATE_TITLES = {
    "i": "input gate",
    "f": "forget gate",
    "g": "cell candidate",
    "o": "output gate",
    "r": "reset gate",
    "z": "update gate",
    "n": "candidate",
}


@dataclass(frozen=True, eq=False)
class GateWeights:
    """One layer's (one direction's) weights split per gate.

    ``gates``: the framework's gate names in its stacking order (Keras LSTM: i, f, c, o), ``ours``: our names for
    the same blocks (i, f, g, o). ``names``: the framework's names of W and U (``{"W": "kernel", "U":
    "recurrent_kernel"}``); ``biases``: the bias vectors a view shows, as (name, {gate: (units,)}) pairs — one
    effective bias b_ih + b_hh for an LSTM (PyTorch "bias_ih + bias_hh", Keras "bias", ONNX "Wb + Rb"), the input and
    recurrent biases apart for a GRU that adds b_hn inside r·(…); empty without bias. ``W[gate]`` (units, inputs),
    ``U[gate]`` (units, outputs), ``b_ih[gate]`` / ``b_hh[gate]`` (units,) or None — keyed by the framework's gate
    names, units as rows whatever the framework's orientation.
    """

    cell: str
    framework: str
    layer: int
    direction: int
    layer_name: str
    gates: tuple
    ours: tuple
    names: dict
    W: dict
    U: dict
    b_ih: dict | None
    b_hh: dict | None
    reset_after: bool = True

    @property
    def units(self) -> int:
        return next(iter(self.W.values())).shape[0]

    @property
    def inputs(self) -> int:
        return next(iter(self.W.values())).shape[1]

    @property
    def b(self) -> dict | None:
        """b_ih + b_hh per gate (None without bias)."""
        if self.b_ih is None:
            return None
        return {g: self.b_ih[g] + self.b_hh[g] for g in self.gates}

    @property
    def biases(self) -> list:
        """[(the framework's name, {gate: (units,)})] — what a weight view shows as b."""
        if self.b_ih is None:
            return []
        parts = {"sum": self.b, "ih": self.b_ih, "hh": self.b_hh}
        return [(name, parts[part]) for name, part in bias_names(self.framework, self.cell, self.reset_after)]

    @property
    def matrix_names(self) -> tuple:
        """Every name :meth:`block` and :meth:`stacked` accept: W's, U's and the biases' names."""
        return (self.names["W"], self.names["U"], *(name for name, _ in self.biases))

    def _kind(self, name: str):
        if name in ("W", self.names["W"]):
            return "W", self.W
        if name in ("U", self.names["U"]):
            return "U", self.U
        for bias, values in self.biases:
            if name == bias:
                return "b", values
        raise KeyError(
            f"{name!r} is not a weight of this {self.framework} {self.cell.upper()} layer; expected one of "
            f"{list(self.matrix_names)}"
        )

    def block(self, name: str, gate: str) -> np.ndarray:
        """Gate ``gate``'s block of the matrix ``name`` in the framework's own orientation: ``block("kernel", "c")``
        is Keras's ``kernel[:, 2 * units:3 * units]`` (inputs, units); ``block("weight_ih", "g")`` is PyTorch's
        ``weight_ih[2 * H:3 * H]`` (units, inputs); a bias block is (units,)."""
        if gate not in self.gates:
            raise KeyError(
                f"{gate!r} is not a {self.framework} {self.cell.upper()} gate; expected one of {list(self.gates)}"
            )
        kind, values = self._kind(name)
        value = values[gate]
        return value.T if kind != "b" and GATE_AXIS[self.framework] == 1 else value

    def stacked(self, name: str) -> np.ndarray:
        """The matrix ``name`` with its gate blocks stacked as the framework keeps it: Keras ``kernel`` (inputs,
        4·units), ``recurrent_kernel`` (units, 4·units), ``bias`` (4·units,) — a Keras GRU's "bias[0]" / "bias[1]"
        are the rows of its (2, 3·units) bias; PyTorch ``weight_ih`` (4·units, inputs); ONNX ``W`` (4·units, inputs)
        of this direction."""
        kind, values = self._kind(name)
        ours = {o: values[g] for g, o in zip(self.gates, self.ours, strict=True)}
        if kind == "b":
            return stack_gates(ours, self.framework, 0, self.cell)
        axis = GATE_AXIS[self.framework]
        if axis == 1:
            ours = {k: v.T for k, v in ours.items()}
        return stack_gates(ours, self.framework, axis, self.cell)

    def __repr__(self) -> str:
        bias = ", ".join(name for name, _ in self.biases) or "no bias"
        return (
            f"GateWeights({self.framework} {self.cell.upper()}, {self.layer_name}, gates {' '.join(self.gates)}, "
            f"{self.names['W']} {self.units}×{self.inputs} per gate, {self.names['U']} {self.units}×"
            f"{next(iter(self.U.values())).shape[1]}, {bias})"
        )


def gate_weights(
    model, layer=0, direction: int = 0, framework: str | None = None, *, lstm=None, head=None
) -> GateWeights:
    """W, U and b of one recurrent layer split per gate, named as ``framework`` names them.

    ``model``: anything :func:`lstm_widget.record` takes (an ``nn.LSTM`` / ``nn.GRU``, a module containing one, a
    stack from ``from_keras`` / ``from_onnx``), or its ``describe()`` spec. ``layer``: the layer index, or a row
    name of a recording ("layer0", "layer1_reverse"; the direction then follows from it). ``direction``: 0, or 1 for
    the reverse half of a bidirectional layer. ``framework``: "pytorch", "keras" or "onnx"; None (default) takes the
    one the model came from (``from_keras`` → "keras", ``from_onnx`` → "onnx", a torch module → "pytorch").
    """
    from .adapters import RecurrentSpec, describe

    spec = model if isinstance(model, RecurrentSpec) else describe(model, lstm=lstm, head=head)
    names = spec.layer_names
    if isinstance(layer, str):
        if layer not in names:
            raise ValueError(f"layer {layer!r} is not a row of this model; expected one of {list(names)}")
        row = names.index(layer)
        counts = [len(r) for r in spec.layers]
        layer, direction = next(
            (li, row - sum(counts[:li])) for li in range(len(counts)) if row < sum(counts[: li + 1])
        )
    layer = check_int(
        layer,
        "layer",
        low=0,
        high=spec.num_layers,
        expected=f"a layer index 0..{spec.num_layers - 1} or a row name from {list(names)}",
    )
    dirs = len(spec.layers[layer])
    direction = check_int(
        direction,
        "direction",
        low=0,
        high=dirs,
        expected=f"0{' or 1' if dirs == 2 else ''} (layer {layer} has {dirs} direction{'s' if dirs == 2 else ''})",
    )
    framework = getattr(spec, "framework", "pytorch") if framework is None else framework
    if framework not in GATE_ORDER:
        raise ValueError(f"unknown framework {framework!r}; expected one of {sorted(GATE_ORDER)}")
    w = spec.layers[layer][direction]
    cell = spec.cell
    theirs = gate_names(framework, cell)  # their name -> ours, in their order

    def per_gate(t):
        if t is None:
            return None
        ours = split_gates(to_numpy(t, np.float32), "pytorch", 0, cell)  # our DirectionWeights keep PyTorch's layout
        return {g: np.ascontiguousarray(ours[o]) for g, o in theirs.items()}

    row = sum(len(r) for r in spec.layers[:layer]) + direction
    return GateWeights(
        cell=cell,
        framework=framework,
        layer=int(layer),
        direction=int(direction),
        layer_name=names[row],
        gates=tuple(theirs),
        ours=tuple(theirs.values()),
        names=dict(WEIGHT_NAMES[framework]),
        W=per_gate(w.w_ih),
        U=per_gate(w.w_hh),
        b_ih=per_gate(w.b_ih),
        b_hh=per_gate(w.b_hh),
        reset_after=bool(w.reset_after),
    )
