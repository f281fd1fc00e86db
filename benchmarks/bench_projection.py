"""How long the trajectory's projections take to fit (printed figures, one run; nothing here fails on speed).

    python benchmarks/bench_projection.py

1. PCA of 1 000 000 × 100 float32 states, as the Explorer does it (``fit_projection("pca", ...)``: 3 components, the
   ``covariance_eigh`` solver for data this shape — fit and the transform of every state), next to scikit-learn's
   randomized solver for comparison.                                                            goal ≤ 5 s
2. ``DenoisingAutoencoder()`` with its defaults (the seed's shape: 100 → 64 → linear 2 → 64 → 100, tanh, σ = 0.1,
   Adam, MSE; 40 epochs, batch "auto" = 512 here) on 100 000 × 100 states of the bundled Japanese Vowels network
   (its hidden state at every step of noisy copies of the utterances), with the final training loss and the
   reconstruction error next to 2- and 3-component PCA's.                                        goal ≤ 60 s

The 1 000 000 states of 1 are synthetic (a smooth 10-dimensional random walk through a random 10 → 100 map and tanh,
like a hidden state): recording that many steps takes long, and PCA's cost does not depend on what the numbers are.
"""

from __future__ import annotations

import time

import numpy as np
import torch

import lstm_widget as lw
from lstm_widget._core.projection.fit import fit_projection
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net


def synthetic_states(n: int, units: int = 100, latent: int = 10, seed: int = 0) -> np.ndarray:
    """(n, units) float32 in (-1, 1): tanh of a random map of a smooth random walk (AR(1), 0.99), plus noise."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    walk = lfilter([1.0], [1.0, -0.99], rng.standard_normal((n, latent), dtype=np.float32), axis=0)
    walk = (walk / walk.std(0)).astype(np.float32)
    states = np.tanh(walk @ rng.standard_normal((latent, units), dtype=np.float32) * 0.4)
    states += 0.05 * rng.standard_normal((n, units), dtype=np.float32)
    return states


def japanese_vowels_states(n: int, seed: int = 0) -> np.ndarray:
    """(n, 100): the bundled network's hidden state at every step of noisy copies of the Japanese Vowels utterances."""
    net = japanese_vowels_net()
    X = japanese_vowels("train")[0] + japanese_vowels("test")[0]
    rng = np.random.default_rng(seed)
    seqs, total = [], 0
    while total < n:
        x = X[rng.integers(len(X))]
        seqs.append((x + rng.normal(scale=0.1 * x.std(0), size=x.shape)).astype(np.float32))
        total += len(x)
    return np.concatenate([r.h[0] for r in lw.record(net, seqs)])[:n]


def pca_error(states: np.ndarray, k: int) -> float:
    from sklearn.decomposition import PCA

    pca = PCA(k).fit(states)
    return float(np.mean((pca.inverse_transform(pca.transform(states)) - states) ** 2))


def main():
    from sklearn.decomposition import PCA

    print(f"torch threads: {torch.get_num_threads()}")
    states = synthetic_states(1_000_000)
    start = time.perf_counter()
    proj, coords = fit_projection("pca", states)
    t_pca = time.perf_counter() - start
    start = time.perf_counter()
    PCA(3, svd_solver="randomized", random_state=0).fit(states).transform(states)
    t_randomized = time.perf_counter() - start
    print(
        f"1. PCA of {states.shape[0]:,} × {states.shape[1]} float32 states → {coords.shape[1]} components "
        f"(explained {', '.join(f'{v:.3f}' for v in proj.explained)})"
    )
    print(
        f"   as the Explorer does it (svd_solver={proj.transformer.svd_solver!r}), fit + transform: "
        f"{t_pca:6.2f} s   goal ≤ 5 s   {'ok' if t_pca <= 5 else 'MISSED'}"
    )
    print(f"   svd_solver='randomized', for comparison:                   {t_randomized:6.2f} s")

    start = time.perf_counter()
    states = japanese_vowels_states(100_000)
    t_record = time.perf_counter() - start
    ae = lw.DenoisingAutoencoder(progress=False)
    start = time.perf_counter()
    ae.fit(states)
    t_ae = time.perf_counter() - start
    sizes = [m.out_features for m in ae.encoder_ if isinstance(m, torch.nn.Linear)]
    print(
        f"2. DenoisingAutoencoder() on {states.shape[0]:,} × {states.shape[1]} Japanese Vowels hidden states "
        f"(recorded in {t_record:.1f} s, not counted)"
    )
    print(
        f"   {states.shape[1]} → {' → '.join(map(str, sizes))} (linear) → mirror; {ae.n_iter_} epochs, batch "
        f"{ae.batch_size_}, lr {ae.lr}, noise σ {ae.noise}"
    )
    print(f"   fit: {t_ae:6.2f} s ({t_ae / ae.n_iter_:.2f} s/epoch)   goal ≤ 60 s   {'ok' if t_ae <= 60 else 'MISSED'}")
    curve = ae.loss_curve_
    print(
        f"   training loss (noisy input, standardised units): epoch 1 {curve[0]:.4f}, "
        f"{len(curve) // 2} {curve[len(curve) // 2 - 1]:.4f}, {len(curve)} {curve[-1]:.4f}"
    )
    print(
        f"   reconstruction MSE: autoencoder (2-D) {ae.reconstruction_error_:.4f}   "
        f"PCA 2 components {pca_error(states, 2):.4f}   PCA 3 components {pca_error(states, 3):.4f}   "
        f"(state variance per unit {states.var(0).mean():.4f})"
    )


if __name__ == "__main__":
    main()
