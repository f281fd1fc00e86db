"""Unit ranking: the strongest units at one step, over whole sequences, and per class (a class's activations against
the rest's)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validate import check_int, resolve_layer

#: Scores without labels: mean |a|, mean a, max a, max |a| over the chosen steps of every sequence.
BY = ("abs", "mean", "max", "absmax")
#: Scores with labels: Welch's t statistic, or the difference of the class mean and the rest's mean.
BY_CLASS = ("t", "diff")


def unit_arrays(recordings, quantity: str = "h", layer=-1, what: str = "recordings") -> tuple[list, str | None]:
    """The (T_i, units) activations of ``quantity`` in ``layer`` for each sequence, and the layer's name.

    ``recordings``: a Recording or a list of them (of one model), or plain arrays shaped (steps, units) — one or a
    list — for activations from anywhere (a CNN's channels, ...), in which case ``quantity`` and ``layer`` are not
    used."""
    from ..recording.recorder import Recording

    single = isinstance(recordings, (Recording, np.ndarray))
    items = [recordings] if single else recordings
    if not isinstance(items, (list, tuple)) or not items:
        got = "an empty list" if isinstance(items, (list, tuple)) else f"a {type(items).__name__}"
        raise TypeError(f"{what} must be a Recording, a list of Recordings, or arrays shaped (steps, units); got {got}")
    if all(isinstance(r, Recording) for r in items):
        first = items[0]
        for k, r in enumerate(items):
            if r.cell != first.cell or r.layer_names != first.layer_names:
                raise ValueError(
                    f"{what}[{k}] comes from another model ({r.cell}, layers {list(r.layer_names)}; {what}[0]: "
                    f"{first.cell}, layers {list(first.layer_names)}); expected recordings of one model"
                )
        if quantity not in first.quantities:
            raise ValueError(f"quantity must be one of {list(first.quantities)}; got {quantity!r}")
        row = resolve_layer(first.layer_names, layer)
        return [getattr(r, quantity)[row].astype(np.float64) for r in items], first.layer_names[row]
    arrays = []
    for k, a in enumerate(items):
        if isinstance(a, Recording) or not isinstance(a, np.ndarray):
            raise TypeError(
                f"{what}[{k}] is a {type(a).__name__}; expected all Recordings or all numpy arrays (steps, units)"
            )
        if a.ndim != 2 or a.shape[0] == 0 or a.dtype.kind not in "fiub":
            raise ValueError(
                f"{what}[{k}] has shape {a.shape} and dtype {a.dtype}; expected numbers shaped (steps, units)"
            )
        if a.shape[1] != items[0].shape[1]:
            raise ValueError(f"{what}[{k}] has {a.shape[1]} units; {what}[0] has {items[0].shape[1]}")
        arrays.append(a.astype(np.float64))
    return arrays, None


@dataclass(frozen=True, eq=False)
class UnitRanking:
    """The ``k`` strongest units, strongest first.

    Without labels: ``units`` (k,) and ``scores`` (k,), ``all_scores`` (units,) for every unit. With labels, one
    ranking per class: ``classes`` (C,), ``units`` and ``scores`` (C, k), ``all_scores`` (C, units);
    ``for_class(c)`` picks one. Ties go to the lower unit index.
    """

    units: np.ndarray
    scores: np.ndarray
    all_scores: np.ndarray
    by: str
    quantity: str | None
    layer: str | None
    t: int | None
    classes: np.ndarray | None = None

    def for_class(self, c) -> tuple[np.ndarray, np.ndarray]:
        """(units, scores) of class ``c`` (a label as given in ``labels``)."""
        if self.classes is None:
            raise ValueError("this ranking has no classes; pass labels= to rank_units for one ranking per class")
        hits = np.flatnonzero(self.classes == c)
        if not len(hits):
            raise KeyError(f"no class {c!r}; the classes are {self.classes.tolist()}")
        return self.units[hits[0]], self.scores[hits[0]]

    def rows(self) -> list[dict]:
        """A long table: ``{"rank", "unit", "score"}`` (and ``"class"`` per class) per entry."""
        if self.classes is None:
            return [
                {"rank": r, "unit": int(u), "score": float(s)}
                for r, (u, s) in enumerate(zip(self.units, self.scores, strict=True))
            ]
        return [
            {"class": c.item() if hasattr(c, "item") else c, "rank": r, "unit": int(u), "score": float(s)}
            for c, us, ss in zip(self.classes, self.units, self.scores, strict=True)
            for r, (u, s) in enumerate(zip(us, ss, strict=True))
        ]

    def __repr__(self) -> str:
        where = "" if self.layer is None else f"{self.layer}.{self.quantity}, "
        if self.classes is None:
            return f"UnitRanking({where}by={self.by!r}, units {self.units.tolist()})"
        return f"UnitRanking({where}by={self.by!r}, {len(self.classes)} classes, top {self.units.shape[1]})"


def _finite_mean(a: np.ndarray) -> np.ndarray:
    """(units,) the mean of each unit over the steps where it is finite; NaN where it never is."""
    finite = np.isfinite(a)
    n = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.where(finite, a, 0.0).sum(axis=0) / n, np.nan)


def _top(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-scores, axis=-1, kind="stable")[..., :k]  # NaN sorts last
    return order, np.take_along_axis(scores, order, axis=-1)


def rank_units(
    recordings,
    quantity: str = "h",
    layer=-1,
    *,
    t: int | None = None,
    by: str | None = None,
    labels=None,
    k: int | None = 10,
) -> UnitRanking:
    """Rank the units of ``quantity`` in ``layer`` (a row index or name; default the last) of ``recordings`` (one
    Recording, a list of them, or arrays shaped (steps, units)).

    ``t``: None uses every step of every sequence; an int uses that one step of each sequence (negative counts from
    its end: ``t=-1`` is each sequence's last step).

    Without ``labels``, ``by`` (default "abs") scores each unit over all the chosen steps pooled: "abs" mean |a|,
    "mean" mean a, "max" max a, "absmax" max |a| (the single strongest activation anywhere); steps where the row has
    no finite value (its module did not run there) are left out.

    With ``labels`` (one per sequence), each class gets its own ranking of the units more active in it than in the
    rest: each sequence is first summarised by its mean activation over the chosen steps where the row's module ran
    (its values are NaN at the others — one module of several run in turn; a sequence where it never ran is left
    out), so every sequence counts once, then ``by`` (default "t") scores class c against the rest: "t" Welch's t statistic
    (m_c − m_rest) / sqrt(s²_c/n_c + s²_rest/n_rest) with sample variances (needs 2 sequences in the class and in the
    rest), "diff" the difference of means m_c − m_rest. Highest first: the units that fire for class c.

    ``k``: how many to keep (None: all).
    """
    arrays, layer_name = unit_arrays(recordings, quantity, layer)
    units = arrays[0].shape[1]
    k = units if k is None else min(check_int(k, "k", low=1, expected="a whole number >= 1 or None (all units)"), units)
    if t is not None:
        t = check_int(t, "t", expected="a step index (int) or None (every step)")
        for i, a in enumerate(arrays):
            if not -len(a) <= t < len(a):
                raise ValueError(f"t={t} is out of range for sequence {i}, which has {len(a)} steps (0..{len(a) - 1})")
        arrays = [a[[t]] for a in arrays]
    quantity_name = None if layer_name is None else quantity
    if labels is None:
        by = "abs" if by is None else by
        if by not in BY:
            extra = f" ({list(BY_CLASS)} need labels=)" if by in BY_CLASS else ""
            raise ValueError(f"by must be one of {list(BY)} without labels{extra}; got {by!r}")
        pooled = np.concatenate(arrays, axis=0)
        pooled = pooled[np.isfinite(pooled).any(axis=1)]  # the steps where the row's module ran
        if not len(pooled):
            raise ValueError(f"no chosen step has a finite value of {layer_name or 'the arrays'}: nothing to rank")
        score = {
            "abs": lambda a: np.abs(a).mean(0),
            "mean": lambda a: a.mean(0),
            "max": lambda a: a.max(0),
            "absmax": lambda a: np.abs(a).max(0),
        }[by](pooled)
        top, top_scores = _top(score, k)
        return UnitRanking(top, top_scores, score, by, quantity_name, layer_name, t)
    by = "t" if by is None else by
    if by not in BY_CLASS:
        raise ValueError(f"by must be one of {list(BY_CLASS)} with labels; got {by!r}")
    labels = np.asarray(labels.detach().cpu() if hasattr(labels, "detach") else labels)
    if labels.ndim != 1 or len(labels) != len(arrays):
        raise ValueError(f"labels must hold one label per sequence ({len(arrays)}); got shape {labels.shape}")
    # each sequence's mean over the steps where the row's module ran (NaN elsewhere: an encoder–decoder's rows); a
    # sequence in which the row has no finite value is left out
    summary = np.stack([_finite_mean(a) for a in arrays])  # (sequences, units)
    ran = np.isfinite(summary).any(axis=1)
    summary, labels = summary[ran], labels[ran]
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError(
            f"labels must name at least 2 classes to compare a class with the rest; got {classes.tolist()}"
        )
    scores = []
    for c in classes:
        inside, rest = summary[labels == c], summary[labels != c]
        diff = inside.mean(0) - rest.mean(0)
        if by == "diff":
            scores.append(diff)
            continue
        if len(inside) < 2 or len(rest) < 2:
            raise ValueError(
                f"by='t' needs at least 2 sequences in each class and in the rest; class {c!r} has {len(inside)} and "
                f"the rest {len(rest)} — use by='diff'"
            )
        se = np.sqrt(inside.var(0, ddof=1) / len(inside) + rest.var(0, ddof=1) / len(rest))
        with np.errstate(divide="ignore", invalid="ignore"):
            tstat = np.where(se > 0, diff / np.where(se > 0, se, 1), np.sign(diff) * np.inf)
        scores.append(np.where((se == 0) & (diff == 0), 0.0, tstat))
    score = np.stack(scores)
    top, top_scores = _top(score, k)
    return UnitRanking(top, top_scores, score, by, quantity_name, layer_name, t, classes)
