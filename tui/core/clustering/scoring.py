"""A pair's score in [0, 1] and the reasons for it: how surely the two are at one place for the
problem's reach (one flat, one lift, one building, a compound, a spot on a road), times how
surely they report one problem (the same one, one the other's cause, or a lift or pump that may
have stopped with the power); for other requests, the place, the category and similar text."""

from __future__ import annotations

from tui.core.clustering.lexicon import MAYBE_POWER
from tui.core.clustering.places import is_road
from tui.core.clustering.prepared import Prepared
from tui.core.clustering.problems import (
    BUILDING,
    COMPOUND,
    FLAT,
    OTHER,
    SPOT,
    UNIT,
    Problem,
    family_of,
    reach,
)
from tui.core.clustering.slips import same_base
from tui.core.clustering.spots import AREA_MARK, BRIDGE, CROSSING, SIDE, UNDERPASS
from tui.core.clustering.text import TextMethod

__all__ = ["EFFECT_LEAD_S", "W_CATEGORY", "W_PLACE", "W_TEXT", "apart", "conflict", "pair_score"]

#: Weights of the three signals for other requests: the place, the category, similar text.
W_PLACE, W_CATEGORY, W_TEXT = 0.45, 0.15, 0.40
#: How much a problem named as the other's cause, or a possible effect of a power cut, counts.
CAUSE, POSSIBLE_EFFECT = 0.95, 0.8
#: A lift or pump reported this long before a power cut's report is not its effect.
EFFECT_LEAD_S = 20 * 60
#: A place named with less (the compound for a building's problem, the road for a spot's).
PART = 0.65
_DEPTH = {COMPOUND: 0, BUILDING: 1, UNIT: 2, FLAT: 3}


def _bases(a: Prepared, b: Prepared) -> float:
    """How surely two requests name one compound, lane or road (a courtyard is part of its lane:
    somewhere there)."""
    if not a.bases or not b.bases:
        return 0.0
    if a.bases == b.bases:
        return 1.0
    if a.bases & b.bases:  # 德胜里 is 德胜里一区 or 德胜里二区; 马甸 any of four
        return 0.85 if len(a.bases) <= 2 and len(b.bases) <= 2 else PART
    if a.bases & b.place.within or b.bases & a.place.within:
        return PART if a.place.base.endswith("号院") or b.place.base.endswith("号院") else 0.85
    if a.place.names or b.place.names:
        return 0.0
    return same_base(next(iter(a.bases)), next(iter(b.bases)))


def _home(a: Prepared, b: Prepared, depth: int) -> tuple[float, str]:
    """One compound; at `depth`, the same building, lift (unit) or flat."""
    base = _bases(a, b)
    pa, pb = a.place, b.place
    if base == 0.0 or len(a.bases) > 2 or len(b.bases) > 2:
        return 0.0, ""  # an area (马甸) is no compound
    if depth == 0:
        return base, "same compound"
    if pa.building != pb.building:
        return (PART * base, "same compound") if not (pa.building and pb.building) else (0.0, "")
    if not pa.building:
        if base == 1.0 and pa.base.endswith("号院"):
            return base, "same building"  # one courtyard's houses
        return min(base, PART), "same compound"
    if depth == 1:
        return base, "same building"
    if depth == 2:
        if pa.unit and pb.unit:
            return (base, "same building") if pa.unit == pb.unit else (0.0, "")
        return (0.8 * base, "same building") if pa.unit or pb.unit else (base, "same building")
    if pa.unit and pa.flat and (pa.unit, pa.flat) == (pb.unit, pb.flat):
        return base, "same flat"
    return 0.0, ""


def _sides(a: str, b: str) -> bool:
    return not a or not b or a == b


def _spot(a: Prepared, b: Prepared) -> tuple[float, str]:
    """One spot on a road (or in a compound): the same landmark, junction, gate, stop …; one
    report naming only the road or compound is somewhere there (weak); a caller who says they do
    not know where is nowhere in particular."""
    pa, pb = a.place, b.place
    if (pa.vague and not pa.spot) or (pb.vague and not pb.spot):
        return 0.0, ""
    if pa.building and pb.building and pa.building != pb.building:
        return 0.0, ""
    if pa.spot and pb.spot and (SIDE in (pa.spot, pb.spot)) and pa.spot != pb.spot:
        # a side of a road or compound is the gate or the end on that side (东侧 / 东门外)
        same = pa.side and pa.side == pb.side and a.bases & b.bases
        return (0.85, "same place") if same else (0.0, "")
    if pa.spot and pb.spot:
        if pa.spot != pb.spot or not _sides(pa.side, pb.side):
            return 0.0, ""
        if pa.spot == BRIDGE:
            return (1.0, "same place") if a.spot_at & b.spot_at else (0.0, "")
        if pa.spot == CROSSING and a.spot_at and b.spot_at:
            if bool(pa.side) != bool(pb.side) and len(a.spot_at) == len(b.spot_at) == 1:
                return 0.0, ""  # 新康路北口, 新康路路口: two ends of a road
            if a.spot_at == b.spot_at:
                return 1.0, "same place"
            if a.spot_at < b.spot_at or b.spot_at < a.spot_at:
                return 0.85, "same place"
            return 0.0, ""
        at_a, at_b = a.spot_at or a.bases, b.spot_at or b.bases
        return (1.0, "same place") if at_a & at_b else (0.0, "")
    if pa.spot or pb.spot:  # one names the spot, the other only the road or compound
        spotted, other = (a, b) if pa.spot else (b, a)
        return (PART, "same place") if other.bases & _around(spotted) else (0.0, "")
    base = _bases(a, b)
    if base == 0.0:
        return 0.0, ""
    road = is_road(pa) and is_road(pb)
    return (0.8 * base if road else base), ("same place" if road else "same compound")


def _around(p: Prepared) -> frozenset[str]:
    """What a request's spot is on: its compound or road (not an area's streets), the roads it
    names, and what the spot belongs to (not the roads an underpass may be under)."""
    place = p.place
    near = place.roads | (p.bases if place.base in place.names or not place.names else frozenset())
    if place.spot != UNDERPASS and not any(n.startswith(AREA_MARK) for n in p.spot_at):
        near |= p.spot_at
    return near


def _place(a: Prepared, b: Prepared, reach_a: str, reach_b: str, family: str) -> tuple[float, str]:
    """How surely two requests are at one place for the reaches they are compared at."""
    if reach_a != reach_b and family == "water" and BUILDING in (reach_a, reach_b):
        return 0.0, ""  # water in a compound or on a road, a drain blocked at one building
    if SPOT in (reach_a, reach_b):
        return _spot(a, b)
    return _home(a, b, max(_DEPTH[reach_a], _DEPTH[reach_b]))


def _relations(a: Prepared, b: Prepared) -> list[tuple[float, str, str]]:
    """The ways two requests may report one problem, each with how surely and the problem each
    is compared as (its own, or the cause it names: the power cut that stopped its lift)."""
    ka, kb = a.problem.kind, b.problem.kind
    if a.family == b.family and a.plain and b.plain:
        return [(1.0, ka, kb)]
    out = []
    if a.family == b.family and not ((_cut(a) and _fault(b)) or (_cut(b) and _fault(a))):
        out.append((1.0, ka, kb))  # (a lift stopped by a power cut is not a lift's own fault)
    elif {a.family, b.family} == _UNDERGROUND and a.place.building and a.place.building == b.place.building:
        out.append((1.0, ka, kb))  # a building's basement, garage or not
    for cause in a.problem.causes:
        if family_of(cause) == b.family:
            out.append((CAUSE, cause, kb))
        for other in b.problem.causes:
            if family_of(cause) == family_of(other):
                out.append((CAUSE, cause, other))
    for cause in b.problem.causes:
        if family_of(cause) == a.family:
            out.append((CAUSE, ka, cause))
    for effect, cut in ((a, b), (b, a)):  # not well before the first report of the power cut
        maybe = effect.problem.maybe_power and _power(cut) and not cut.problem.maybe_power
        if maybe and effect.item.received_at >= effect.power_since - EFFECT_LEAD_S:
            out.append((POSSIBLE_EFFECT, "outage", "outage"))
    return out


_UNDERGROUND = {"basement", "garage"}


def _reach_as(p: Prepared, kind: str) -> str:
    """How far a request reaches compared as `kind` (its own problem, or a cause it names)."""
    return p.reach if kind == p.problem.kind else reach(Problem(kind), p.place)


def pair_score(a: Prepared, b: Prepared, text: TextMethod) -> tuple[float, list[str]]:
    """How surely two requests are one incident (0..1), and why: the best of the ways they may
    report one problem, times how surely they are at its place."""
    if a.reach == OTHER or b.reach == OTHER:
        return _other_score(a, b, text)
    best, why = 0.0, ""
    for said, ka, kb in _relations(a, b):
        place, where = _place(a, b, _reach_as(a, ka), _reach_as(b, kb), family_of(ka))
        if said * place > best:
            best, why = said * place, where
    if best == 0.0:
        return 0.0, []
    same_category = a.item.category == b.item.category
    return best, [why, "same category" if same_category else "related category", "same problem"]


def _other_place(a: Prepared, b: Prepared) -> tuple[float, str]:
    """Two requests of another kind: the same building, or the same compound or spot."""
    base = _bases(a, b)
    if base == 0.0:
        return 0.0, ""
    pa, pb = a.place, b.place
    if pa.building and pb.building:
        return (base, "same building") if pa.building == pb.building else (0.0, "")
    if pa.building or pb.building:
        return 0.5 * base, "same compound"
    if pa.spot and pb.spot and (pa.spot != pb.spot or not (a.spot_at & b.spot_at or not a.spot_at)):
        return 0.0, ""
    return (base if pa.spot == pb.spot else 0.6 * base), "same place"


def _other_score(a: Prepared, b: Prepared, text: TextMethod) -> tuple[float, list[str]]:
    if a.reach != b.reach or a.item.category != b.item.category:
        return 0.0, []  # another kind of request and a storm problem; two categories
    place, why = _other_place(a, b)
    if place == 0.0:
        return 0.0, []
    reasons = [why, "same category"]
    similarity = text.similarity(a.text, b.text)
    if similarity >= 0.3:
        reasons.append("similar text")
    score = W_PLACE * place + W_CATEGORY + W_TEXT * min(1.0, similarity * 1.6)
    return score, reasons


def _cut(p: Prepared) -> bool:
    """Whether a request names a power cut as the cause of its problem."""
    return "outage" in p.problem.causes


def _fault(p: Prepared) -> bool:
    """Whether a lift, pump or lock stopped by a fault of its own (not possibly the power's)."""
    return p.problem.kind in MAYBE_POWER and not p.problem.maybe_power and not _cut(p)


def _power(p: Prepared) -> bool:
    """Whether a request is (or may be) a power cut's."""
    return (
        p.family == "outage" or "outage" in p.problem.causes or (p.problem.maybe_power and p.power_since > 0)
    )


def conflict(a: Prepared, b: Prepared) -> bool:
    """Whether two requests of one problem are surely two incidents: two buildings for a
    building's problem, two lifts, two spots on one road, two compounds."""
    if a.reach == OTHER or b.reach == OTHER or (_power(a) and _power(b)):
        return False  # two lifts stopped by one power cut are one incident
    relations = _relations(a, b)
    if not relations:
        return False
    for _said, ka, kb in relations:
        if _place(a, b, _reach_as(a, ka), _reach_as(b, kb), family_of(ka))[0] > 0.0:
            return False
    _, ka, kb = relations[0]
    ra, rb = _reach_as(a, ka), _reach_as(b, kb)
    pa, pb = a.place, b.place
    if SPOT in (ra, rb):
        if pa.building and pb.building and pa.building != pb.building:
            return True
        return bool(pa.spot and pb.spot)
    if a.bases and b.bases and _bases(a, b) == 0.0:
        return True
    depth = max(_DEPTH[ra], _DEPTH[rb])
    if depth >= 1 and pa.building and pb.building and pa.building != pb.building:
        return True
    return depth >= 2 and bool(pa.unit and pb.unit and pa.unit != pb.unit)


def apart(a: Prepared, b: Prepared) -> bool:
    """Two buildings named for a request of another kind: two problems."""
    pa, pb = a.place, b.place
    return bool(pa.building and pb.building and pa.building != pb.building)
