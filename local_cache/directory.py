"""The directory (units, categories, communities) kept on disk, so the app can start offline.

- `Directory`: the three lists as the server sent them, when they were fetched, and look-ups by id;
- `fetch_directory(client)`: the three reads, and the routing rules, concurrently;
- `DirectoryFile(path)`: `load()` and `save()`; the file is `{"schema": 1, "directory": {...}}`,
  written atomically, 0600 in a 0700 directory. A missing file loads as None; a damaged, foreign
  or newer one too, after it is moved aside with a message in `.messages` (the directory is
  fetched again: nothing in it is irreplaceable);
- `suggested_units(directory, category, community)`: the units the dispatch dialog lists first
  (the matching routing rule's units, then the units the catalogue suggests).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, PrivateAttr, ValidationError

from api_client.domain.routing import best_rule
from api_client.errors import NotFound
from api_client.models import Category, Community, RoutingRule, Unit, UnitKind, now_utc
from local_cache.errors import CorruptCache
from local_cache.locking import FileLock
from local_cache.paths import ensure_private_dir
from local_cache.storage import atomic_write_bytes, move_aside, parse_document, read_file, remove_stale_temps

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
    """Units, categories, communities and routing rules as the server listed them at
    `fetched_at` (a file saved before routing rules existed loads with none).

    Treat it as read-only: the look-ups are indexed once, when it is made.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    units: list[Unit]
    categories: list[Category]
    communities: list[Community]
    fetched_at: AwareDatetime
    routing_rules: list[RoutingRule] = []

    _units: dict[str, Unit] = PrivateAttr(default_factory=dict)
    _categories: dict[str, Category] = PrivateAttr(default_factory=dict)
    _communities: dict[str, Community] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        self._units = {u.id: u for u in self.units}
        self._categories = {c.code: c for c in self.categories}
        self._communities = {c.id: c for c in self.communities}

    def unit(self, unit_id: str) -> Unit | None:
        return self._units.get(unit_id)

    def category(self, code: str) -> Category | None:
        return self._categories.get(code)

    def community(self, community_id: str) -> Community | None:
        return self._communities.get(community_id)

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


async def fetch_directory(client: DirectorySource) -> Directory:
    """The server's directory now, its lists read concurrently: units, categories,
    communities, and the routing rules when the client can read them (a server without
    routing rules, answering 404, gives none).

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
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return Directory(
        units=units.result(),
        categories=categories.result(),
        communities=communities.result(),
        fetched_at=fetched_at,
        routing_rules=rules.result(),
    )


async def _routing_rules(client: DirectorySource) -> list[RoutingRule]:
    if not isinstance(client, RoutingRuleSource):
        return []
    try:
        return await client.routing_rules()
    except NotFound:  # a server from before routing rules
        return []


class _BadFile(Exception):
    """Why a directory file cannot be used (the message completes "could not be used: ...")."""


class DirectoryFile:
    """The directory on disk at `path` (in a dispatcher's private cache dir, as `FILE_NAME`).

    `lock_timeout` bounds the wait for another hotline process saving or recovering the same file.
    """

    def __init__(self, path: Path, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        #: What went wrong with the file, for the dispatcher to read (a bad file moved aside).
        self.messages: list[str] = []

    def load(self) -> Directory | None:
        """The saved directory; None when there is none or it cannot be used (see `.messages`).

        A file that cannot be read at all (no permission) raises CacheError."""
        try:
            return _parse(self._read(), self.path)
        except _BadFile:
            pass
        with FileLock(self.path, timeout=self.lock_timeout):
            try:  # another process may have saved a good one meanwhile
                return _parse(self._read(), self.path)
            except _BadFile as bad:
                reason = str(bad)
            try:
                aside = move_aside(self.path, "bad")
            except FileNotFoundError:
                return None
        self.messages.append(
            f"the saved directory of units, categories and communities in {self.path} could not be"
            f" used: {reason}. The file was moved to {aside}; it will be fetched again from the"
            " server when hotline is online."
        )
        return None

    def save(self, directory: Directory) -> None:
        """Replace the file atomically (temp file, fsync, rename), 0600 in a private directory."""
        ensure_private_dir(self.path.parent)
        payload = orjson.dumps({"schema": SCHEMA, "directory": directory.model_dump(mode="json")})
        with FileLock(self.path, timeout=self.lock_timeout):
            remove_stale_temps(self.path)
            _key, fd = atomic_write_bytes(self.path, payload)
            os.close(fd)

    def _read(self) -> bytes | None:
        found = read_file(self.path)
        if found is None:
            return None
        data, _key, fd = found
        os.close(fd)
        return data


def _parse(data: bytes | None, path: Path) -> Directory | None:
    """The directory in a file's bytes (None for no file); _BadFile when they are not one."""
    if data is None:
        return None
    try:
        document = parse_document(data, path)
    except CorruptCache:
        raise _BadFile("it is not valid JSON") from None
    if document is None:
        raise _BadFile("it is empty")
    schema = document.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise _BadFile(f"its schema is {schema!r}")
    if schema > SCHEMA:
        raise _BadFile(f"it was written by a newer hotline (schema {schema}; this one reads {SCHEMA})")
    if schema != SCHEMA:
        raise _BadFile(f"its schema is {schema!r}")
    try:
        return Directory.model_validate(document.get("directory"))
    except ValidationError as exc:
        raise _BadFile(f"it is not a directory ({exc.error_count()} problem(s))") from None


def suggested_units(directory: Directory, category_code: str, community_id: str) -> list[str]:
    """Ids of the units the dispatch dialog lists first for a request of `category_code` in
    `community_id` ("" when unknown), best first.

    A unit qualifies when it covers the category and the community (an empty `categories` or
    `communities` means all; with an unknown community only units covering every community do)
    and the category's `default_units` name it, by id or by kind. When no default unit
    qualifies (or the category is unknown), every unit covering both does (for the demo
    catalogue, at least the district command centre). Order: on-duty before off-duty, then
    community-specific before district-wide, then the order of `default_units`, then the
    directory's order.

    The routing rule that decides for the request (`api_client.domain.routing.best_rule`: a rule naming
    the community beats a `*` rule) comes before all of them: its lead unit, then its co-units,
    whatever their duty state (the supervisor chose them).
    """
    rule = best_rule(directory.routing_rules, category_code, community_id)
    ruled = [rule.lead_unit, *rule.co_units] if rule is not None else []
    ruled = [unit_id for unit_id in ruled if directory.unit(unit_id) is not None]
    others = _catalogue_suggestions(directory, category_code, community_id)
    return list(dict.fromkeys([*ruled, *others]))


def _catalogue_suggestions(directory: Directory, category_code: str, community_id: str) -> list[str]:
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
    covering = [u for u in directory.units if _covers(u, category_code, community_id)]
    chosen = [u for u in covering if u.id in rank] or covering
    order = {u.id: i for i, u in enumerate(directory.units)}

    def key(unit: Unit) -> tuple[bool, bool, int, int]:
        return (not unit.on_duty, not unit.communities, rank.get(unit.id, len(defaults)), order[unit.id])

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
    "RoutingRuleSource",
    "default_path",
    "fetch_directory",
    "suggested_units",
]
