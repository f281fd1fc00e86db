"""Projections of hidden states to 2-D: any scikit-learn style transformer (fit / transform); "pca" by default."""

from __future__ import annotations

import numpy as np


def make_projection(projection="pca", n_components: int = 2):
    """Return a transformer: "pca" → scikit-learn PCA; an object with fit/transform is used as given."""
    if isinstance(projection, str):
        if projection != "pca":
            raise ValueError(f"projection {projection!r} is not known; expected 'pca' or a scikit-learn transformer")
        from sklearn.decomposition import PCA

        return PCA(n_components=n_components, random_state=0)
    if not (hasattr(projection, "fit") and hasattr(projection, "transform")):
        raise TypeError(
            f"projection must be 'pca' or an object with fit() and transform(); got {type(projection).__name__}"
        )
    return projection


def _is_fitted(projection) -> bool:
    return any(k.endswith("_") and not k.startswith("__") for k in vars(projection))


def fit_projection(projection, states: np.ndarray):
    """Fit ``projection`` on ``states`` (N, units) unless it is already fitted; return it."""
    if _is_fitted(projection):
        return projection
    if states.shape[0] < 2 or states.shape[1] < 2:
        return None  # too little to project: coordinates fall back to the first units
    return projection.fit(states)


def project(projection, states: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Coordinates (N, n_components) of ``states`` under a fitted projection (zero-padded if it gives fewer)."""
    if projection is None:
        coords = states[:, :n_components]
    else:
        coords = np.asarray(projection.transform(states), dtype=np.float32)
    out = np.zeros((states.shape[0], n_components), dtype=np.float32)
    out[:, : min(n_components, coords.shape[1])] = coords[:, :n_components]
    return out
