"""Projections of recorded states to 2-D/3-D coordinates for the trajectory view.

Anything with the scikit-learn transformer API (``fit`` / ``transform``) plugs in: "pca" (the default), "autoencoder"
(:class:`~lstm_widget.DenoisingAutoencoder`), or a user's own transformer — PCA, UMAP, … — fitted (used as is) or
unfitted (fitted on the states it is given). :func:`fit_projection` fits one and returns a :class:`Projection`, which
then places any further states (live steps, new sequences) on the same map with ``transform`` — never a refit.

How many columns the named projections give:

- ``"pca"``: 3 when the states have ≥ 3 units (PCA's columns are ordered by variance, so the first two are exactly
  the 2-D PCA and the page can offer 2-D and 3-D from one fit); ``explained`` reports the explained variance ratio.
  With many more states than units (≥ 10×, ≤ 1000 units) it uses the ``covariance_eigh`` solver — one pass over
  the data, the eigendecomposition of a units × units matrix: 1 000 000 × 100 states take about a second (see
  ``benchmarks/bench_projection.py``) — otherwise the exact full SVD (small data) or a seeded randomized SVD.
- ``"autoencoder"``: ``DenoisingAutoencoder()`` with its defaults — a 2-unit bottleneck. An autoencoder's bottleneck
  units are not ordered like PCA's components: the first two of three are not a 2-D projection, so a 3-D map is a
  separate fit — pass ``DenoisingAutoencoder(n_components=3)`` for it.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import numpy as np

#: The projections known by name.
NAMED_PROJECTIONS = ("pca", "autoencoder")


def _describe(value) -> str:
    return repr(value) if isinstance(value, str) else f"an object of type {type(value).__name__}"


def check_projection(projection, argument: str = "projection"):
    """Refuse what cannot be a projection: a string other than :data:`NAMED_PROJECTIONS`, or an object without
    ``fit`` and ``transform``. Returns ``projection`` unchanged."""
    if isinstance(projection, str):
        if projection not in NAMED_PROJECTIONS:
            raise ValueError(
                f"{argument} {projection!r} is not known; expected 'pca', 'autoencoder' or a scikit-learn transformer "
                "(an object with fit() and transform())"
            )
        return projection
    missing = [m for m in ("fit", "transform") if not callable(getattr(projection, m, None))]
    if missing:
        raise TypeError(
            f"{argument} must be 'pca', 'autoencoder' or an object with fit() and transform() (a scikit-learn "
            f"transformer); got {_describe(projection)}, which has no {' and no '.join(f'{m}()' for m in missing)}"
        )
    return projection


def pca(n_components: int, n_samples: int, n_features: int):
    """scikit-learn's PCA with the solver that suits the data's shape: ``covariance_eigh`` (one pass, units × units
    eigenproblem) when there are ≥ 10× more samples than ≤ 1000 features; otherwise the exact full SVD for small
    data and the seeded randomized SVD (power iterations) for big: the full SVD of 10 000 × 1024 states takes ~10 s,
    the randomized one a fraction of a second for the few leading components kept."""
    from sklearn.decomposition import PCA

    solver = "full"
    big = n_samples * n_features * min(n_samples, n_features) > 2e9  # the full SVD would take seconds
    if n_samples >= 10 * n_features and n_features <= 1000:
        solver = "covariance_eigh" if _has_covariance_eigh() else "randomized"  # scikit-learn < 1.5: randomized
    elif big:
        solver = "randomized"
    return PCA(n_components=n_components, svd_solver=solver, random_state=0)


def _has_covariance_eigh() -> bool:
    from sklearn.decomposition import PCA

    options = getattr(PCA, "_parameter_constraints", {}).get("svd_solver", [])
    return any("covariance_eigh" in getattr(option, "options", ()) for option in options)


def make_projection(
    projection="pca", n_samples: int | None = None, n_features: int | None = None, argument: str = "projection"
):
    """The transformer for ``projection``: a new PCA (see :func:`pca`; ``n_components`` = min(3, features, samples))
    or :class:`~lstm_widget.DenoisingAutoencoder` for the names, the object itself otherwise (checked to have ``fit``
    and ``transform``)."""
    check_projection(projection, argument)
    if projection == "pca":
        if n_samples is None or n_features is None:
            raise ValueError("make_projection('pca') needs n_samples and n_features to size the PCA")
        return pca(max(1, min(3, n_features, n_samples)), n_samples, n_features)
    if projection == "autoencoder":
        from .autoencoder import DenoisingAutoencoder

        return DenoisingAutoencoder()
    return projection


def is_fitted(transformer) -> bool:
    """Whether ``transformer`` is fitted, as scikit-learn's ``check_is_fitted`` decides (its ``__sklearn_is_fitted__``
    or learned attributes with a trailing underscore)."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(transformer)
    except NotFittedError:
        return False
    return True


def unfitted_copy(transformer):
    """A copy of ``transformer`` to fit on other states, leaving the given one as it is: scikit-learn's ``clone``
    (same parameters, nothing learned) for estimators, a deep copy for other objects."""
    from sklearn.base import clone

    try:
        return clone(transformer)
    except (TypeError, AttributeError, RuntimeError):
        return copy.deepcopy(transformer)


@dataclass(frozen=True, eq=False)
class Projection:
    """A fitted projection and what it gives: :meth:`transform` maps states (N, n_features) to coordinates (N, dims).

    ``transformer`` is the fitted scikit-learn style object, or ``None`` when there was too little to fit (fewer than
    2 states or units): the coordinates are then the first units ("first units")."""

    transformer: object | None
    name: str
    dims: int
    n_features: int
    explained: list[float] | None
    argument: str = "projection"

    def transform(self, states: np.ndarray, check: bool = False) -> np.ndarray:
        """Coordinates (N, dims) float32 of ``states`` (N, n_features): the transformer's first ``dims`` columns
        (a 1-column transformer gets a zero second column). ``check`` refuses NaN or inf in the result."""
        states = np.asarray(states)
        if states.ndim != 2 or states.shape[1] != self.n_features:
            raise ValueError(
                f"{self.argument} {self.name} was fitted on states of {self.n_features} units; "
                f"got states of shape {states.shape}"
            )
        ran = _ran(states)
        if not ran.all():  # steps where the module did not run (NaN rows) stay NaN; the others are placed
            out = np.full((states.shape[0], self.dims), np.nan, np.float32)
            if ran.any():
                out[ran] = self.transform(states[ran], check)
            return out
        if self.transformer is None:
            coords = states[:, : self.dims]
        else:
            coords = _columns(self.transformer.transform(states), states.shape[0], self.name, self.argument)
        if check:
            _check_finite(coords, self.name, self.argument)
        return _first_columns(coords, self.dims)

    def meta(self, layer: int, quantity: str) -> dict:
        """``_meta.projection`` (js/PROTOCOL.md) for this projection of ``quantity`` at layer row ``layer``."""
        return {
            "name": self.name,
            "dims": self.dims,
            "layer": int(layer),
            "quantity": quantity,
            "explained": None if self.explained is None else list(self.explained),
        }


def _columns(coords, n_rows: int, name: str, argument: str) -> np.ndarray:
    """The transformer's output as a float (n_rows, k ≥ 1) array, or a clear error."""
    if hasattr(coords, "toarray"):  # a sparse result
        coords = coords.toarray()
    try:
        coords = np.asarray(coords, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{argument} {name} gave coordinates that are not numbers ({err}); expected a float array (states, columns)"
        ) from err
    if coords.ndim == 1 and coords.shape[0] == n_rows:
        coords = coords[:, None]
    if coords.ndim != 2 or coords.shape[0] != n_rows:
        raise ValueError(
            f"{argument} {name} gave coordinates of shape {coords.shape} for {n_rows} states; "
            f"expected ({n_rows}, columns)"
        )
    if coords.shape[1] == 0:
        raise ValueError(f"{argument} {name} gave 0 columns; expected at least 1 (2 or 3 are drawn)")
    return coords


def _first_columns(coords: np.ndarray, dims: int) -> np.ndarray:
    """The first ``dims`` columns of ``coords`` as float32, zero-padded when it has fewer."""
    out = np.zeros((coords.shape[0], dims), dtype=np.float32)
    k = min(dims, coords.shape[1])
    out[:, :k] = coords[:, :k]
    return out


def _ran(states: np.ndarray) -> np.ndarray:
    """(N,) bool: the rows of ``states`` that hold a state — a recording's rows are NaN on the steps where their module
    did not run (a decoder's during the encoder)."""
    return ~np.isnan(states).all(axis=1) if states.dtype.kind == "f" else np.ones(states.shape[0], bool)


def _check_finite(coords: np.ndarray, name: str, argument: str) -> None:
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{argument} {name} gave NaN or inf coordinates for {int(bad.sum())} of {coords.shape[0]} "
            f"states (the first at row {int(np.argmax(bad))}); expected finite coordinates"
        )


def fit_projection(
    projection, states: np.ndarray, *, refit: bool = False, argument: str = "projection"
) -> tuple[Projection, np.ndarray]:
    """Fit ``projection`` on ``states`` (N, n_features) and project them: returns the :class:`Projection` and the
    coordinates (N, dims) float32 of ``states``.

    A name builds a new transformer (:func:`make_projection`). A fitted transformer (scikit-learn's
    ``check_is_fitted``) is used as is — it must take ``n_features`` inputs — unless ``refit`` is true; an unfitted one
    is fitted here, in place. With fewer than 2 states or units there is nothing to fit: the coordinates are the first
    units. Errors name ``argument``: an unknown name, an object without fit/transform, a transformer that gives 0
    columns or NaN, or one that fails to fit (its error is chained)."""
    check_projection(projection, argument)
    states = np.asarray(states)
    ran = _ran(states)
    if not ran.all():  # fitted on the steps where the module ran; NaN coordinates for the others
        proj, coords = fit_projection(projection, states[ran], refit=refit, argument=argument)
        out = np.full((states.shape[0], proj.dims), np.nan, np.float32)
        out[ran] = coords
        return proj, out
    n, units = states.shape
    given = projection if not isinstance(projection, str) else None
    fitted = given is not None and not refit and is_fitted(given)
    if not fitted and (n < 2 or units < 2):
        proj = Projection(None, "first units", 2, units, None, argument)
        return proj, proj.transform(states)
    transformer = make_projection(projection, n, units, argument)
    name = type(transformer).__name__
    if fitted:
        expected = getattr(transformer, "n_features_in_", units)
        if expected != units:
            raise ValueError(
                f"{argument} {name} was fitted on {expected} features, but the projected states have "
                f"{units} units; expected a transformer fitted on states like these (or an unfitted one)"
            )
    else:
        try:
            transformer.fit(states)
        except Exception as err:  # the transformer's own error, chained, with what it was asked to do
            raise ValueError(f"{argument} {name} failed to fit on {n} states × {units} units: {err}") from err
    coords = _columns(transformer.transform(states), n, name, argument)
    _check_finite(coords, name, argument)
    dims = 3 if coords.shape[1] >= 3 else 2
    explained = getattr(transformer, "explained_variance_ratio_", None)
    if explained is not None:
        explained = [float(v) for v in np.asarray(explained, dtype=np.float64).reshape(-1)[:dims]]
        explained += [0.0] * (dims - len(explained))  # a 1-column transformer's zero second column explains nothing
    return Projection(transformer, name, dims, units, explained, argument), _first_columns(coords, dims)


def fit_projection_incremental(
    store, projection=None, *, layer=0, quantity: str = "h", steps: int | None = None
) -> Projection:
    """Fit ``projection`` on every state of one layer row of a recorded data set without loading them all: one
    ``partial_fit`` per block of steps, read from the store block by block (default: one chunk each).

    ``store``: a path to a store written by ``record_dataset`` or the opened data set (``open_dataset``);
    ``projection``: an object with ``partial_fit`` and ``transform`` — default scikit-learn's
    ``IncrementalPCA(n_components=3)`` (fewer for fewer units); ``layer``: a row index or name of ``layer_names``;
    ``quantity``: any recorded one ("h", "c", a gate). Returns a fitted :class:`Projection`, which places the states
    of any sequence (``ds[k].h[row]``) with ``transform``."""
    from ..recording.store import RecordedDataset, open_dataset

    ds = store if isinstance(store, RecordedDataset) else open_dataset(store)
    row = ds.row(layer)
    if quantity not in ds.quantities:
        raise KeyError(f"{quantity!r} was not recorded in this store; it has {list(ds.quantities)}")
    units = ds.units[quantity]
    if projection is None:
        from sklearn.decomposition import IncrementalPCA

        projection = IncrementalPCA(n_components=max(1, min(3, units)))
    if (
        isinstance(projection, str)
        or not callable(getattr(projection, "partial_fit", None))
        or not callable(getattr(projection, "transform", None))
    ):
        raise TypeError(
            f"projection must have partial_fit() and transform() (e.g. sklearn's IncrementalPCA) to be "
            f"fitted block by block; got {_describe(projection)}"
        )
    need = int(getattr(projection, "n_components", None) or 1)
    steps = steps or max(ds.chunk_steps, need)
    if ds.n_steps < max(need, 2):
        raise ValueError(
            f"the store has {ds.n_steps} steps; fitting {type(projection).__name__} needs at least {max(need, 2)}"
        )
    name = type(projection).__name__
    edges = list(range(0, ds.n_steps, steps)) + [ds.n_steps]
    if len(edges) > 2 and edges[-1] - edges[-2] < need:  # too few states for partial_fit: join the block before
        del edges[-2]
    for a, b in itertools.pairwise(edges):
        try:
            projection.partial_fit(ds.states(quantity, row, a, b))
        except Exception as err:  # the transformer's own error, chained
            raise ValueError(
                f"projection {name} failed to partial_fit on steps {a}..{b} of {quantity} at "
                f"{ds.layer_names[row]}: {err}"
            ) from err
    probe = _columns(
        projection.transform(ds.states(quantity, row, 0, min(ds.n_steps, 2))), min(ds.n_steps, 2), name, "projection"
    )
    dims = 3 if probe.shape[1] >= 3 else 2
    explained = getattr(projection, "explained_variance_ratio_", None)
    if explained is not None:
        explained = [float(v) for v in np.asarray(explained, dtype=np.float64).reshape(-1)[:dims]]
        explained += [0.0] * (dims - len(explained))
    return Projection(projection, name, dims, units, explained, "projection")
