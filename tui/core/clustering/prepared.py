"""`Prepared`: each request read once before pairs are scored (its place, problem, scope and
text), with place names and landmarks a typing slip apart in one spelling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from tui.core.clustering.items import Item
from tui.core.clustering.places import Place, is_road, parse_place
from tui.core.clustering.problems import OTHER, category_group, family_of, problem_of, scope_of
from tui.core.clustering.slips import canonical_names
from tui.core.clustering.text import TextMethod

__all__ = ["Prepared", "prepare"]


class Prepared(NamedTuple):
    pos: int
    item: Item
    group: str
    place: Place
    problem: str
    family: str  # the problem, a blocked drain counted as water
    scope: str
    base: str  # the base's one spelling among those a typing slip apart
    spot: str  # the spot on a road, a landmark in one spelling likewise
    road: bool  # the place is on a road (or at a landmark), not in a compound
    text: object


def prepare(items: Sequence[Item], text: TextMethod) -> list[Prepared]:
    places = [parse_place(item.address, item.description) for item in items]
    bases = canonical_names((p.base, item.community) for p, item in zip(places, items, strict=True))
    spots = canonical_names(((p.rest, "") for p in places if p.landmark), places=False)
    prepared = []
    for index, (item, place) in enumerate(zip(items, places, strict=True)):
        problem = problem_of(item.category, item.description)
        scope = scope_of(problem, place)
        prepared.append(
            Prepared(
                index,
                item,
                category_group(item.category),
                place,
                problem,
                family_of(problem),
                scope,
                bases[place.base],
                "" if place.building else spots.get(place.rest, place.rest),
                place.landmark or (not place.building and is_road(place.base)),
                text.prepare(item.description) if scope == OTHER else None,
            )
        )
    return prepared
