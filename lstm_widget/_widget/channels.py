"""The channel-grid widget: the channels of one layer of an image model tiled in a grid, one channel over the input
image, the strongest channels ranked, and a second input side by side with the difference (seed 3).

The maths lives in the kernel core (vision: the channel maps and their ranking; recording: the hooks that catch a
layer's output); arrays travel as the wire's array traits; the drawing is ``js/src/views/channelgrid.js`` (entry ``js/src/entries/channels.js``). This module
assembles them and keeps the traits of js/PROTOCOL.md ("Channel grid") up to date.
"""

from __future__ import annotations

import anywidget
import numpy as np
import torch
import traitlets as tl

from .._core.recording.hooks import activations
from .._core.validate import check_int, check_text
from .._core.vision.channels import (
    channel_change,
    channel_difference,
    channel_maps,
    channel_range,
    grid_shape,
    layer_choices,
    normalize_channels,
    rank_by_difference,
    rank_channels,
)
from .._wire import INDEX_DTYPE, ArrayTree, WireArray
from .static import bundle

SHOW = ("x", "x2", "diff")
RANK_BY = ("max", "change")


def _one_image(x, what: str) -> torch.Tensor:
    """One image as the model's input with a batch axis of 1: (1, C, H, W)."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "fiub":
            raise TypeError(f"{what} has dtype {x.dtype}; expected numbers")
        x = torch.from_numpy(np.ascontiguousarray(x))
    elif not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} is a {type(x).__name__}; expected one image as a numpy array or torch tensor")
    if x.dim() == 2:
        x = x[None, None]
    elif x.dim() == 3:
        x = x[None]
    elif x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(
            f"{what} has shape {tuple(x.shape)}; expected one image: (C, H, W), (1, C, H, W) or (H, W) for a "
            "one-channel model" + (" — pick one with x[k]" if x.dim() == 4 else "")
        )
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{what} contains NaN or Inf; expected finite numbers")
    return x


def _picture(x: torch.Tensor, given, what: str) -> np.ndarray:
    """What the page draws under the channel maps: ``given`` (H, W) / (H, W, 3|4), or the input itself (one channel:
    grey; three: RGB; else the channels' mean). float32 (H, W[, 3])."""
    if given is not None:
        img = np.asarray(given.detach().cpu().numpy() if isinstance(given, torch.Tensor) else given)
        if img.dtype == np.uint8:
            img = img / 255.0
        if img.ndim == 3 and img.shape[-1] in (3, 4):
            img = img[..., :3]
        elif img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        elif img.ndim != 2:
            raise ValueError(f"{what} has shape {img.shape}; expected (H, W) or (H, W, 3)")
        return np.asarray(img, np.float32)
    a = x[0].detach().cpu().float().numpy()
    if a.shape[0] == 3:
        return np.ascontiguousarray(a.transpose(1, 2, 0))
    return a[0] if a.shape[0] == 1 else a.mean(axis=0)


def _to_unit(*imgs) -> list[np.ndarray]:
    """Images kept as they are when all lie in [0, 1], else scaled together to [0, 1]."""
    lo = min(float(np.min(i)) for i in imgs)
    hi = max(float(np.max(i)) for i in imgs)
    if lo >= 0.0 and hi <= 1.0:
        return [np.asarray(i, np.float32) for i in imgs]
    span = hi - lo or 1.0
    return [((i - lo) / span).astype(np.float32) for i in imgs]


class ChannelGrid(anywidget.AnyWidget):
    """The channels of one layer of an image model, tiled in a near-square grid, each normalised to [0, 1]; click a
    tile (or set ``channel``) to see that channel resized (bilinear) over the input image; the strongest channels
    ranked; a second input ``x2`` side by side with the difference; a layer picker.

    ``ChannelGrid(model, x, layer=None, x2=None)``: ``x`` (and ``x2``) one image each — (C, H, W), (1, C, H, W), or
    (H, W) for a one-channel model — as the model takes it. ``layer``: a name from ``layer_names`` (default: the
    first); the picker offers every convolution and every activation-function module after one (post-ReLU; the
    convolution itself is the pre-ReLU view), found by running the model once, or the names given as ``layers=``
    (any names :func:`lstm_widget.activations` accepts, e.g. ``"pool1:input"`` after a functional ReLU).
    ``image`` / ``image2``: what to draw under the maps instead of the input (e.g. the unnormalised photo);
    ``names``: how the page calls the two inputs; ``channel``: the channel selected first (default: the strongest);
    ``top``: how many channels the ranked list shows.

    With ``x2``, both inputs' channels are normalised per channel over the two together (one scale, so tiles compare),
    and the difference is ``x - x2`` on that scale, in [-1, 1] (a diverging map).

    Synced both ways: ``layer`` (changing it in the page is the request: the kernel computes that layer and sends
    it), ``channel``, ``opacity`` (of the map over the image), ``show`` ("x", "x2" or "diff": what the grid tiles),
    ``rank_by`` ("max": strongest activation, or "change": the mean absolute difference between the inputs).
    The page lays the selected channel over the image with alpha = ``opacity`` × the map's value (for the
    difference: × its absolute value), so the image shows through where the channel is quiet.
    """

    _esm = bundle("channels.js")
    _meta = tl.Dict().tag(sync=True)
    _arrays = ArrayTree()

    layer = tl.Unicode("", help="the layer whose channels are shown (one of layer_names)").tag(sync=True)
    channel = tl.Int(0, help="the selected channel").tag(sync=True)
    opacity = tl.Float(0.6, help="opacity of the channel map over the image, 0..1").tag(sync=True)
    show = tl.Unicode("x", help="what the grid tiles: 'x', 'x2' or 'diff'").tag(sync=True)
    rank_by = tl.Unicode("max", help="how the list ranks channels: 'max' or 'change'").tag(sync=True)

    def __init__(
        self,
        model,
        x,
        layer: str | None = None,
        x2=None,
        *,
        layers=None,
        image=None,
        image2=None,
        names=("x", "x2"),
        channel: int | None = None,
        opacity: float = 0.6,
        top: int = 10,
    ):
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
        super().__init__()
        self._model = model
        self._x = _one_image(x, "x")
        self._x2 = None if x2 is None else _one_image(x2, "x2")
        if self._x2 is not None and self._x2.shape != self._x.shape:
            raise ValueError(
                f"x2 has shape {tuple(self._x2.shape)}; it must have the shape of x, {tuple(self._x.shape)}"
            )
        if self._x2 is None and image2 is not None:
            raise ValueError("image2 was given without x2")
        names = [check_text(str(n), f"names[{k}]") for k, n in enumerate(names)]
        if len(names) != 2:
            raise ValueError(f"names must be two strings (for x and x2); got {names}")
        top = check_int(top, "top", low=1, expected="a positive int (rows of the ranked list)")
        self._cache: dict = {}
        self._choices = self._find_choices(layers)
        pictures = [_picture(self._x, image, "image")]
        if self._x2 is not None:
            pictures.append(_picture(self._x2, image2, "image2"))
        pictures = _to_unit(*pictures)
        self._images = {"image": WireArray(pictures[0], "uint8")}
        if len(pictures) > 1:
            self._images["image2"] = WireArray(pictures[1], "uint8")
        self._static_meta = {
            "layers": [{k: c[k] for k in ("name", "label", "kind")} for c in self._choices],
            "image_shape": list(pictures[0].shape),
            "has_x2": self._x2 is not None,
            "names": names,
            "top": top,
        }
        self.opacity = opacity
        self.layer = layer if layer is not None else self._choices[0]["name"]
        self.channel = self.strongest if channel is None else channel

    # ---- layers ------------------------------------------------------------------------------------------------------
    def _find_choices(self, layers) -> list[dict]:
        if layers is None:
            found = layer_choices(self._model, self._x)
            if not found:
                raise ValueError(
                    f"{type(self._model).__name__} has no convolution that runs on this input; name the layers to "
                    "show with layers=[...] (any names lstm_widget.activations accepts)"
                )
            return found
        if isinstance(layers, str):
            layers = [layers]
        names = list(dict.fromkeys(layers))
        if not names:
            raise ValueError("layers= is empty; name at least one layer")
        return [{"name": n, "label": n, "kind": "other"} for n in names]

    @property
    def layer_names(self) -> list[str]:
        """The layers the picker offers."""
        return [c["name"] for c in self._choices]

    def _maps(self, layer: str, x: torch.Tensor) -> np.ndarray:
        acts = activations(self._model, x, layers=[layer])
        key = layer if layer in acts else next(iter(acts))
        return channel_maps(acts[key][0], f"the output of {key!r}")

    def _compute(self, layer: str) -> tuple:
        if layer not in self._cache:
            a = self._maps(layer, self._x)
            b = None if self._x2 is None else self._maps(layer, self._x2)
            self._cache[layer] = (a, b)
        return self._cache[layer]

    @tl.validate("layer")
    def _check_layer(self, proposal):
        name = proposal["value"]
        if name not in self.layer_names:
            raise tl.TraitError(f"layer {name!r} is not one of this grid's layers: {', '.join(self.layer_names)}")
        try:
            self._compute(name)
        except (ValueError, TypeError) as err:
            raise tl.TraitError(f"layer {name!r}: {err}") from err
        return name

    @tl.observe("layer")
    def _send_layer(self, change):
        a, b = self._compute(change["new"])
        with self.hold_sync():
            if not 0 <= self.channel < a.shape[0]:
                self.channel = int(rank_channels(a, 1)[0])
            self._meta, self._arrays = self._assemble(change["new"], a, b)

    def _assemble(self, layer: str, a: np.ndarray, b: np.ndarray | None) -> tuple[dict, dict]:
        C, h, w = a.shape
        lo, hi = channel_range(a) if b is None else channel_range(a, b)
        arrays = dict(self._images)
        arrays.update(
            maps=WireArray(normalize_channels(a, lo, hi), "float16"),
            lo=WireArray(lo, "float32"),
            hi=WireArray(hi, "float32"),
            peak=WireArray(a.reshape(C, -1).max(axis=1), "float32"),
            rank=WireArray(rank_channels(a), INDEX_DTYPE),
        )
        if b is not None:
            arrays.update(
                maps2=WireArray(normalize_channels(b, lo, hi), "float16"),
                diff=WireArray(channel_difference(a, b), "float16"),
                peak2=WireArray(b.reshape(C, -1).max(axis=1), "float32"),
                change=WireArray(channel_change(a, b), "float32"),
                rank_diff=WireArray(rank_by_difference(a, b), INDEX_DTYPE),
            )
        meta = dict(self._static_meta, layer=layer, n_channels=C, map_shape=[h, w], grid=list(grid_shape(C)))
        return meta, arrays

    # ---- other traits ------------------------------------------------------------------------------------------------
    @tl.validate("channel")
    def _check_channel(self, proposal):
        c = proposal["value"]
        n = self._cache[self.layer][0].shape[0] if self.layer in self._cache else None
        if n is not None and not 0 <= c < n:
            raise tl.TraitError(f"channel {c} is out of range: layer {self.layer!r} has {n} channels (0..{n - 1})")
        return c

    @tl.validate("opacity")
    def _check_opacity(self, proposal):
        v = float(proposal["value"])
        if not 0.0 <= v <= 1.0:
            raise tl.TraitError(f"opacity must lie in [0, 1]; got {v}")
        return v

    @tl.validate("show")
    def _check_show(self, proposal):
        return self._choice("show", proposal["value"], SHOW, alone=("x",))

    @tl.validate("rank_by")
    def _check_rank_by(self, proposal):
        return self._choice("rank_by", proposal["value"], RANK_BY, alone=("max",))

    def _choice(self, name: str, v, options: tuple, alone: tuple):
        """``v`` when it is one of ``options`` and, unless it is one of ``alone``, a second input was given."""
        if v not in options:
            raise tl.TraitError(f"{name} must be one of {options}; got {v!r}")
        if v not in alone and self._x2 is None:
            raise tl.TraitError(f"{name}={v!r} needs a second input: ChannelGrid(model, x, x2=...)")
        return v

    # ---- what the grid shows, for code -------------------------------------------------------------------------------
    @property
    def maps(self) -> np.ndarray:
        """The shown layer's activations on ``x``: (C, H, W) float32, raw values."""
        return self._compute(self.layer)[0].copy()

    @property
    def maps2(self) -> np.ndarray | None:
        """The shown layer's activations on ``x2`` (None without ``x2``)."""
        b = self._compute(self.layer)[1]
        return None if b is None else b.copy()

    @property
    def normalized(self) -> np.ndarray:
        """What the tiles show for ``x``: every channel scaled to [0, 1] (over both inputs when there is ``x2``)."""
        a, b = self._compute(self.layer)
        lo, hi = channel_range(a) if b is None else channel_range(a, b)
        return normalize_channels(a, lo, hi)

    @property
    def difference(self) -> np.ndarray | None:
        """``x - x2`` per channel on the joint per-channel scale, in [-1, 1] (None without ``x2``)."""
        a, b = self._compute(self.layer)
        return None if b is None else channel_difference(a, b)

    @property
    def ranking(self) -> np.ndarray:
        """Channels by their largest activation on ``x``, strongest first."""
        return rank_channels(self._compute(self.layer)[0])

    @property
    def strongest(self) -> int:
        """The channel with the largest activation on ``x`` (the first of ``ranking``)."""
        return int(self.ranking[0])

    def __repr__(self) -> str:
        C = self._compute(self.layer)[0].shape[0]
        two = ", x2" if self._x2 is not None else ""
        return f"ChannelGrid({type(self._model).__name__}, layer={self.layer!r} ({C} channels), channel={self.channel}{two})"
