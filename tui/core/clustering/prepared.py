"""`Prepared`: each request read once before pairs are scored (its place, problem, reach and
text), with place names the gazetteer does not know and bridges a typing slip apart in one
spelling, and the keys of the blocks it is compared in."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

from tui.core.clustering.items import Item
from tui.core.clustering.places import FACILITIES, Place, parse_place
from tui.core.clustering.problems import OTHER, SPOT, Problem, family_of, reach, read_problem
from tui.core.clustering.slips import canonical_names
from tui.core.clustering.spots import BRIDGE
from tui.core.clustering.text import TextMethod

__all__ = ["Prepared", "anchors", "prepare"]

#: Problems of a whole compound: the compound the address names is enough.
_WIDE = frozenset({"outage", "no_water", "heat", "gas"})


class Prepared(NamedTuple):
    """A request as pairs are scored: where it is, what it reports and how far that reaches."""

    pos: int
    item: Item
    place: Place
    problem: Problem
    family: str  # the problem, a blocked drain counted as water
    reach: str
    bases: frozenset[str]  # the compound, lane or road in one spelling (two when ambiguous)
    spot_at: frozenset[str]  # what the spot belongs to, a bridge a typing slip apart in one spelling
    text: object
    power_since: float = 0.0  # the first report of a power cut where it is (a lift's, a pump's)
    plain: bool = True  # no cause named, not a possible effect of a power cut


def prepare(items: Sequence[Item], text: TextMethod) -> list[Prepared]:
    """Each request read once: its problem, then its place (the description read for what the
    problem needs that the address leaves out)."""
    said = [unicodedata.normalize("NFKC", item.description) for item in items]  # once for both
    problems = [read_problem(item.category, words) for item, words in zip(items, said, strict=True)]
    places = [
        parse_place(
            item.address,
            words,
            item.community,
            detail=problem.kind not in _WIDE,
            unit=problem.kind == "lift",
        )
        for item, words, problem in zip(items, said, problems, strict=True)
    ]
    raw = canonical_names(
        (p.base, item.community) for p, item in zip(places, items, strict=True) if not p.names
    )
    bridges = canonical_names(
        ((name, "") for p in places if p.spot == BRIDGE for name in p.spot_at), places=False
    )
    prepared = []
    for index, (item, place, problem) in enumerate(zip(items, places, problems, strict=True)):
        if problem.kind == "lights" and place.building:
            problem = problem._replace(maybe_power=False)  # one building's lights: its own
        if problem.kind == "water" and place.building in FACILITIES:
            problem = problem._replace(kind="basement")  # the boiler room flooded
        how_far = reach(problem, place)
        bases = place.names or (frozenset({raw[place.base]}) if place.base else frozenset())
        at = frozenset(bridges.get(n, n) for n in place.spot_at) if place.spot == BRIDGE else place.spot_at
        prepared.append(
            Prepared(
                index,
                item,
                place,
                problem,
                family_of(problem.kind),
                how_far,
                bases,
                at,
                text.prepare(item.description) if how_far == OTHER else None,
                plain=not problem.causes and not problem.maybe_power,
            )
        )
    return _power_since(prepared)


def _power_since(prepared: list[Prepared]) -> list[Prepared]:
    """Each lift, pump or light that may have stopped with the power, with the time of the first
    report of a power cut in its compound: what stopped well before it is a fault of its own."""
    first: dict[str, float] = {}
    for p in prepared:
        if p.family == "outage" or "outage" in p.problem.causes:
            for base in p.bases:
                first[base] = min(first.get(base, p.item.received_at), p.item.received_at)
    return [
        p._replace(power_since=min((first[b] for b in p.bases if b in first), default=0.0))
        if p.problem.maybe_power
        else p
        for p in prepared
    ]


def anchors(p: Prepared) -> frozenset[str]:
    """The names a request is compared under: its compound, lane or road, and for a spot on a
    road what the spot belongs to and every road named."""
    if p.reach == SPOT:
        return p.bases | p.spot_at | p.place.roads | p.place.within
    return p.bases | p.place.within
