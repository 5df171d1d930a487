"""The place a request is at and who covers it, for the dispatch dialog.

A request remembers its place by its address: the intake form writes the place's address
(`PlaceIndex.address`, then the unit and flat) in `Location.address`, its compound or road in
`Location.street` and its community in `Location.community`; the resolver is deterministic, so
reading the address again finds the same place. A request taken in elsewhere (Open311, a
partner, the demo) is read the same way."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from api_client.models import Location
from api_client.places import Place
from tui.core.places.index import PlaceIndex

__all__ = ["Coverage", "coverage_of", "place_of"]


@dataclass(frozen=True, slots=True)
class Coverage:
    """The request's place (None: the gazetteer does not know it), its path, and the units
    covering it (a building: its compound's)."""

    place: Place | None = None
    label: str = ""
    units: tuple[str, ...] = ()


def place_of(index: PlaceIndex, location: Location) -> Place | None:
    """The place a request's location names: its address, else its street (None: neither)."""
    for text in (location.address, location.street):
        if text.strip():
            place = index.resolve(text, community=location.community)
            if place is not None:
                return place
    return None


def coverage_of(
    places: Sequence[Place], location: Location, known: Collection[str] | None = None
) -> Coverage:
    """Where `location` is and who covers it (only units in `known`, when given)."""
    if not places:
        return Coverage()
    index = PlaceIndex.from_places(places)
    place = place_of(index, location)
    if place is None:
        return Coverage()
    units = [u for u in index.covering_units(place.id) if known is None or u in known]
    return Coverage(place, index.label(place.id), tuple(units))
