"""Projections of hidden states to 2-D / 3-D: anything with the scikit-learn transformer API (PCA by default, the
denoising autoencoder, UMAP …), fitted in memory or incrementally over a recorded store (scikit-learn is imported
on first use)."""

from .fit import fit_projection_incremental

__all__ = [
    "fit_projection_incremental",
]
