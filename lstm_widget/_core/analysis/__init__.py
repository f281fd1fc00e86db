"""Analysis of recordings: attribution (which earlier steps drove a prediction), unit ranking, pattern search and
gate saturation, fixed points of the dynamics. Builds on recording; nothing below imports it."""

from .attribution import Influence, InfluenceMap, influence, influence_all
from .fixed_points import FixedPoints, fixed_points
from .patterns import Match, PatternMatches, match_pattern
from .ranking import UnitRanking, rank_units
from .saturation import GateSaturation, gate_saturation

__all__ = [
    "FixedPoints",
    "fixed_points",
    "Influence",
    "InfluenceMap",
    "influence",
    "influence_all",
    "Match",
    "PatternMatches",
    "match_pattern",
    "UnitRanking",
    "rank_units",
    "GateSaturation",
    "gate_saturation",
]
