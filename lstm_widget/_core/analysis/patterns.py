"""Pattern search (LSTMVis' select-and-match, Strobelt et al. 2018): select a range of steps and a threshold → the units
that switch on there → every other place, in every sequence, where the same units switch on together, ranked."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ..validate import check_int
from .ranking import unit_arrays


@dataclass(frozen=True)
class Match:
    """One place [start, stop) of ``sequence`` where the selected units switch on together, and how well it matches.

    ``jaccard``: |P ∩ U| / |P ∪ U| between U, the selected units, and P, the units that are on throughout [start, stop)
    and off around it there (the same rule that chose U); ``length_match``: min(n, n_sel) / max(n, n_sel) of its
    length n and the selection's n_sel; ``score`` = jaccard × length_match."""

    sequence: int
    start: int
    stop: int
    score: float
    jaccard: float
    length_match: float


@dataclass(frozen=True, eq=False)
class PatternMatches:
    """The selection and its matches, best first.

    ``units``: the units on (> ``threshold``) at every step of [``start``, ``stop``) of ``sequence`` and off
    (<= ``threshold``) at the ``margin`` steps before and after it (steps beyond the sequence's ends count as off);
    empty when no unit qualifies. ``matches``: the best ``k`` other places where they switch on together (see
    :class:`Match`); also as arrays ``sequences``, ``starts``, ``stops``, ``scores``.
    """

    units: np.ndarray
    sequence: int
    start: int
    stop: int
    threshold: float
    margin: int
    matches: tuple
    quantity: str | None
    layer: str | None

    def __len__(self) -> int:
        return len(self.matches)

    def __iter__(self):
        return iter(self.matches)

    def __getitem__(self, i) -> Match:
        return self.matches[i]

    @property
    def sequences(self) -> np.ndarray:
        return np.array([m.sequence for m in self.matches], dtype=np.int64)

    @property
    def starts(self) -> np.ndarray:
        return np.array([m.start for m in self.matches], dtype=np.int64)

    @property
    def stops(self) -> np.ndarray:
        return np.array([m.stop for m in self.matches], dtype=np.int64)

    @property
    def scores(self) -> np.ndarray:
        return np.array([m.score for m in self.matches], dtype=np.float64)

    def rows(self) -> list[dict]:
        """One dict per match: sequence, start, stop, score, jaccard, length_match."""
        return [dict(vars(m)) for m in self.matches]

    def __repr__(self) -> str:
        return (
            f"PatternMatches(units {self.units.tolist()} on in steps [{self.start}, {self.stop}) of sequence "
            f"{self.sequence}, {len(self.matches)} matches)"
        )


def _on_off(on: np.ndarray, start: int, stop: int, margin: int) -> np.ndarray:
    """(units,) bool: on at every step of [start, stop) and off at the ``margin`` steps on either side."""
    inside = on[start:stop].all(axis=0)
    before = on[max(0, start - margin) : start].any(axis=0)
    after = on[stop : stop + margin].any(axis=0)
    return inside & ~before & ~after


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs [s, e) of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def match_pattern(
    recordings,
    sequence: int,
    start: int,
    stop: int,
    threshold: float,
    quantity: str = "h",
    layer=-1,
    *,
    margin: int = 1,
    k: int | None = 10,
    min_overlap: float = 1.0,
    include_selection: bool = False,
) -> PatternMatches:
    """Select steps [``start``, ``stop``) of ``recordings[sequence]`` at ``threshold`` and find where else the same
    units switch on.

    (a) The selection: the units of ``quantity`` in ``layer`` (a row index or name; default the last) that are on
    (> threshold) at every step of [start, stop) and off (<= threshold) at the ``margin`` steps before and after
    (margin 0: no condition around; steps beyond the sequence's ends count as off).

    (b) The matches, across all recordings: candidate places are the maximal runs of steps at which at least
    ``min_overlap`` (default all) of the selected units are on. Each is scored by ``jaccard`` × ``length_match``
    (see :class:`Match`): 1 for a place where exactly the selected units switch on for exactly as long. Places with
    jaccard 0 are left out, and so is every run overlapping the selection itself unless ``include_selection``.
    Best ``k`` first (None: all); ties by jaccard, then sequence and start.

    ``recordings``: a Recording, a list of them, or arrays shaped (steps, units) (``quantity`` / ``layer`` unused).
    """
    arrays, layer_name = unit_arrays(recordings, quantity, layer)
    sequence = check_int(sequence, "sequence", low=0, high=len(arrays))
    T = len(arrays[sequence])
    start = check_int(start, "start", low=0, high=T)
    stop = check_int(stop, "stop", low=start + 1, high=T + 1)
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number; got {threshold!r}")
    margin = check_int(margin, "margin", low=0)
    if k is not None:
        k = check_int(k, "k", low=1)
    if isinstance(min_overlap, bool) or not isinstance(min_overlap, numbers.Real) or not 0 < min_overlap <= 1:
        raise ValueError(f"min_overlap must be a fraction in (0, 1]; got {min_overlap!r}")
    threshold = float(threshold)
    ons = [a > threshold for a in arrays]
    selected = _on_off(ons[sequence], start, stop, margin)
    units = np.flatnonzero(selected)
    matches = []
    if len(units):
        length = stop - start
        for r, on in enumerate(ons):
            share = on[:, units].mean(axis=1)
            for s, e in _runs(share >= min_overlap - 1e-12):
                if r == sequence and s < stop and start < e and not include_selection:
                    continue
                found = _on_off(on, s, e, margin)
                union = int((found | selected).sum())
                jac = int((found & selected).sum()) / union
                if jac == 0:
                    continue
                lm = min(e - s, length) / max(e - s, length)
                matches.append(Match(r, s, e, jac * lm, jac, lm))
        matches.sort(key=lambda m: (-m.score, -m.jaccard, m.sequence, m.start))
    return PatternMatches(
        units=units,
        sequence=sequence,
        start=start,
        stop=stop,
        threshold=threshold,
        margin=margin,
        matches=tuple(matches[:k] if k is not None else matches),
        quantity=None if layer_name is None else quantity,
        layer=layer_name,
    )
