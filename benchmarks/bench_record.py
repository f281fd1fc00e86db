"""How much recording costs against a plain forward pass of the same network (printed ratios, one run).

    python benchmarks/bench_record.py [--threads N]

Both sides of every ratio run with the same torch thread count (``--threads``, default torch's own), printed first:
on a busy machine two threads can be slower than one (each step's small ops wait for the other thread).
"""

import argparse
import time

import torch

import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net


def best_of(fn, repeat=5):
    """The best wall time of ``repeat`` runs (and, as ``best_of.cpu``, the best CPU time of this process: on a
    shared machine it counts what the run computed, not the time other processes held the cores)."""
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    best_of.cpu = min(cpu)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads for both sides")
    torch.set_num_threads(max(1, parser.parse_args().threads))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s) for the forward and for lw.record")
    net = japanese_vowels_net()
    X, _ = japanese_vowels("test")
    tensors = [torch.from_numpy(x)[None] for x in X]

    def forward_all():
        with torch.no_grad():
            for x in tensors:
                net(x)

    t_fwd = best_of(forward_all)
    c_fwd = best_of.cpu
    t_rec = best_of(lambda: lw.record(net, X))
    c_rec = best_of.cpu
    print("Japanese Vowels test set (370 sequences, 12 → LSTM 100 → 9):")
    print(f"  plain forward, one call per sequence: {t_fwd * 1e3:8.1f} ms")
    print(
        f"  lw.record (every gate, c, h, probs):  {t_rec * 1e3:8.1f} ms   ratio {t_rec / t_fwd:5.2f}"
        f"   (CPU time ratio {c_rec / c_fwd:5.2f})"
    )

    B, T, D, H = 64, 1000, 64, 256
    lstm = torch.nn.LSTM(D, H, batch_first=True).eval()
    x = torch.randn(B, T, D)
    seqs = list(x.numpy())
    with torch.no_grad():
        t_fwd = best_of(lambda: lstm(x), repeat=3)
    c_fwd = best_of.cpu
    t_rec = best_of(lambda: lw.record(lstm, seqs), repeat=3)
    c_rec = best_of.cpu
    values = 6 * B * T * H
    print(f"A batch of {B} sequences, T={T} × D={D} × H={H}:")
    print(f"  plain nn.LSTM forward:               {t_fwd * 1e3:8.1f} ms")
    print(
        f"  lw.record ({values / 1e6:.0f} M values):          {t_rec * 1e3:8.1f} ms   ratio {t_rec / t_fwd:5.2f}"
        f"   (CPU time ratio {c_rec / c_fwd:5.2f}; goal ≤ 1.5)"
    )


if __name__ == "__main__":
    main()
