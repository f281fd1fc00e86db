"""What every way of making an Explorer accepts besides the data — names, labels, groups, the projection, the wire
dtype, what to preload — in one place, and the checks of those arguments that do not need the recordings."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._core.model import LSTM_QUANTITIES
from .._core.validate import check_text, is_int
from .._wire import check_wire_dtype


@dataclasses.dataclass
class ViewOptions:
    """The options of :class:`~lstm_widget.Explorer`, ``Explorer.from_recordings`` and ``Explorer.from_dataset``
    (see the Explorer's documentation for each)."""

    labels: object = None
    class_names: object = None
    feature_names: object = None
    sequence_names: object = None
    projection: object = "pca"
    projection_layer: int | None = None
    projection_quantity: str = "h"
    groups: object = None
    group_name: str = "group"
    wire_dtype: str = "float32"
    preload: object = "auto"
    tokens: object = None  # token models: a list id → string, or a callable id → string (payload.Loaded resolves it)
    top_k: int = 10  # next tokens listed per step when a token model's vocabulary is large (tokens.TOPK_ABOVE)
    targets: object = None

    def __post_init__(self):
        check_wire_dtype(self.wire_dtype)

    @classmethod
    def split(cls, options: dict, **defaults) -> tuple[ViewOptions, dict]:
        """(the view options in ``options``, the rest: initial values of the widget's traits such as ``t`` or
        ``quantity``). ``defaults`` replace the dataclass defaults (``from_dataset`` fits "pca" incrementally)."""
        names = {f.name for f in dataclasses.fields(cls)}
        given = {**defaults, **{k: v for k, v in options.items() if k in names}}
        return cls(**given), {k: v for k, v in options.items() if k not in names}


def names_of(given, n: int, default: str, what: str) -> list[str]:
    """``n`` display names: ``given`` as strings (exactly ``n`` of them), or ``default.format(k)``."""
    if given is None:
        return [default.format(k) for k in range(n)]
    names = [check_text(str(s), f"{what}[{k}]") for k, s in enumerate(given)]
    if len(names) != n:
        raise ValueError(f"{what} has {len(names)} entries; expected {n}")
    return names


def check_label(value, what: str):
    """One class label: None or an integer (int, numpy integer, or a float with an integral value)."""
    if value is None:
        return None
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, np.integer, float, np.floating))
        or not np.isfinite(value)
        or float(value) != int(value)
    ):
        raise ValueError(f"{what} has {value!r} ({type(value).__name__}); expected class indices (ints) or None")
    return int(value)


def check_targets(targets, recs) -> list[np.ndarray] | None:
    """Per-step real targets (``Explorer(..., targets=...)``): one (T,) or (T, k) array per recording, T the steps
    of its timeline (NaN where a step has no target), k the head's outputs for a regression. Returns them as float32
    (T, k) arrays, or None when none were given."""
    if targets is None:
        return None
    task = recs[0].task
    if task == "classification":
        raise ValueError(
            "targets are per-step real values for a regression head; this model's head classifies "
            "(task 'classification') — give class indices as labels=, or record with task='regression'"
        )
    if isinstance(targets, np.ndarray) or not isinstance(targets, (list, tuple)):
        raise TypeError(
            f"targets must be a list with one (T,) or (T, k) array per sequence; got {type(targets).__name__}"
        )
    if len(targets) != len(recs):
        raise ValueError(f"targets has {len(targets)} entries; expected one per sequence ({len(recs)})")
    k_model = recs[0].outputs.shape[1] if task == "regression" else None
    out = []
    for j, (y, rec) in enumerate(zip(targets, recs, strict=True)):
        try:
            y = np.asarray(y, dtype=np.float32)
        except (TypeError, ValueError):
            raise TypeError(f"targets[{j}] must be an array of real numbers; got {type(y).__name__}") from None
        y = y[:, None] if y.ndim == 1 else y
        T = len(rec)
        if y.ndim != 2 or y.shape[0] != T:
            n_in = rec.inputs.shape[0]
            steps = f"{T} steps" if n_in == T else f"{T} steps, {n_in} of them input steps and {T - n_in} after them"
            raise ValueError(
                f"targets[{j}] has shape {np.shape(targets[j])}; expected ({T},) or ({T}, k): one row per step of the "
                f"sequence's timeline ({steps}), NaN where a step has no target"
            )
        if k_model is not None and y.shape[1] != k_model:
            raise ValueError(f"targets[{j}] has {y.shape[1]} columns; the model gives {k_model} outputs per step")
        if np.isinf(y).any():
            raise ValueError(f"targets[{j}] holds an infinite value; expected real numbers, NaN where none")
        out.append(y)
    if len({y.shape[1] for y in out}) != 1:
        raise ValueError("targets have different numbers of columns; expected the same k for every sequence")
    return out


def check_preload(preload, quantity: str, quantities: tuple = LSTM_QUANTITIES):
    """ "auto", or the tuple of quantities to send up front (the first shown one included)."""
    if preload in ("auto", "all"):
        return "auto" if preload == "auto" else tuple(quantities)
    names = [preload] if isinstance(preload, str) else list(preload)
    bad = [q for q in names if q not in quantities]
    if bad:
        raise ValueError(f"preload {bad[0]!r} is not a quantity; expected 'auto', 'all' or names from {quantities}")
    return tuple(dict.fromkeys(names + [quantity]))


def check_groups(groups, group_name, n: int):
    """(group_name, [str per sequence]) for ``_meta.groups``, or None when no groups were given."""
    if groups is None:
        return None
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__len__"):
        raise TypeError(f"groups must be a sequence with one value per sequence ({n}); got {type(groups).__name__}")
    values = [check_text(str(v), f"groups[{k}]") for k, v in enumerate(np.asarray(groups, dtype=object).reshape(-1))]
    if len(values) != n:
        raise ValueError(f"groups has {len(values)} entries; expected one per sequence ({n})")
    if not isinstance(group_name, str):
        raise TypeError(f"group_name must be a str; got {type(group_name).__name__}")
    return check_text(group_name, "group_name"), values


#: ``traj_view`` keys (js/PROTOCOL.md) → what each accepts, as said in errors.
TRAJ_VIEW_KEYS = {
    "dims": "2 or 3",
    "color": "'time', 'class', 'group', 'target' or 'output'",
    "log1p": "a bool",
    "labels": "a bool",
    "last_only": "a bool",
    "overlay": "[] or [class_a, class_b] (two different class indices)",
    "yaw": "a finite number (radians)",
    "pitch": "a finite number (radians)",
}


def check_traj_view(view, loaded, *, from_page: bool = False, error=ValueError) -> dict:
    """``traj_view`` checked key by key (js/PROTOCOL.md) against what ``loaded`` (a ``Loaded``) shows; ``error``
    names the key and what it accepts. ``from_page``: the page wrote it (a colour by group is then taken as it is)."""
    if not isinstance(view, dict):
        raise error(
            f"traj_view must be a dict with some of the keys {', '.join(TRAJ_VIEW_KEYS)}; got {type(view).__name__}"
        )
    for key, value in view.items():
        if key not in TRAJ_VIEW_KEYS:
            raise error(f"traj_view has an unknown key {key!r}; expected some of {', '.join(TRAJ_VIEW_KEYS)}")
        if key == "dims":
            ok = value in (2, 3) and is_int(value)
        elif key == "color":
            ok = value in ("time", "class", "group", "target", "output")
            # say it to Python users; a page writes back whatever it holds (and draws it as it can)
            if value == "group" and loaded.groups is None and not from_page:
                raise error(
                    "traj_view['color'] 'group' needs per-sequence groups; pass "
                    "Explorer(..., groups=[one value per sequence])"
                )
            if value == "target" and loaded.targets is None and not from_page:
                raise error(
                    "traj_view['color'] 'target' needs per-step targets; pass Explorer(..., targets=[one (T,) or "
                    "(T, k) array per sequence])"
                )
            if value == "output" and loaded.task != "regression" and not from_page:
                raise error(
                    "traj_view['color'] 'output' colours by a regression's predicted value; this model's outputs are "
                    f"{'class probabilities' if loaded.task == 'classification' else 'not available'}"
                )
        elif key in ("log1p", "labels", "last_only"):
            ok = isinstance(value, (bool, np.bool_))
        elif key == "overlay":
            n = loaded.n_classes
            ok = isinstance(value, (list, tuple)) and (
                len(value) == 0
                or (len(value) == 2 and value[0] != value[1] and all(is_int(c) and 0 <= c < n for c in value))
            )
            if not ok:
                raise error(f"traj_view['overlay'] must be {TRAJ_VIEW_KEYS['overlay']} in 0..{n - 1}; got {value!r}")
        else:  # yaw, pitch
            ok = (
                isinstance(value, (int, float, np.integer, np.floating))
                and not isinstance(value, bool)
                and bool(np.isfinite(value))
            )
        if not ok:
            raise error(f"traj_view[{key!r}] must be {TRAJ_VIEW_KEYS[key]}; got {value!r}")
    return {k: (list(v) if k == "overlay" else v) for k, v in view.items()}
