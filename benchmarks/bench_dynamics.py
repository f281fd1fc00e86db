"""What watching a network learn and finding its fixed points cost (printed figures, one run).

    python benchmarks/bench_dynamics.py [--threads N] [--probes N]

(a) ``TrainingRecorder.snapshot`` against one plain forward of the same probe set (goal ≤ 1.5×); (b) seconds for
``lw.fixed_points`` of the bundled 100-unit Japanese Vowels network with 256 initial states drawn from its test-set
trajectories (goal ≤ 10 s on CPU). Wall and CPU times are printed: on a shared machine the CPU time counts what the
run computed, not the time other processes held the cores.
"""

import argparse
import time

import numpy as np
import torch

import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net


def best_of(fn, repeat=5):
    """The best wall time of ``repeat`` runs; the best CPU time of this process as ``best_of.cpu``."""
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
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads for every side")
    parser.add_argument("--probes", type=int, default=370, help="probe sequences (the first N of the test set)")
    args = parser.parse_args()
    torch.set_num_threads(max(1, args.threads))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    net = japanese_vowels_net()
    X, y = japanese_vowels("test")
    probes = X[: args.probes]

    # (a) a snapshot against a plain forward of the probe set
    by_length = {}
    for x in probes:
        by_length.setdefault(len(x), []).append(x)
    batches = [torch.from_numpy(np.stack(v)) for v in by_length.values()]
    singles = [torch.from_numpy(x)[None] for x in probes]

    def forward_batched():
        with torch.no_grad():
            for b in batches:
                net(b)

    def forward_single():
        with torch.no_grad():
            for x in singles:
                net(x)

    t_batched, c_batched = best_of(forward_batched), best_of.cpu
    t_single, c_single = best_of(forward_single), best_of.cpu
    tr = lw.TrainingRecorder(net, probes, labels=y[: len(probes)])
    epoch = iter(range(10**6))
    t_snap, c_snap = best_of(lambda: tr.snapshot(next(epoch), loss=0.0)), best_of.cpu
    t_rec, c_rec = best_of(lambda: lw.record(net, probes)), best_of.cpu
    print(f"(a) TrainingRecorder.snapshot of {len(probes)} Japanese Vowels sequences (12 → LSTM 100 → 9):")
    print(f"    plain forward, one call per length:   {t_batched * 1e3:8.1f} ms (CPU {c_batched * 1e3:7.1f} ms)")
    print(f"    plain forward, one call per sequence: {t_single * 1e3:8.1f} ms (CPU {c_single * 1e3:7.1f} ms)")
    print(f"    snapshot (every gate, c, h, probs):   {t_snap * 1e3:8.1f} ms (CPU {c_snap * 1e3:7.1f} ms)")
    print(f"    lw.record alone:                      {t_rec * 1e3:8.1f} ms (CPU {c_rec * 1e3:7.1f} ms)")
    print(f"    ratio to the forward per length   {t_snap / t_batched:5.2f} (CPU {c_snap / c_batched:5.2f})")
    print(f"    ratio to the forward per sequence {t_snap / t_single:5.2f} (CPU {c_snap / c_single:5.2f})   goal ≤ 1.5")

    # (b) fixed points of the 100-unit network
    mean_input = np.concatenate(X).mean(axis=0)
    start, start_cpu = time.perf_counter(), time.process_time()
    fp = lw.fixed_points(net, mean_input, sequences=X, n_inits=256, seed=0)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print("(b) lw.fixed_points of the Japanese Vowels network, the test set's mean input, 256 initial states from its")
    print(f"    trajectories: {wall:6.2f} s (CPU {cpu:6.2f} s)   goal ≤ 10 s — {fp!r}, max q {fp.q.max():.1e}")
    means = np.stack([np.concatenate([x for x, c in zip(X, y, strict=True) if c == k]).mean(axis=0) for k in range(9)])
    start, start_cpu = time.perf_counter(), time.process_time()
    fp = lw.fixed_points(net, means, sequences=X, n_inits=256, seed=0)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(f"    the 9 speakers' mean inputs, 256 initial states each: {wall:6.2f} s (CPU {cpu:6.2f} s) — {fp!r}")


if __name__ == "__main__":
    main()
