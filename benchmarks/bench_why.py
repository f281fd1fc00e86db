"""The Why section's kernel half on the bundled Japanese Vowels network: what explaining a prediction and
re-running under an intervention cost, and how complete integrated gradients are.

Prints, per figure, the median of several runs (ms) on one test sequence, and the completeness error of integrated
gradients over every step of 20 test sequences for both quadrature rules (default 128 steps). Never fails on speed.

    python benchmarks/bench_why.py [--threads N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import lstm_widget as lw


def median_ms(fn, repeat=7):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = lw.models.japanese_vowels_net()
    X, _ = lw.datasets.japanese_vowels("test")
    x = max(X[:50], key=len)
    T = len(x)
    print(f"Japanese Vowels test sequence of {T} steps, LSTM 100, 9 classes, {args.threads} thread(s)")
    rows = [
        ("record (plain)", lambda: lw.record(model, x)),
        (
            "record, zero 10 h units from step T/2",
            lambda: lw.record(model, x, interventions=lw.Intervention("h", units=list(range(10)), start=T // 2)),
        ),
        (
            "record, zero 10 h units from step 0",
            lambda: lw.record(model, x, interventions=lw.Intervention("h", units=list(range(10)), start=0)),
        ),
        ("influence, gradient x input, one t", lambda: lw.influence(model, x, method="gradient_x_input")),
        ("influence, IG 128 steps adaptive, one t", lambda: lw.influence(model, x)),
        ("influence, IG 128 steps gauss_legendre, one t", lambda: lw.influence(model, x, quadrature="gauss_legendre")),
        ("influence_all, gradient x input, every t", lambda: lw.influence_all(model, x, method="gradient_x_input")),
        ("influence_all, IG 128 steps adaptive, every t", lambda: lw.influence_all(model, x)),
    ]
    base = None
    for name, fn in rows:
        ms = median_ms(fn, repeat=3 if "influence_all, IG" in name else 7)
        base = base or ms
        print(f"  {name:48s} {ms:9.2f} ms   {ms / base:7.1f} x record")
    print("IG completeness error |sum - (f(x) - f(0))| / |f(x) - f(0)|, every step of 20 test sequences, 128 steps:")
    for quad in ("adaptive", "gauss_legendre"):
        errs = np.concatenate(
            [lw.influence_all(model, X[k], quadrature=quad).completeness_error for k in range(0, 370, 19)]
        )
        print(
            f"  {quad:15s} median {np.median(errs):.1e}  p90 {np.quantile(errs, 0.9):.1e}  max {errs.max():.1e}  "
            f"share over 1 %: {(errs > 0.01).mean():.1%}"
        )


if __name__ == "__main__":
    main()
