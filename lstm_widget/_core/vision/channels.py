"""The maths of the channel grid (seed 3, "which channels fire, and where"), on plain numpy arrays: a layer's
channels as maps, each normalised to [0, 1] (MATLAB's ``mat2gray`` per channel), channels ranked by their strongest
activation, the difference between two inputs, a grid shape, tiling, bilinear resizing, and the layers worth showing
(convolutions and their activation functions, before and after). Imports nothing of the widget.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..recording.hooks import INPUT, call_order

__all__ = [
    "channel_maps",
    "channel_range",
    "normalize_channels",
    "rank_channels",
    "strongest_channel",
    "channel_difference",
    "channel_change",
    "rank_by_difference",
    "grid_shape",
    "tile_channels",
    "resize_bilinear",
    "layer_choices",
]

_ACTIVATIONS = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Sigmoid, nn.Tanh, nn.Softplus,
)  # fmt: skip
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def channel_maps(a, what: str = "the activations") -> np.ndarray:
    """One input's activations of one layer as channel maps ``(C, H, W)`` float32: ``(C, H, W)`` as is, ``(C, L)``
    (a 1-D convolution) as ``(C, 1, L)``, ``(C,)`` (a dense layer's units) as ``(C, 1, 1)``. No batch axis: pass
    ``acts[name][0]``."""
    a = np.asarray(a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{what} have dtype {a.dtype}; expected numbers")
    if a.ndim == 1:
        a = a[:, None, None]
    elif a.ndim == 2:
        a = a[:, None, :]
    elif a.ndim != 3:
        raise ValueError(
            f"{what} have shape {a.shape}; expected one input's channels (C, H, W), (C, L) or (C,) — drop the batch "
            "axis (acts[name][0])" + (" or pick one depth slice" if a.ndim == 4 else "")
        )
    if a.shape[0] == 0:
        raise ValueError(f"{what} have no channels (shape {a.shape})")
    return np.ascontiguousarray(a, dtype=np.float32)


def channel_range(*maps) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel minimum and maximum ``(C,)`` over one or more ``(C, H, W)`` arrays together."""
    arrs = [channel_maps(m) for m in maps]
    lo = np.min([m.reshape(m.shape[0], -1).min(axis=1) for m in arrs], axis=0)
    hi = np.max([m.reshape(m.shape[0], -1).max(axis=1) for m in arrs], axis=0)
    return lo, hi


def normalize_channels(maps, lo=None, hi=None) -> np.ndarray:
    """Every channel scaled to [0, 1] on its own: ``(x - min) / (max - min)`` over that channel (or over the given
    per-channel ``lo``/``hi``, e.g. :func:`channel_range` of two inputs, so that both read on one scale). A constant
    channel is all 0. Returns float32 ``(C, H, W)``."""
    m = channel_maps(maps)
    if lo is None or hi is None:
        lo, hi = channel_range(m)
    lo = np.asarray(lo, np.float32)[:, None, None]
    span = (np.asarray(hi, np.float32)[:, None, None] - lo).astype(np.float32)
    out = np.divide(m - lo, span, out=np.zeros_like(m), where=span > 0)
    return np.clip(out, 0.0, 1.0)


def rank_channels(maps, k: int | None = None) -> np.ndarray:
    """Channel indices ordered by their largest activation, strongest first (ties: lower index first); the first
    ``k`` when given. ``rank_channels(m)[0]`` is MATLAB's ``[~, i] = max(max(max(act)))``."""
    m = channel_maps(maps)
    peak = m.reshape(m.shape[0], -1).max(axis=1)
    order = np.argsort(-peak, kind="stable")
    return order if k is None else order[:k]


def strongest_channel(maps) -> int:
    """The channel with the largest activation anywhere."""
    return int(rank_channels(maps, 1)[0])


def channel_difference(a, b) -> np.ndarray:
    """``a - b`` per channel on the two inputs' joint per-channel scale: ``normalize(a) - normalize(b)`` with one
    min/max per channel over both, so values lie in [-1, 1] (1: where ``a`` is at that channel's top and ``b`` at its
    bottom). Returns float32 ``(C, H, W)``."""
    a, b = channel_maps(a, "the first input's activations"), channel_maps(b, "the second input's activations")
    if a.shape != b.shape:
        raise ValueError(f"the two inputs' activations differ in shape: {a.shape} and {b.shape}")
    lo, hi = channel_range(a, b)
    return normalize_channels(a, lo, hi) - normalize_channels(b, lo, hi)


def channel_change(a, b) -> np.ndarray:
    """How much each channel changed between the two inputs: the mean absolute :func:`channel_difference` over the
    map, in [0, 1] (1: everywhere from one end of the channel's range to the other). ``(C,)`` float32."""
    d = np.abs(channel_difference(a, b))
    return d.reshape(d.shape[0], -1).mean(axis=1).astype(np.float32)


def rank_by_difference(a, b, k: int | None = None) -> np.ndarray:
    """Channels ordered by :func:`channel_change`, most changed first (ties: lower index first)."""
    order = np.argsort(-channel_change(a, b), kind="stable")
    return order if k is None else order[:k]


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, columns) of a near-square grid for ``n`` tiles: at least as wide as tall, at most about twice, with as
    few empty places as possible (64 → 8×8, 48 → 6×8, 32 → 4×8, 10 → 2×5)."""
    if n < 1:
        raise ValueError(f"a grid needs at least one tile; got {n}")
    lo = math.isqrt(n - 1) + 1 if n > 1 else 1
    hi = max(lo, math.isqrt(2 * n - 1) + 1)
    cols = min(range(lo, hi + 1), key=lambda c: (-(-n // c) * c - n, c))
    return -(-n // cols), cols


def tile_channels(maps, grid: tuple[int, int] | None = None, pad: int = 1, fill: float = np.nan) -> np.ndarray:
    """The channels ``(C, H, W)`` laid out row by row in a grid (``grid_shape(C)`` unless given) as one 2-D image,
    ``pad`` pixels of ``fill`` between tiles and in empty places (MATLAB's ``imtile``)."""
    m = channel_maps(maps)
    C, H, W = m.shape
    rows, cols = grid or grid_shape(C)
    if rows * cols < C:
        raise ValueError(f"a {rows}×{cols} grid holds {rows * cols} tiles; there are {C} channels")
    out = np.full((rows * H + (rows - 1) * pad, cols * W + (cols - 1) * pad), fill, np.float32)
    for c in range(C):
        r, q = divmod(c, cols)
        out[r * (H + pad) : r * (H + pad) + H, q * (W + pad) : q * (W + pad) + W] = m[c]
    return out


def resize_bilinear(a, size: tuple[int, int]) -> np.ndarray:
    """A 2-D map (or a stack ``(C, H, W)``) resized to ``size`` = (height, width) by bilinear interpolation (pixel
    centres aligned, as ``torch.nn.functional.interpolate(..., align_corners=False)`` and MATLAB's ``imresize``
    without antialiasing)."""
    a = np.asarray(a, np.float32)
    if a.ndim not in (2, 3):
        raise ValueError(f"resize_bilinear takes (H, W) or (C, H, W); got shape {a.shape}")
    t = torch.from_numpy(np.ascontiguousarray(a))
    t = t[None, None] if a.ndim == 2 else t[None]
    out = F.interpolate(t, size=tuple(int(s) for s in size), mode="bilinear", align_corners=False)[0]
    return (out[0] if a.ndim == 2 else out).numpy()


def layer_choices(model: nn.Module, x) -> list[dict]:
    """The layers a channel grid offers for ``model`` on input ``x`` (batch axis included), in the order the forward
    pass calls them: every convolution (``kind`` "conv"), every activation-function module after one (``kind``
    "post": after the activation) and, when something else (a norm layer) stands between the two, that activation's
    input (``"relu2:input"``, ``kind`` "pre"). Each entry: ``{"name", "label", "kind", "module", "shape"}`` with
    ``shape`` the output's shape without the batch axis."""
    calls = call_order(model, x)
    out: list[dict] = []
    seen: set = set()
    for k, (name, module, shape) in enumerate(calls):
        if name in seen or len(shape) < 2:
            continue
        kind_name = type(module).__name__
        if isinstance(module, _CONVS):
            seen.add(name)
            nxt = calls[k + 1] if k + 1 < len(calls) else None
            act = f", before {nxt[0]}" if nxt is not None and isinstance(nxt[1], _ACTIVATIONS) else ""
            out.append(dict(name=name, kind="conv", module=kind_name, shape=shape, label=f"{name} ({kind_name}{act})"))
        elif isinstance(module, _ACTIVATIONS) and any(isinstance(m, _CONVS) for _, m, _ in calls[:k]):
            seen.add(name)
            prev_name, prev, _ = calls[k - 1] if k else (None, None, None)
            if not isinstance(prev, _CONVS):
                out.append(dict(
                    name=name + INPUT, kind="pre", module=kind_name, shape=shape,
                    label=f"{name} input (before {kind_name}, after {prev_name})",
                ))  # fmt: skip
            before = prev_name if isinstance(prev, _CONVS) else f"{name} input"
            out.append(dict(name=name, kind="post", module=kind_name, shape=shape,
                            label=f"{name} ({kind_name} of {before})"))  # fmt: skip
    return out
