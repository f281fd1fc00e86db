"""Models and readers shared by test files in tests/kernel, tests/widget and tests/ui (tests/ is on sys.path through
its conftest.py)."""

from __future__ import annotations

import json
import re

import torch
from torch import nn


class Classifier(nn.Module):
    """The common user shape: normalisation, an LSTM, a Linear head on the last step."""

    def __init__(self, batch_first=True, layers=2):
        super().__init__()
        self.register_buffer("mean", torch.linspace(-1, 1, 4))
        self.encoder = nn.LSTM(4, 8, num_layers=layers, batch_first=batch_first)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        out, _ = self.encoder(x - self.mean)
        return self.fc(out[:, -1] if self.encoder.batch_first else out[-1])


def export_state(path) -> dict:
    """The widget state embedded in a page written by ``save_html``."""
    from lstm_widget._widget.export import STATE_TYPE

    text = path.read_text(encoding="utf-8")
    m = re.search(rf'<script type="{re.escape(STATE_TYPE)}">(.*?)</script>', text, re.S)
    assert m, "no state element"
    return json.loads(m.group(1))
