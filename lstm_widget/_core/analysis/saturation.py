"""Gate saturation statistics (Karpathy, Johnson & Fei-Fei 2015, "Visualizing and Understanding Recurrent Networks"):
per unit, the fraction of steps at which each gate is left-saturated (below ``low``) or right-saturated (above
``high``), over one sequence or a whole data set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.gates import SIGMOID_GATES
from ..validate import is_int


@dataclass(frozen=True, eq=False)
class GateSaturation:
    """Saturation fractions per layer, gate and unit.

    ``left[gate]`` and ``right[gate]`` are arrays shaped (L, units): for each row of ``layer_names`` and each unit, the
    fraction of all ``steps`` at which the gate was below ``low`` (left-saturated) or above ``high``
    (right-saturated). ``gates`` are the gates squashed to [0, 1]: i, f, o for an LSTM; r, z for a GRU.
    """

    cell: str
    gates: tuple
    layer_names: tuple
    left: dict
    right: dict
    low: float
    high: float
    steps: int
    sequences: int

    def __getitem__(self, name: str) -> np.ndarray:
        """``sat["f"]`` → (L, units, 2): left and right fractions side by side; ``sat["layer0.f"]`` → (units, 2)."""
        layer, _, gate = name.rpartition(".")
        if gate in self.gates and (not layer or layer in self.layer_names):
            both = np.stack([self.left[gate], self.right[gate]], axis=-1)
            return both[self.layer_names.index(layer)] if layer else both
        raise KeyError(
            f"no saturation entry {name!r}; expected a gate {self.gates} or 'layer.gate' with a layer from "
            f"{list(self.layer_names)}"
        )

    def rows(self) -> list[dict]:
        """A long table, one dict per (layer, gate, unit): ``{"layer", "gate", "unit", "left", "right"}`` —
        ``pandas.DataFrame(sat.rows())`` makes it a frame."""
        return [
            {
                "layer": name,
                "gate": g,
                "unit": u,
                "left": float(self.left[g][li, u]),
                "right": float(self.right[g][li, u]),
            }
            for g in self.gates
            for li, name in enumerate(self.layer_names)
            for u in range(self.left[g].shape[1])
        ]

    def to_dict(self) -> dict:
        """Plain Python values (lists of lists), ready for JSON."""
        return {
            "cell": self.cell,
            "gates": list(self.gates),
            "layer_names": list(self.layer_names),
            "low": self.low,
            "high": self.high,
            "steps": self.steps,
            "sequences": self.sequences,
            "left": {g: self.left[g].tolist() for g in self.gates},
            "right": {g: self.right[g].tolist() for g in self.gates},
        }


def gate_saturation(recordings, low: float = 0.1, high: float = 0.9, layer=None) -> GateSaturation:
    """Per layer, gate and unit, the fraction of steps its gate is below ``low`` and above ``high``.

    ``recordings``: one :class:`Recording` or a list of them (all of the same model); the steps of every sequence are
    pooled, each step counting once. ``layer``: None for every layer row, or one row by index or name
    ("layer0", "layer1_reverse", ...) — the arrays keep their layer axis either way.
    """
    from ..recording.recorder import Recording

    recs = [recordings] if isinstance(recordings, Recording) else recordings
    if not isinstance(recs, (list, tuple)) or not recs:
        got = "an empty list" if isinstance(recs, (list, tuple)) else f"a {type(recs).__name__}"
        raise TypeError(f"recordings must be a Recording or a non-empty list of Recordings from record(); got {got}")
    for k, r in enumerate(recs):
        if not isinstance(r, Recording):
            raise TypeError(f"recordings[{k}] is a {type(r).__name__}; expected a Recording from record()")
        if r.cell != recs[0].cell or r.layer_names != recs[0].layer_names:
            raise ValueError(
                f"recordings[{k}] comes from another model ({r.cell}, layers {list(r.layer_names)}; recordings[0]: "
                f"{recs[0].cell}, layers {list(recs[0].layer_names)}); expected recordings of one model"
            )
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"{name} must be a number in [0, 1]; got {value!r}")
    if not low < high:
        raise ValueError(f"low must be below high; got low={low}, high={high}")
    names = recs[0].layer_names
    if layer is None:
        rows = list(range(len(names)))
    elif isinstance(layer, str) and layer in names:
        rows = [names.index(layer)]
    elif is_int(layer) and -len(names) <= layer < len(names):
        rows = [int(layer) % len(names)]
    else:
        raise ValueError(
            f"layer must be None, a row index (0..{len(names) - 1}) or a name from {list(names)}; got {layer!r}"
        )
    cell = recs[0].cell
    gates = SIGMOID_GATES[cell]
    steps = sum(len(r) for r in recs)
    left, right = {}, {}
    for g in gates:
        below = sum((getattr(r, g)[rows] < low).sum(axis=1) for r in recs)  # (L, units) counts
        above = sum((getattr(r, g)[rows] > high).sum(axis=1) for r in recs)
        left[g], right[g] = below / steps, above / steps
    return GateSaturation(
        cell=cell,
        gates=gates,
        layer_names=tuple(names[k] for k in rows),
        left=left,
        right=right,
        low=float(low),
        high=float(high),
        steps=steps,
        sequences=len(recs),
    )
