"""record_dataset throughput (sequences/s) in one process and on a Dask LocalCluster of 2 workers, and peak memory
(printed figures, one run; no assertions).

    python benchmarks/bench_dataset.py [--n 3000] [--batch-size 256]

Synthetic sequences of Japanese Vowels shape (7–29 steps × 12 features, as the real set) go through the bundled
network (12 → LSTM 100 → 9), every quantity recorded (h, c, i, f, g, o, logits, probs: ~2.4 KB per step). They are
given as a generator, so that the sequences themselves are never all in memory: the peak memory printed is then what
record_dataset holds (a batch, the chunks being written), to be compared with the size of the store it writes.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import threading
import time
import tracemalloc

import numpy as np
import torch

import lstm_widget as lw
from lstm_widget.models import japanese_vowels_net


def sequences(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield rng.standard_normal((int(rng.integers(7, 30)), 12)).astype(np.float32)


def rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakRSS:
    """The highest resident set size of this process while the block runs, sampled every 5 ms."""

    def __enter__(self):
        self.base = self.peak = rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())


def store_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def run(net, n, path, **kw):
    shutil.rmtree(path, ignore_errors=True)
    start = time.perf_counter()
    ds = lw.record_dataset(net, sequences(n), path, progress=False, **kw)
    return time.perf_counter() - start, ds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="sequences (default 3000)")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    n, batch = args.n, args.batch_size
    net = japanese_vowels_net()
    threads = torch.get_num_threads()
    tmp = tempfile.mkdtemp(prefix="bench_dataset_")
    try:
        run(net, 64, os.path.join(tmp, "warm.zarr"), batch_size=batch)  # imports, first-call costs
        print(
            f"record_dataset: {n} synthetic Japanese-Vowels-shaped sequences (7–29 steps × 12) through "
            f"12 → LSTM 100 → 9, batch_size={batch}, every quantity, {os.cpu_count()} CPU cores"
        )

        rows = []
        for label, kw in (
            (f"one process, torch threads={threads}", {"threads": threads}),
            ("one process, torch threads=1", {"threads": 1}),
        ):
            with PeakRSS() as mem:
                dt, ds = run(net, n, os.path.join(tmp, f"single{kw['threads']}.zarr"), batch_size=batch, **kw)
            rows.append((label, dt, mem.peak - mem.base))
        size = store_bytes(ds.group.store.root)
        steps = ds.n_steps
        with PeakRSS() as mem:  # twice the sequences: the peak should not grow with them (bounded by a batch)
            dt_2, _ = run(net, 2 * n, os.path.join(tmp, "double.zarr"), batch_size=batch, threads=1)
        double = (2 * n, dt_2, mem.peak - mem.base)
        shutil.rmtree(os.path.join(tmp, "double.zarr"), ignore_errors=True)

        tracemalloc.start()
        run(net, n, os.path.join(tmp, "traced.zarr"), batch_size=batch, threads=1)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        )
        client = Client(cluster)
        startup = time.perf_counter() - t0
        try:
            run(net, 64, os.path.join(tmp, "warm_dask.zarr"), batch_size=batch, threads=1, client=client)
            worker_base = client.run(rss)
            with PeakRSS() as mem:
                dt, dds = run(net, n, os.path.join(tmp, "dask.zarr"), batch_size=batch, threads=1, client=client)
            worker_after = client.run(rss)
            rows.append(("Dask LocalCluster, 2 workers × 1 thread", dt, mem.peak - mem.base))
            same = all(ds.group[k][...].tobytes() == dds.group[k][...].tobytes() for k in ds.arrays)
        finally:
            client.close()
            cluster.close()

        print(f"  store: {steps} steps, {size / 2**20:.1f} MiB on disk (uncompressed chunks)")
        print(f"  {'':42s} {'seconds':>8s} {'seq/s':>8s} {'steps/s':>9s} {'peak RSS growth':>16s}")
        for label, dt, grow in rows:
            print(f"  {label:42s} {dt:8.2f} {n / dt:8.0f} {steps / dt:9.0f} {grow / 2**20:13.1f} MiB")
        print(
            f"  one process, threads=1, twice the sequences ({double[0]}): {double[1]:.2f} s, peak RSS growth "
            f"{double[2] / 2**20:.1f} MiB (bounded by a batch and a few chunks, not by the number of sequences)"
        )
        print(
            f"  Dask cluster start (not counted above): {startup:.1f} s; workers' RSS after the run: "
            + ", ".join(f"{v / 2**20:.0f} MiB" for v in worker_after.values())
            + " (before: "
            + ", ".join(f"{v / 2**20:.0f}" for v in worker_base.values())
            + ")"
        )
        print(
            f"  tracemalloc peak (numpy and Python objects; torch's own buffers are not traced), one process: "
            f"{traced_peak / 2**20:.1f} MiB against a {size / 2**20:.1f} MiB store"
        )
        print(f"  Dask store byte-identical to the one-process store (threads=1): {same}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
