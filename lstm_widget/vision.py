"""The channel maths behind :class:`~lstm_widget.ChannelGrid`, public for notebooks that follow the steps by hand:
a convolutional layer's activations as per-channel 2-D maps, normalised, ranked, compared between two inputs,
tiled into one image and resized to the input's size (``import lstm_widget.vision`` or ``lw.vision``)."""

from ._core.vision import (
    channel_change,
    channel_difference,
    channel_maps,
    grid_shape,
    layer_choices,
    normalize_channels,
    rank_by_difference,
    rank_channels,
    resize_bilinear,
    strongest_channel,
    tile_channels,
)

__all__ = [
    "channel_change",
    "channel_difference",
    "channel_maps",
    "grid_shape",
    "layer_choices",
    "normalize_channels",
    "rank_by_difference",
    "rank_channels",
    "resize_bilinear",
    "strongest_channel",
    "tile_channels",
]
