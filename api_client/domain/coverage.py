"""Who covers a place of the street's gazetteer (`api_client.places.Place.units`): a place that
names no unit is covered as the place it lies in is (a building as its compound)."""

from __future__ import annotations

from collections.abc import Mapping

from api_client.places import Place

__all__ = ["covering_units"]


def covering_units(place_id: str, places: Mapping[str, Place]) -> list[str]:
    """The ids of the units covering the place `place_id`, in the place's order (none for an
    unknown place, or one that lies in nothing that names a unit)."""
    seen: set[str] = set()
    place = places.get(place_id)
    while place is not None and place.id not in seen:
        if place.units:
            return list(place.units)
        seen.add(place.id)
        place = places.get(place.parent) if place.parent is not None else None
    return []
