"""Vision: the channel-grid maths for convolutional layers (normalise, tile, rank, compare two inputs)."""

from .channels import (
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
