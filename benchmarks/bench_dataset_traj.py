"""The whole data set on the trajectory's map, kernel side: seconds to place every step of a recorded store
(``DatasetExplorer._dataset_traj``) and what it holds meanwhile (printed figures, no assertions).

    python benchmarks/bench_dataset_traj.py [--n 10000] [--T 100] [--repeat 3] [--keep PATH]

The store: ``n`` sequences × ``T`` steps of a small LSTM (4 → 16, 4 classes; benchmarks/_dataset_store.py), every
quantity recorded. Printed: the time ``make_store`` takes, ``Explorer.from_dataset`` (open, fit IncrementalPCA over
the store, read the first window, place every step), the placing alone (``StorePager.place_store``: one pass over
the chunks; median of ``--repeat``), its tracemalloc peak against the float32 result and a chunk of states, and a
change of ``projection_quantity`` (refit over the store + placing again). ``--keep PATH`` records the store there
(or reuses one already there) instead of a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc

import torch
from _dataset_store import make_store, store_labels

import lstm_widget as lw
from lstm_widget._widget.recorded import DATASET_TRAJ_BYTES


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="sequences (default 10 000)")
    parser.add_argument("--T", type=int, default=100, help="steps per sequence (default 100)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", default=None, help="record the store here (reused when it exists)")
    args = parser.parse_args()
    tmp = None if args.keep else tempfile.mkdtemp(prefix="bench_dataset_traj_")
    path = args.keep or os.path.join(tmp, "traj.zarr")
    try:
        reused = args.keep is not None and os.path.exists(path)
        t0 = time.perf_counter()
        make_store(path, n=args.n, T=args.T, overwrite=False)
        made = time.perf_counter() - t0
        ds = lw.open_dataset(path)
        print(
            f"store: {len(ds)} sequences × {args.T} steps = {ds.n_steps:,} steps, 4 → LSTM 16 → 4 classes, every "
            f"quantity, chunks of {ds.chunk_steps} steps; torch threads {torch.get_num_threads()}, "
            f"{os.cpu_count()} CPU cores"
        )
        if reused:
            print(f"  make_store: reused the store at {path}")
        else:
            print(f"  make_store (record_dataset): {made:.2f} s ({ds.n_steps / made:,.0f} steps/s)")

        labels = store_labels(len(ds))
        t0 = time.perf_counter()
        w = lw.Explorer.from_dataset(path, labels=labels)
        built = time.perf_counter() - t0
        dt = w._dataset_traj
        if dt.get("note"):
            print(f"  _dataset_traj not sent: {dt['note']}")
            return
        points = dt["points"]
        size = sum(a.nbytes for a in (points, dt["offsets"], dt["classes"]))
        print(
            f"  Explorer.from_dataset (open, fit over the store, window, place every step): {built:.2f} s; "
            f"_dataset_traj {points.shape} float32 + offsets + classes = {size / 2**20:.1f} MiB "
            f"(cap DATASET_TRAJ_BYTES {DATASET_TRAJ_BYTES / 2**20:.0f} MiB)"
        )

        pager, trajectory = w._pager, w._trajectory
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            pager.place_store(trajectory.fitted, *trajectory.key)
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        print(
            f"  placing every step (StorePager.place_store), median of {args.repeat}: {median:.3f} s "
            f"({ds.n_steps / median / 1e6:.1f} M steps/s; runs {', '.join(f'{t:.3f}' for t in times)})"
        )
        tracemalloc.start()
        pager.place_store(trajectory.fitted, *trajectory.key)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        chunk = min(ds.chunk_steps, ds.n_steps) * ds.units["h"] * 4
        print(
            f"  its tracemalloc peak: {peak / 2**20:.1f} MiB (the result {points.nbytes / 2**20:.1f} MiB; one chunk "
            f"of h {chunk / 2**20:.1f} MiB float32, twice that as float64 inside transform)"
        )

        t0 = time.perf_counter()
        w.projection_quantity = "c"
        changed = time.perf_counter() - t0
        print(f"  projection_quantity = 'c' (refit IncrementalPCA over the store + place again): {changed:.2f} s")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
