"""The trajectory's fixed points, kernel side: a :class:`~lstm_widget.FixedPoints` placed on the trajectory's map —
the ``_fixed_points`` payload (js/PROTOCOL.md, "Fixed points") — and the page's request for the fixed points of a
sequence's mean input (``fixed_points_request``). The Explorer owns the traits and the observers that call these
(explorer.py, "fixed points"); the page draws them (js/src/fixedpoints.js, js/src/views/trajectory.js).

The points are states h of one layer row; they are drawn only when the map projects h of that row, through the very
projection that places the paths (its ``transform``). Each point's leading eigenvector (real part for a complex one)
lives in s = (h, c); the map shows h, so its h part, scaled to unit length, is the direction u drawn: a short line from
p − ε·u to p + ε·u, both ends mapped by the same ``transform`` (exact for PCA, which is linear; the true image of the
two ends for a nonlinear transformer). ε is ``SEGMENT`` × the RMS distance of the loaded states from their mean, so a
direction that lies across the map draws long and one that leaves it draws short. How much of the eigenvector is in h
(‖v_h‖, 1 for a GRU) travels as ``h_share``; an eigenvector wholly in c (a slow mode of the cell) has no line.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._core.analysis.fixed_points import FixedPoints, fixed_points
from .._core.recording.stepper import stepping_threads
from .._core.validate import is_int
from .._wire import INDEX_DTYPE, WireArray
from .payload import Loaded, stacked
from .trajectory import Trajectory

#: The eigenvector's line: p ± ε·v with ε = SEGMENT × the RMS spread of the loaded states of the row.
SEGMENT = 0.15
#: A page request: initial states per input (sampled from the loaded sequences' states), and the q below which a
#: point that is not a fixed point is kept as a slow point. About a second for the bundled 100-unit network.
PAGE_N_INITS = 64
PAGE_SLOW_TOL = 1e-4
#: The keys of ``fixed_points_request``.
REQUEST_KEYS = ("sequence", "layer")


def check_fixed_points(fp, loaded: Loaded) -> FixedPoints | None:
    """``fp`` when it can be drawn on this explorer's map (a FixedPoints of a layer row it records, of the same
    width and cell); None stays None. One clear error otherwise."""
    if fp is None:
        return None
    if not isinstance(fp, FixedPoints):
        raise TypeError(
            f"fixed_points must be what lstm_widget.fixed_points returns (a FixedPoints) or None; got "
            f"{type(fp).__name__}"
        )
    names = loaded.layer_names
    if fp.layer_name not in names:
        raise ValueError(
            f"fixed_points are states of {fp.layer_name!r}, a layer row this explorer does not show "
            f"(its rows: {', '.join(names)})"
        )
    width = loaded.units["h"]
    if fp.h.shape[1] != width or fp.cell != loaded.cell:
        raise ValueError(
            f"fixed_points come from another model: {fp.cell} states h of {fp.h.shape[1]} units; this explorer's "
            f"{fp.layer_name} is a {loaded.cell} of {width} units"
        )
    return fp


def fixed_points_payload(fp: FixedPoints, loaded: Loaded, trajectory: Trajectory, request=None, about=None) -> dict:
    """The ``_fixed_points`` payload of ``fp`` on the projection in force: every point's coordinates, its
    eigenvector's segment, kind, q and max |λ| — or, when the map projects another quantity or row, the reason the
    points are not drawn. ``request``: the page request it answers ({} for points set from Python); ``about``: a
    short text of whose input they are."""
    names = loaded.layer_names
    row = names.index(fp.layer_name)
    layer, quantity = trajectory.key
    counts = {k: int((fp.kind == k).sum()) for k in ("stable", "unstable", "slow")}
    base = {
        "request": dict(request or {}),
        "layer": row,
        "layer_name": fp.layer_name,
        "quantity": "h",
        "n": len(fp),
        "counts": counts,
        "inputs": len(fp.inputs),
        "about": about or (f"{len(fp.inputs)} inputs" if len(fp.inputs) > 1 else "one input"),
        "projection": trajectory.meta(),
    }
    if (layer, quantity) != (row, "h"):
        return {
            **base,
            "error": f"fixed points not drawn: they are states h of {fp.layer_name}, the map projects {quantity} of "
            f"{names[layer]} (project h of {fp.layer_name} to see them)",
        }
    h = fp.h.astype(np.float32)
    points = trajectory.fitted.transform(h)
    u, share = leading_direction(fp)
    eps = SEGMENT * state_spread(loaded, row)
    ends = np.stack([trajectory.fitted.transform(h - eps * u), trajectory.fitted.transform(h + eps * u)], axis=1)
    return {
        **base,
        "dims": int(points.shape[1]),
        "points": WireArray(points.astype(np.float32), "float32"),
        "ends": WireArray(ends.astype(np.float32), "float32"),
        "kinds": [str(k) for k in fp.kind],
        "q": WireArray(fp.q.astype(np.float32), "float32"),
        "radius": WireArray(fp.spectral_radius.astype(np.float32), "float32"),
        "h_share": WireArray(share.astype(np.float32), "float32"),
        "input_index": WireArray(fp.input_index.astype(np.int32), INDEX_DTYPE),
        "segment": float(eps),
    }


def leading_direction(fp: FixedPoints) -> tuple[np.ndarray, np.ndarray]:
    """(u, share): the h part of each point's leading eigenvector (real part) scaled to unit length (N, P) float32 —
    zero where it has no h part — and that part's norm (N,) (the eigenvector has unit norm over s = (h, c))."""
    v = np.real(fp.leading[:, : fp.h.shape[1]])
    share = np.linalg.norm(v, axis=1) if len(fp) else np.zeros(0)
    u = np.where(share[:, None] > 1e-9, v / np.maximum(share, 1e-300)[:, None], 0.0)
    return u.astype(np.float32), share


def state_spread(loaded: Loaded, row: int) -> float:
    """The RMS distance of every loaded state h of layer row ``row`` from their mean (1 when there is none); steps
    where the layer's module did not run (NaN rows, a multi-module recording) are left out."""
    states = stacked(loaded.recordings, row, "h").astype(np.float64)
    states = states[np.isfinite(states).all(axis=1)]
    if not len(states):
        return 1.0
    spread = float(np.sqrt(((states - states.mean(0)) ** 2).sum(1).mean()))
    return spread if np.isfinite(spread) and spread > 0 else 1.0


def check_request(request, loaded: Loaded, projection_layer: int) -> tuple[dict, int, int]:
    """(request, sequence, layer row) of a ``fixed_points_request`` value {sequence, layer?}: the layer row
    defaults to ``projection_layer``. TypeError / ValueError for a bad one."""
    if not isinstance(request, dict):
        raise TypeError(f"fixed_points_request must be a dict {{sequence, layer}}; got {type(request).__name__}")
    bad = [k for k in request if k not in REQUEST_KEYS]
    if bad:
        raise ValueError(f"fixed_points_request has an unknown key {bad[0]!r}; expected keys from {list(REQUEST_KEYS)}")
    n, names = len(loaded.recordings), loaded.layer_names
    s = request.get("sequence")
    if not is_int(s) or not 0 <= s < n:
        raise ValueError(f"fixed_points_request['sequence'] must be a loaded sequence's index (0..{n - 1}); got {s!r}")
    row = request.get("layer", projection_layer)
    if not isinstance(row, numbers.Integral) or isinstance(row, bool) or not 0 <= row < len(names):
        raise ValueError(
            f"fixed_points_request['layer'] must be a layer row 0..{len(names) - 1} ({', '.join(names)}); got {row!r}"
        )
    return request, int(s), int(row)


def page_fixed_points(loaded: Loaded, s: int, row: int) -> FixedPoints | str:
    """The fixed points of layer row ``row`` for the mean input of loaded sequence ``s`` (initial states from every
    loaded sequence's states, ``PAGE_N_INITS`` of them), or a one-line reason why there are none."""
    spec = loaded.spec
    if spec is None:
        return "fixed points need the model: this explorer was made from recordings, without one"
    inputs = np.asarray(loaded.recordings[s].inputs)
    if inputs.ndim != 2:  # token ids (T,): their mean is no input of the model
        return (
            "fixed points need a constant input in the model's input space; this model reads token ids, whose mean "
            "is none (call lstm_widget.fixed_points on the recurrent module with the embedding vectors it receives)"
        )
    layer, direction = _layer_of_row(spec, row)
    x = inputs.astype(np.float64).mean(axis=0)
    try:  # a small model on one torch thread: its small batched solves are many times slower when threads contend
        with stepping_threads(spec):
            return fixed_points(
                None,
                x,
                layer=layer,
                direction=direction,
                sequences=loaded.recordings,
                n_inits=PAGE_N_INITS,
                slow_tol=PAGE_SLOW_TOL,
                seed=0,
                _spec=spec,
            )
    except (ValueError, RuntimeError, TypeError) as err:  # shown in the page; Python users call fixed_points
        return f"lstm_widget.fixed_points failed: {err}"


def _layer_of_row(spec, row: int) -> tuple[int, int]:
    """(layer, direction) of a recording's layer row."""
    k = 0
    for layer, dirs in enumerate(spec.layers):
        if row < k + len(dirs):
            return layer, row - k
        k += len(dirs)
    raise ValueError(f"layer row {row} is out of range")
