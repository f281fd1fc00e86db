"""How much recording costs against a plain forward pass of the same network (printed ratios, one run).

    python benchmarks/bench_record.py [--threads N] [--repeat 3] [--bare]

Every figure is the median of ``--repeat`` runs (forward and record alternate), wall time and this process's CPU
time: on a shared machine the CPU-time ratio leaves out the time other processes held the cores. Both sides of every
ratio run with the same torch thread count (``--threads``, default torch's own), printed first.

The goal rows record a model (an ``nn.LSTM`` and a Linear head on its last step), which ``lw.record`` observes: the
model's own forward runs once (with a batch wide enough, the fused pass stands in for the ``nn.LSTM``'s kernel
and keeps every gate as it goes; otherwise the recording reuses the module's output and recomputes the gates). At
1 × 10 000 × 32 → 1024, ``lw.Explorer(model, [x])`` is timed too (goal ≤ 1.5 × the forward). A bare ``nn.LSTM`` (recorded from its
weights, with nothing to observe) is printed beside each with ``--bare``.
"""

import argparse
import statistics
import time

import torch
from torch import nn

import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net


class Classifier(nn.Module):
    """An nn.LSTM (batch first) and a Linear head on its last step: the model the goal rows record."""

    def __init__(self, D, H, classes=10):
        super().__init__()
        self.lstm = nn.LSTM(D, H, batch_first=True)
        self.head = nn.Linear(H, classes)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


def _timed(fn):
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - start_cpu


def ratio(forward, record, repeat):
    """Medians of ``repeat`` alternating runs: (forward wall, record wall, forward CPU, record CPU) in seconds."""
    fw, rw, fc, rc = [], [], [], []
    for _ in range(repeat):
        with torch.no_grad():
            w, c = _timed(forward)
        fw.append(w), fc.append(c)
        w, c = _timed(record)
        rw.append(w), rc.append(c)
    return tuple(statistics.median(v) for v in (fw, rw, fc, rc))


def row(label, times, goal=None):
    fw, rw, fc, rc = times
    aim = f"   goal ≤ {goal}" if goal else ""
    print(
        f"  {label:<34} forward {fw * 1e3:8.1f} ms   record {rw * 1e3:8.1f} ms   ratio {rw / fw:5.2f}"
        f"   (CPU time ratio {rc / fc:5.2f}){aim}",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads for both sides")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the median is printed)")
    parser.add_argument("--bare", action="store_true", help="also a bare nn.LSTM of each size, from its weights")
    args = parser.parse_args()
    torch.set_num_threads(max(1, args.threads))
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s) for the forward and for lw.record; "
        f"medians of {args.repeat}"
    )
    torch.manual_seed(0)

    net = japanese_vowels_net()
    X, _ = japanese_vowels("test")
    tensors = [torch.from_numpy(x)[None] for x in X]

    def forward_all():
        for x in tensors:
            net(x)

    print("Japanese Vowels test set (370 sequences, 12 → LSTM 100 → 9), one forward call per sequence:")
    row("lw.record(net, X)", ratio(forward_all, lambda: lw.record(net, X), args.repeat))

    for B, T, D, H in ((64, 1000, 64, 256), (1, 10_000, 32, 1024)):
        sized(B, T, D, H, args.repeat, args.bare)


def sized(B, T, D, H, repeat, bare):
    """The goal row of one size (and, with ``bare``, a bare nn.LSTM of that size recorded from its weights)."""
    model = Classifier(D, H).eval()
    x = torch.randn(B, T, D)
    seqs = list(x.numpy())
    print(f"A batch of {B} × T {T} × D {D} → H {H} ({6 * B * T * H / 1e6:.0f} M values):", flush=True)
    row("lw.record(model): LSTM + head", ratio(lambda: model(x), lambda: lw.record(model, seqs), repeat), goal=1.3)
    if B == 1:  # the explorer of that one sequence: recording, projection fit and the page's payload
        row("lw.Explorer(model, [x]) made", ratio(lambda: model(x), lambda: lw.Explorer(model, seqs), repeat), goal=1.5)
    if bare:
        row(
            "lw.record(nn.LSTM) from weights", ratio(lambda: model.lstm(x), lambda: lw.record(model.lstm, seqs), repeat)
        )


if __name__ == "__main__":
    main()
