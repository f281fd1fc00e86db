"""The channel maths behind :class:`~lstm_widget.ChannelGrid`, public for notebooks that follow the steps by hand:
a convolutional layer's activations as per-channel 2-D maps, normalised, ranked, compared between two inputs,
tiled into one image and resized to the input's size (``import lstm_widget.vision`` or ``lw.vision``). The names
are those of the core's vision package, listed once there."""

from ._core.vision import *  # noqa: F403  (every name of __all__, below)
from ._core.vision import __all__  # noqa: F401
