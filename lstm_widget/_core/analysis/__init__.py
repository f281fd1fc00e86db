"""Analysis of recordings: attribution (which earlier steps drove a prediction), unit ranking, pattern search and
gate saturation. Builds on recording; nothing below imports it."""

from .attribution import Influence, InfluenceMap, influence, influence_all
from .patterns import Match, PatternMatches, match_pattern
from .ranking import UnitRanking, rank_units
from .saturation import GateSaturation, gate_saturation

__all__ = [
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
