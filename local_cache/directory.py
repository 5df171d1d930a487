"""The directory (units, categories, communities, the street's places) kept on disk, so the app
can start offline.

- `Directory`: the lists as the server sent them, when they were fetched, and look-ups by id;
- `fetch_directory(client)`: the three reads, the routing rules and the places, concurrently;
- `DirectoryFile(path)`: `load()` and `save()`; the file is `{"schema": 1, "directory": {...}}`,
  written atomically, 0600 in a 0700 directory. A missing file loads as None; a damaged, foreign
  or newer one too, after it is moved aside with a message in `.messages` (the directory is
  fetched again: nothing in it is irreplaceable);
- `suggested_units(directory, category, community, place_id)`: the units the dispatch dialog
  lists first (the matching routing rule's units, those covering the request's place, then the
  units the catalogue suggests).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

from pydantic import AwareDatetime, BaseModel, ConfigDict, PrivateAttr

from api_client.domain.coverage import covering_units
from api_client.domain.routing import best_rule
from api_client.errors import Forbidden, NotFound
from api_client.models import Category, Community, RoutingRule, Unit, UnitKind, now_utc
from api_client.places import Place
from local_cache.snapshot_file import SnapshotFile

#: The file format this version reads and writes; a larger one is a newer hotline's.
SCHEMA = 1
FILE_NAME = "directory.json"
_UNIT_KINDS = frozenset(kind.value for kind in UnitKind)


class DirectoryNames(NamedTuple):
    """Display names by id; the fields and their order are those of `tui.core.queue.rows.Names`."""

    categories: Mapping[str, str]
    communities: Mapping[str, str]
    units: Mapping[str, str]


class Directory(BaseModel):
    """Units, categories, communities, routing rules and the street's places as the server listed
    them at `fetched_at` (a file saved before routing rules or places existed loads with none).

    Treat it as read-only: the look-ups are indexed once, when it is made.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    units: list[Unit]
    categories: list[Category]
    communities: list[Community]
    fetched_at: AwareDatetime
    routing_rules: list[RoutingRule] = []
    places: list[Place] = []

    _units: dict[str, Unit] = PrivateAttr(default_factory=dict)
    _categories: dict[str, Category] = PrivateAttr(default_factory=dict)
    _communities: dict[str, Community] = PrivateAttr(default_factory=dict)
    _places: dict[str, Place] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        self._units = {u.id: u for u in self.units}
        self._categories = {c.code: c for c in self.categories}
        self._communities = {c.id: c for c in self.communities}
        self._places = {p.id: p for p in self.places}

    def unit(self, unit_id: str) -> Unit | None:
        return self._units.get(unit_id)

    def category(self, code: str) -> Category | None:
        return self._categories.get(code)

    def community(self, community_id: str) -> Community | None:
        return self._communities.get(community_id)

    def place(self, place_id: str) -> Place | None:
        return self._places.get(place_id)

    def covering_units(self, place_id: str) -> list[str]:
        """The units covering a place (`api_client.domain.coverage`), those in the directory."""
        return [u for u in covering_units(place_id, self._places) if u in self._units]

    def names(self) -> DirectoryNames:
        """Names by id for the queue table: `Names(*directory.names())`."""
        return DirectoryNames(
            categories={c.code: c.name for c in self.categories},
            communities={c.id: c.name for c in self.communities},
            units={u.id: u.name for u in self.units},
        )


class DirectorySource(Protocol):
    """What `fetch_directory` needs of a client (`api_client.HotlineClient` has it)."""

    async def units(self) -> list[Unit]: ...

    async def categories(self) -> list[Category]: ...

    async def communities(self) -> list[Community]: ...


@runtime_checkable
class RoutingRuleSource(Protocol):
    """A client that can also read the routing rules (`api_client.HotlineClient` can)."""

    async def routing_rules(self) -> list[RoutingRule]: ...


@runtime_checkable
class PlaceSource(Protocol):
    """A client that can also read the street's places (`api_client.HotlineClient` can)."""

    async def places(self) -> list[Place]: ...


async def fetch_directory(client: DirectorySource) -> Directory:
    """The server's directory now, its lists read concurrently: units, categories,
    communities, and the routing rules and places when the client can read them (a server
    without them, answering 404, gives none).

    Raises the client's error (`api_client.HotlineError`) of the first read that fails; the
    other reads are then cancelled.
    """
    fetched_at = now_utc()
    try:
        async with asyncio.TaskGroup() as group:
            units = group.create_task(client.units())
            categories = group.create_task(client.categories())
            communities = group.create_task(client.communities())
            rules = group.create_task(_routing_rules(client))
            places = group.create_task(_places(client))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return Directory(
        units=units.result(),
        categories=categories.result(),
        communities=communities.result(),
        fetched_at=fetched_at,
        routing_rules=rules.result(),
        places=places.result(),
    )


async def _routing_rules(client: DirectorySource) -> list[RoutingRule]:
    if not isinstance(client, RoutingRuleSource):
        return []
    try:
        return await client.routing_rules()
    except NotFound:  # a server from before routing rules
        return []
    except Forbidden:  # a unit's login: the centre routes, the unit reads no rules
        return []


async def _places(client: DirectorySource) -> list[Place]:
    if not isinstance(client, PlaceSource):
        return []
    try:
        return await client.places()
    except NotFound:  # a server from before the gazetteer
        return []


class DirectoryFile(SnapshotFile[Directory]):
    """The directory on disk at `path` (in a dispatcher's private cache dir, as `FILE_NAME`).

    `lock_timeout` bounds the wait for another hotline process saving or recovering the same file.
    """

    MODEL = Directory
    KEY = "directory"
    SCHEMA = SCHEMA
    WHAT = "directory of units, categories and communities"
    KIND = "a directory"


def suggested_units(
    directory: Directory, category_code: str, community_id: str, place_id: str | None = None
) -> list[str]:
    """Ids of the units the dispatch dialog lists first for a request of `category_code` in
    `community_id` ("" when unknown) at the place `place_id` (None when unknown), best first.

    The routing rule that decides for the request (`api_client.domain.routing.best_rule`: a rule naming
    the community beats a `*` rule) comes first: its lead unit, then its co-units, whatever their
    duty state (the supervisor chose them).

    Then the units covering the place (`Directory.covering_units`: its community office, property
    company, utilities) that handle the category, on-duty first, in the order of the category's
    `default_units`, then the place's. Where the gazetteer knows the place, a property company
    that does not cover it is not suggested: the gazetteer says which compounds each manages.

    Then the catalogue's: a unit qualifies when it covers the category and the community (an
    empty `categories` or `communities` means all; with an unknown community only units covering
    every community do) and the category's `default_units` name it, by id or by kind. When no
    default unit qualifies (or the category is unknown), every unit covering both does (for the
    demo catalogue, at least the district command centre). Order: on-duty before off-duty, then
    community-specific before district-wide, then the order of `default_units`, then the
    directory's order.
    """
    rule = best_rule(directory.routing_rules, category_code, community_id)
    ruled = [rule.lead_unit, *rule.co_units] if rule is not None else []
    ruled = [unit_id for unit_id in ruled if directory.unit(unit_id) is not None]
    covering: list[str] = []
    elsewhere: set[str] = set()
    if place_id is not None and directory.place(place_id) is not None:
        covering = _covering_suggestions(directory, category_code, place_id)
        place_units = set(directory.covering_units(place_id))
        elsewhere = {u.id for u in directory.units if u.kind is UnitKind.property and u.id not in place_units}
    others = _catalogue_suggestions(directory, category_code, community_id, elsewhere)
    return list(dict.fromkeys([*ruled, *covering, *others]))


def _default_rank(directory: Directory, category_code: str) -> dict[str, int]:
    """Each unit the category's `default_units` name (by id or by kind): its position there."""
    category = directory.category(category_code)
    defaults = category.default_units if category is not None else []
    rank: dict[str, int] = {}
    for position, entry in enumerate(defaults):
        named = (
            [u for u in directory.units if u.kind.value == entry]
            if entry in _UNIT_KINDS
            else [u for u in directory.units if u.id == entry]
        )
        for unit in named:
            rank.setdefault(unit.id, position)
    return rank


def _covering_suggestions(directory: Directory, category_code: str, place_id: str) -> list[str]:
    rank = _default_rank(directory, category_code)
    found = [
        (position, unit)
        for position, unit_id in enumerate(directory.covering_units(place_id))
        if (unit := directory.unit(unit_id)) is not None
        and (not unit.categories or category_code in unit.categories)
    ]

    def key(item: tuple[int, Unit]) -> tuple[bool, int, int]:
        position, unit = item
        return (not unit.on_duty, rank.get(unit.id, len(rank) + 1_000), position)

    return [unit.id for _, unit in sorted(found, key=key)]


def _catalogue_suggestions(
    directory: Directory, category_code: str, community_id: str, left_out: set[str]
) -> list[str]:
    rank = _default_rank(directory, category_code)
    last = max(rank.values(), default=-1) + 1
    covering = [
        u for u in directory.units if u.id not in left_out and _covers(u, category_code, community_id)
    ]
    chosen = [u for u in covering if u.id in rank] or covering
    order = {u.id: i for i, u in enumerate(directory.units)}

    def key(unit: Unit) -> tuple[bool, bool, int, int]:
        return (not unit.on_duty, not unit.communities, rank.get(unit.id, last), order[unit.id])

    return [u.id for u in sorted(chosen, key=key)]


def _covers(unit: Unit, category_code: str, community_id: str) -> bool:
    handles = not unit.categories or category_code in unit.categories
    serves = not unit.communities or (community_id != "" and community_id in unit.communities)
    return handles and serves


def default_path(cache_directory: Path) -> Path:
    """Where a dispatcher's cache keeps the directory."""
    return Path(cache_directory) / FILE_NAME


__all__ = [
    "FILE_NAME",
    "SCHEMA",
    "Directory",
    "DirectoryFile",
    "DirectoryNames",
    "DirectorySource",
    "PlaceSource",
    "RoutingRuleSource",
    "default_path",
    "fetch_directory",
    "suggested_units",
]
