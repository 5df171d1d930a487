"""A pair's score in [0, 1] and the reasons for it: the place for the problem's scope, the
category and the problem (or the text); `apart` for two buildings named for one building's
problem."""

from __future__ import annotations

from tui.core.clustering.prepared import Prepared
from tui.core.clustering.problems import AREA, BUILDING, FLAT, WIDE_CATEGORIES
from tui.core.clustering.slips import same_base
from tui.core.clustering.text import TextMethod, bigrams, dice

__all__ = ["W_CATEGORY", "W_PLACE", "W_TEXT", "apart", "pair_score"]

#: Weights of the three signals in a pair's score: the place (for the problem's scope), the
#: category, and the text (the same problem named, else similar descriptions).
W_PLACE, W_CATEGORY, W_TEXT = 0.45, 0.15, 0.40


def _area_place(a: Prepared, b: Prepared) -> tuple[float, str]:
    """Two reports of an area problem: the same compound, or the same spot on the same road (or
    the same landmark, with or without its road)."""
    pa, pb = a.place, b.place
    spot_a, spot_b = a.spot, b.spot
    if pa.base and pb.base:
        if a.base != b.base:
            return 0.0, ""
        base = 1.0 if pa.base == pb.base else 0.9
    elif pa.landmark and pb.landmark:
        base = 1.0  # the landmark says where (马甸桥下 / 北三环中路马甸桥下)
    else:
        return 0.0, ""
    road = a.road or b.road
    why = "same place" if road else "same compound"
    if spot_a and spot_b:
        if spot_a == spot_b:
            return base if pa.rest == pb.rest else 0.9 * base, why
        return 0.0, ""
    if spot_a or spot_b or road:
        return 0.7 * base, why  # somewhere on the road, or a spot in the compound
    return base, why


def _building_place(a: Prepared, b: Prepared) -> tuple[float, str]:
    pa, pb = a.place, b.place
    base = same_base(pa.base, pb.base)
    if base == 0.0 or pa.building != pb.building:
        return 0.0, ""
    if a.scope == FLAT or b.scope == FLAT:
        if pa.building and pa.unit and pa.flat and (pa.unit, pa.flat) == (pb.unit, pb.flat):
            return base, "same flat"
        return 0.0, ""
    return (base, "same building") if pa.building else (0.7 * base, "same compound")


def _same_spot(a: str, b: str) -> float:
    if not a or not b:
        return 0.6  # a bare road: somewhere on it
    if a == b or a in b or b in a:
        return 1.0
    return 0.8 if dice(bigrams(a), bigrams(b)) >= 0.5 else 0.0


def _other_place(a: Prepared, b: Prepared) -> tuple[float, str]:
    """Two requests of another kind: the same building, or for a wide category the same
    compound or spot."""
    pa, pb = a.place, b.place
    base = same_base(pa.base, pb.base)
    if base == 0.0:
        return 0.0, ""
    wide = a.item.category in WIDE_CATEGORIES or b.item.category in WIDE_CATEGORIES
    if pa.building and pb.building:
        if pa.building == pb.building:
            return base, "same building"
        return (0.6 * base, "same compound") if wide else (0.0, "")
    if pa.building or pb.building:  # one names a building, the other only the compound or road
        return (0.7 if wide else 0.5) * base, "same compound"
    spot = _same_spot(pa.rest, pb.rest)
    return (base * spot, "same place") if spot else (0.0, "")


def pair_score(a: Prepared, b: Prepared, text: TextMethod) -> tuple[float, list[str]]:
    if a.scope == AREA:
        place, why = _area_place(a, b)
    elif a.scope in (FLAT, BUILDING):
        place, why = _building_place(a, b)
    else:
        place, why = _other_place(a, b)
    if place == 0.0:
        return 0.0, []
    same_category = a.item.category == b.item.category
    reasons = [why, "same category" if same_category else "related category"]
    if a.family and a.family == b.family:
        said = 1.0  # the same problem named: the text says what it needs to
        reasons.append("same problem")
    else:
        similarity = text.similarity(a.text, b.text)
        said = min(1.0, similarity * 1.6)
        if similarity >= 0.3:
            reasons.append("similar text")
    score = W_PLACE * place + W_CATEGORY * (1.0 if same_category else 0.6) + W_TEXT * said
    return score, reasons


def apart(a: Prepared, b: Prepared) -> bool:
    """Two buildings named for a problem of one building: two problems."""
    pa, pb = a.place, b.place
    return bool(
        pa.building
        and pb.building
        and pa.building != pb.building
        and a.item.category not in WIDE_CATEGORIES
        and b.item.category not in WIDE_CATEGORIES
    )
