"""Models and readers shared by test files in tests/kernel, tests/widget and tests/ui (tests/ is on sys.path through
its conftest.py)."""

from __future__ import annotations

import json
import re
import threading

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


# Configurations of a torch nn.LSTM / nn.GRU that the kernel tests check record() on (each file adds its own extras).
RNN_CASES = [
    dict(num_layers=1),
    dict(num_layers=2),
    dict(num_layers=1, bidirectional=True),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=2, batch_first=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(num_layers=1, bias=False),
]


def run_torch(m: nn.Module, x: torch.Tensor) -> tuple:
    """A torch nn.LSTM / nn.GRU's own outputs for one sequence x (T, D), the batch axis dropped: out (T, dirs*H),
    then h_n (and c_n for an LSTM), each (layers*dirs, H)."""
    inp = x[None] if m.batch_first else x[:, None]
    with torch.no_grad():
        out, state = m(inp)
    out = out[0] if m.batch_first else out[:, 0]
    return (out.numpy(), *(s[:, 0].numpy() for s in (state if isinstance(state, tuple) else (state,))))


def export_state(path) -> dict:
    """The widget state embedded in a page written by ``save_html``."""
    from lstm_widget._widget.export import STATE_TYPE

    text = path.read_text(encoding="utf-8")
    m = re.search(rf'<script type="{re.escape(STATE_TYPE)}">(.*?)</script>', text, re.S)
    assert m, "no state element"
    return json.loads(m.group(1))


class FakeComm:
    """Stands in for the kernel's comm of a widget: keeps every message the widget sends — state updates and custom
    messages — in order (from any thread)."""

    kernel = object()
    comm_id = "test"

    def __init__(self):
        self.sent = []
        self._lock = threading.Lock()

    def send(self, data=None, buffers=None, **kwargs):
        with self._lock:
            self.sent.append(data)

    def on_msg(self, callback):
        pass

    def close(self, *args, **kwargs):
        pass

    def custom(self) -> list[dict]:
        """The custom messages (begin / append / end / abort), in order."""
        return [m["content"] for m in self.sent if m.get("method") == "custom"]
