"""A small convolutional network for scikit-learn's handwritten digits (upsampled to 32×32): the CNN of the
"which channels fire, and where" example (seed 3: MATLAB's "Visualize Activations of a Convolutional Neural
Network").

Three 3×3 convolutions, each followed by its own ``nn.ReLU`` module — so that every convolution's output can be
looked at before (``convK``) and after (``reluK``) its ReLU, as the seed does — with 2×2 max pooling after the first
two, global average pooling and one linear layer for the 10 digits. Fully convolutional up to the pooling: it accepts
images of any size, although it was trained on 32×32.
"""

from __future__ import annotations

import torch
from torch import nn

N_CLASSES = 10
CHANNELS = (32, 48, 64)


class DigitsCNN(nn.Module):
    """``x (B, 1, H, W) in [0, 1] -> logits (B, 10)`` (trained with H = W = 32).

    Submodules, in the order the forward pass calls them (other code and the notebook rely on these names):
    ``conv1`` (1 → 32 channels, 32×32) ``relu1`` ``pool1`` (→ 16×16) ``conv2`` (32 → 48) ``relu2`` ``pool2``
    (→ 8×8) ``conv3`` (48 → 64) ``relu3`` ``gap`` (global average) ``flatten`` ``fc`` (64 → 10).
    """

    def __init__(self, channels: tuple = CHANNELS, n_classes: int = N_CLASSES):
        super().__init__()
        c1, c2, c3 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(c2, c3, 3, padding=1)
        self.relu3 = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c3, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Everything up to the global average pooling: (B, 64, H/4, W/4)."""
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.relu3(self.conv3(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.gap(self.features(x))))
