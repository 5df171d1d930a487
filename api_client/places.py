"""The street's gazetteer on the wire (`GET /v1/places`): every place a caller may name, and who covers
it.

Supervisors add or change a place (`PUT /v1/places/{id}` with a `PlaceIn`); every edit is kept as a
`PlaceEvent` (`GET /v1/places/audit`). A place is a community, a road, a compound (小区), a building
of a compound, or a landmark; each names its community and its parent (a building's compound; a
compound's or road's community), the other names callers use for it (`aliases`: 德外 for 德胜门外, 三号楼 for
3号楼 are matched by the resolver, not listed), and the units that cover it (`units`: its community
office, its property company, the utility of its area), which the dispatch dialog suggests after the
routing rules.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, Strict, StringConstraints

from api_client.input_types import Identifier, Name, OptionalIdentifier, WireEnum
from api_client.models import Incoming, Outgoing


class PlaceKind(WireEnum):
    community = "community"  # 社区
    road = "road"  # 路、街、胡同
    compound = "compound"  # 小区、院
    building = "building"  # 楼
    landmark = "landmark"  # 地标: a school, a market, a bus stop


class Place(Outgoing):
    id: str
    name: str
    kind: PlaceKind
    community: str = ""  # community id ("" for a road crossing several)
    parent: str | None = None  # the place it lies in (a building's compound)
    aliases: list[str] = Field(default_factory=list)
    #: Unit ids covering the place, in the order a dispatcher would choose them; a building with
    #: none is covered as its compound is.
    units: list[str] = Field(default_factory=list)
    centre: tuple[float, float] | None = None  # (lat, long)


_Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
_Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class PlaceIn(Incoming):
    """A place as a supervisor writes it: its parent must exist already (and not lie in it), its
    community and units must be the directory's."""

    name: Annotated[Name, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"\S")]
    kind: PlaceKind
    community: OptionalIdentifier = ""
    parent: Identifier | None = None
    aliases: list[Identifier] = Field(default_factory=list, max_length=40)
    units: list[Identifier] = Field(default_factory=list, max_length=20)
    centre: Annotated[tuple[_Latitude, _Longitude], Strict(False)] | None = None  # a JSON [lat, long]


class PlaceEvent(Outgoing):
    """One edit of the gazetteer: who, when, what (create, replace), the place before and after."""

    id: int
    place_id: str
    action: str
    actor: str
    at: AwareDatetime
    before: Place | None = None
    after: Place | None = None
