"""How much recording costs against a plain forward pass of the same network (printed ratios, one run).

    python benchmarks/bench_record.py
"""

import time

import numpy as np
import torch

import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    torch.set_num_threads(max(1, torch.get_num_threads()))
    net = japanese_vowels_net()
    X, _ = japanese_vowels("test")
    tensors = [torch.from_numpy(x)[None] for x in X]

    def forward_all():
        with torch.no_grad():
            for x in tensors:
                net(x)

    t_fwd, t_rec = best_of(forward_all), best_of(lambda: lw.record(net, X))
    print(f"Japanese Vowels test set (370 sequences, 12 → LSTM 100 → 9):")
    print(f"  plain forward, one call per sequence: {t_fwd * 1e3:8.1f} ms")
    print(f"  lw.record (every gate, c, h, probs):  {t_rec * 1e3:8.1f} ms   ratio {t_rec / t_fwd:5.2f}")

    B, T, D, H = 64, 1000, 64, 256
    lstm = torch.nn.LSTM(D, H, batch_first=True).eval()
    x = torch.randn(B, T, D)
    seqs = list(x.numpy())
    with torch.no_grad():
        t_fwd = best_of(lambda: lstm(x), repeat=3)
    t_rec = best_of(lambda: lw.record(lstm, seqs), repeat=3)
    values = 6 * B * T * H
    print(f"A batch of {B} sequences, T={T} × D={D} × H={H}:")
    print(f"  plain nn.LSTM forward:               {t_fwd * 1e3:8.1f} ms")
    print(f"  lw.record ({values / 1e6:.0f} M values):          {t_rec * 1e3:8.1f} ms   ratio {t_rec / t_fwd:5.2f}"
          "   (goal ≤ 1.5)")

if __name__ == "__main__":
    main()
