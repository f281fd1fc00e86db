"""A recorded data set for the benchmarks of the data-set explorer: ``make_store(path)`` records ``n`` synthetic
sequences of ``T`` steps through a small LSTM classifier (D → LSTM H → C classes, a Linear on the last step, seeded)
with :func:`lstm_widget.record_dataset` — every quantity, as ``Explorer.from_dataset`` needs — and returns the path;
``store_labels`` gives each sequence its class, the one its inputs were drawn around.

    from _dataset_store import make_store, store_labels     # run from benchmarks/, or with it on sys.path
    path = make_store("/tmp/traj.zarr")                      # 10 000 sequences × 100 steps: 1 M steps
    ex = lw.Explorer.from_dataset(path, labels=store_labels())

The sequences are given as a generator (never all in memory). Each class drifts along a direction of its own in
input space, so that the hidden states of different classes lie apart on the trajectory's map.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import torch

import lstm_widget as lw


class TinyClassifier(torch.nn.Module):
    """D → LSTM H → Linear(C) on the last step's h."""

    def __init__(self, D: int = 4, H: int = 16, C: int = 4):
        super().__init__()
        self.lstm = torch.nn.LSTM(D, H, batch_first=True)
        self.head = torch.nn.Linear(H, C)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def store_labels(n: int = 10_000, classes: int = 4, seed: int = 0) -> list[int]:
    """The class of each of the ``n`` sequences :func:`make_store` records with the same ``classes`` and ``seed``."""
    return np.random.default_rng(seed).integers(0, classes, n).tolist()


def _sequences(n: int, T: int, D: int, classes: int, seed: int):
    labels = store_labels(n, classes, seed)
    rng = np.random.default_rng(seed + 1)
    drift = rng.standard_normal((classes, D)).astype(np.float32) * 0.3
    for k in range(n):
        steps = 0.5 * rng.standard_normal((T, D)).astype(np.float32) + drift[labels[k]]
        yield np.cumsum(steps, axis=0) / np.sqrt(np.arange(1, T + 1, dtype=np.float32))[:, None]


def make_store(
    path,
    n: int = 10_000,
    T: int = 100,
    *,
    D: int = 4,
    H: int = 16,
    classes: int = 4,
    seed: int = 0,
    batch_size: int = 512,
    overwrite: bool = True,
) -> str:
    """Record ``n`` sequences of ``T`` steps × ``D`` features through a seeded ``TinyClassifier(D, H, classes)`` into
    a store at ``path`` (replaced when ``overwrite``; else an existing store there is kept as it is) and return the
    path as a str."""
    path = os.fspath(path)
    if os.path.exists(path):
        if not overwrite:
            return path
        shutil.rmtree(path)
    torch.manual_seed(seed)
    net = TinyClassifier(D, H, classes).eval()
    lw.record_dataset(net, _sequences(n, T, D, classes, seed), path, batch_size=batch_size, progress=False)
    return path
