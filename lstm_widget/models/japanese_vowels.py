"""The Japanese Vowels speaker classifier (the network of MATLAB's "Visualize Activations of LSTM Network").

One unidirectional LSTM layer with 100 hidden units reads the 12 LPC cepstrum coefficients of an utterance,
frame by frame, after a per-feature normalisation computed on the training set; a linear head maps the hidden
state of the last frame to the logits of the 9 speakers.
"""

from __future__ import annotations

import torch
from torch import nn

N_FEATURES = 12
N_HIDDEN = 100
N_CLASSES = 9


class JapaneseVowelsNet(nn.Module):
    """``x (B, T, 12) -> logits (B, 9)``.

    Submodules and buffers (other code relies on these names):

    - ``mean``, ``std``: buffers of shape (12,), the input normalisation (training-set statistics);
    - ``lstm``: ``nn.LSTM(12, 100, batch_first=True)``; its input is exactly ``(x - mean) / std``;
    - ``head``: ``nn.Linear(100, 9)`` applied to the LSTM output of the last step.

    Applying ``head`` to every step's hidden state gives a per-step prediction; at the last step it equals the
    model's output.
    """

    def __init__(self, n_features: int = N_FEATURES, n_hidden: int = N_HIDDEN, n_classes: int = N_CLASSES):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        self.lstm = nn.LSTM(n_features, n_hidden, batch_first=True)
        self.head = nn.Linear(n_hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.mean) / self.std
        out, _ = self.lstm(z)
        return self.head(out[:, -1])
