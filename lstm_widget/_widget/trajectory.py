"""The trajectory's projection: the transformer the user gave, the fitted projection in force and what it projects
(a layer row and a quantity), and the refit asked for but not shown yet. Fitting is the kernel core's
(``fit_projection``); an explorer over a recorded data set fits over the whole store instead (``fit_store``)."""

from __future__ import annotations

import numpy as np

from .._core.projection.fit import Projection, check_projection, fit_projection, unfitted_copy
from .payload import stacked


class Trajectory:
    """``given`` (a name or a scikit-learn transformer) was given for ``given_for`` = (layer row, quantity).
    ``fit_store(given, as_given, recs, layer, quantity)``, when set, replaces the fit on the loaded steps."""

    def __init__(self, given, given_for: tuple[int, str], fit_store=None):
        self.given = check_projection(given)
        self.given_for = given_for
        self.fit_store = fit_store
        self.fitted: Projection | None = None
        self.key: tuple[int, str] | None = None
        self.pending = None  # (key, Projection, coordinates): a refit computed by a validator, shown by an observer

    def fit(self, recs, layer: int, quantity: str, given=None, given_for=None) -> tuple[Projection, np.ndarray]:
        """Fit the projection on ``quantity`` at ``layer`` over every step of ``recs``: (projection, coordinates).

        The transformer the user gave (``given``, else the current one) is used for the layer and quantity it was
        given for — as is when fitted, fitted in place when not; for any other layer or quantity an unfitted copy of
        it is fitted, so the user's object keeps what it learned."""
        given = self.given if given is None else given
        as_given = (layer, quantity) == (self.given_for if given_for is None else given_for)
        if self.fit_store is not None:
            return self.fit_store(given, as_given, recs, layer, quantity)
        states = stacked(recs, layer, quantity)
        if isinstance(given, str) or as_given:
            return fit_projection(given, states)
        return fit_projection(unfitted_copy(given), states, refit=True)

    def use(self, key: tuple[int, str], projection: Projection) -> None:
        self.fitted, self.key = projection, key

    def place(self, rec) -> np.ndarray:
        """Coordinates of every step of ``rec`` on the fitted map (no refit)."""
        layer, quantity = self.key
        return self.fitted.transform(getattr(rec, quantity)[layer])

    def meta(self) -> dict:
        return self.fitted.meta(*self.key)
