"""The directory cache: fetched from a real server, kept in a private file, read back offline,
recovered from bad files; and the units the dispatch dialog suggests first."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from api_client.client import HotlineClient
from api_client.errors import NotFound
from api_client.models import (
    Category,
    Community,
    Request,
    Role,
    RoutingRule,
    RoutingRuleIn,
    Tier,
    Unit,
    UnitKind,
)
from central_api import catalogue
from central_api.server import LiveServer
from local_cache.directory import (
    FILE_NAME,
    SCHEMA,
    Directory,
    DirectoryFile,
    default_path,
    fetch_directory,
    suggested_units,
)
from local_cache.errors import UnsafePermissions
from tui.core.queue.rows import Names

FETCHED = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def demo(**changes: object) -> Directory:
    fields: dict[str, object] = {
        "units": catalogue.UNITS,
        "categories": catalogue.CATEGORIES,
        "communities": catalogue.COMMUNITIES,
        "fetched_at": FETCHED,
        **changes,
    }
    return Directory.model_validate(fields)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ----- fetching ----------------------------------------------------------------------------


async def test_fetch_from_a_real_server(live_server: LiveServer) -> None:
    token = live_server.store.create_token("supervisor-1", Role.supervisor)
    async with HotlineClient(live_server.url, token) as client:
        await client.set_unit_on_duty("pm01", False)
        directory = await fetch_directory(client)
    assert directory.units == live_server.store.units()
    assert directory.categories == live_server.store.categories()
    assert directory.communities == live_server.store.communities()
    assert directory.fetched_at.tzinfo is not None
    pm01 = directory.unit("pm01")
    assert pm01 is not None and not pm01.on_duty
    # With its property company off duty, a roof leak in c01 goes to the housing authority first.
    assert suggested_units(directory, "roof_leak", "c01") == ["hm01", "pm01"]


class _Source:
    """A client whose three reads wait until all three have started (so they run together)."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.started = 0
        self.everyone = asyncio.Event()
        self.cancelled: list[str] = []
        self.fail = fail

    async def _arrive(self, what: str) -> None:
        self.started += 1
        if self.started == 3:
            self.everyone.set()
        try:
            await self.everyone.wait()
        except asyncio.CancelledError:
            self.cancelled.append(what)
            raise

    async def units(self) -> list[Unit]:
        await self._arrive("units")
        return list(catalogue.UNITS)

    async def categories(self) -> list[Category]:
        if self.fail is not None:
            await asyncio.sleep(0)  # let the other two start
            raise self.fail
        await self._arrive("categories")
        return list(catalogue.CATEGORIES)

    async def communities(self) -> list[Community]:
        await self._arrive("communities")
        return list(catalogue.COMMUNITIES)


async def test_fetch_runs_the_three_reads_concurrently() -> None:
    source = _Source()
    async with asyncio.timeout(30):  # a guard against a hang, not a timing assertion
        directory = await fetch_directory(source)
    assert source.started == 3
    assert len(directory.units) == len(catalogue.UNITS)
    assert directory.category("gas_leak") == catalogue.category_by_code("gas_leak")


async def test_a_failed_read_raises_its_own_error_and_cancels_the_others() -> None:
    source = _Source(fail=NotFound("no categories here"))
    async with asyncio.timeout(30):
        with pytest.raises(NotFound, match="no categories here"):
            await fetch_directory(source)
    assert sorted(source.cancelled) == ["communities", "units"]


# ----- the file ----------------------------------------------------------------------------


def test_save_and_load_privately(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "server" / "张敏"
    file = DirectoryFile(default_path(cache))
    assert file.path.name == FILE_NAME
    assert file.load() is None and file.messages == []  # nothing saved yet: no complaint

    umask = os.umask(0o022)  # a usual umask would leave new files and directories readable
    try:
        file.save(demo())
    finally:
        os.umask(umask)
    assert mode(file.path) == 0o600
    for level in (tmp_path / "cache", tmp_path / "cache" / "server", cache):
        assert mode(level) == 0o700
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []  # no temp left

    loaded = DirectoryFile(file.path).load()
    assert loaded == demo()
    assert loaded is not None and loaded.fetched_at == FETCHED
    assert loaded.unit("cc17") is not None and loaded.unit("nope") is None
    assert loaded.community("c01") == catalogue.community_by_id("c01")
    assert loaded.category("roof_leak") == catalogue.category_by_code("roof_leak")

    newer = demo(fetched_at=datetime(2026, 3, 3, tzinfo=UTC), units=catalogue.UNITS[:3])
    file.save(newer)
    assert mode(file.path) == 0o600
    assert DirectoryFile(file.path).load() == newer


def test_save_refuses_a_directory_others_can_read(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    with pytest.raises(UnsafePermissions, match="chmod 700"):
        DirectoryFile(shared / FILE_NAME).save(demo())
    assert not (shared / FILE_NAME).exists()


def _document(**changes: object) -> bytes:
    body: dict[str, object] = {"schema": SCHEMA, "directory": demo().model_dump(mode="json")}
    body.update(changes)
    return orjson.dumps(body)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00\xff garbage \x13", "not valid JSON"),
        (b"", "empty"),
        (b'{"schema": 1, "directory": {"units": []', "not valid JSON"),
        (b"[1, 2, 3]", "not valid JSON"),
        (_document(schema=SCHEMA + 1), "newer hotline (schema 2; this one reads 1)"),
        (_document(schema="1"), "its schema is '1'"),
        (_document(directory={"units": "many"}), "not a directory"),
        (_document(directory=None), "not a directory"),
    ],
)
def test_a_bad_file_is_moved_aside(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(content)
    os.chmod(path, 0o600)
    file = DirectoryFile(path)

    assert file.load() is None
    assert len(file.messages) == 1
    message = file.messages[0]
    assert reason in message and str(path) in message and "fetched again" in message
    assert not path.exists()
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith(f"{FILE_NAME}.bad-")]
    assert aside.read_bytes() == content and str(aside) in message

    file.save(demo())  # the next fetch puts a good one back
    assert DirectoryFile(path).load() == demo()


def test_unknown_fields_from_a_newer_server_are_ignored(tmp_path: Path) -> None:
    body = demo().model_dump(mode="json")
    body["units"][0]["phone"] = "010-1234"
    body["shifts"] = []
    path = tmp_path / FILE_NAME
    path.write_bytes(orjson.dumps({"schema": SCHEMA, "directory": body}))
    file = DirectoryFile(path)
    assert file.load() == demo() and file.messages == []


def test_names_fit_the_queue_table() -> None:
    names = Names(*demo().names())
    assert names.units["hm01"] == "西城区房管中心德胜房管所"
    assert names.categories["roof_leak"] == "房屋漏雨"
    assert names.communities["c01"] == "德胜里社区"
    assert names == Names(**demo().names()._asdict())


def test_the_module_needs_neither_tui_nor_the_server() -> None:
    code = (
        "import sys, local_cache.directory;"
        " bad = [m for m in ('tui', 'textual', 'central_api', 'fastapi') if m in sys.modules];"
        " sys.exit(str(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ----- suggestions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "community", "expected"),
    [
        # The property company of c01 before the district-wide housing authority.
        ("roof_leak", "c01", ["pm01", "hm01"]),
        ("roof_leak", "c04", ["pm02", "hm01"]),
        # Without a community only district-wide units can be suggested.
        ("roof_leak", "", ["hm01"]),
        ("sewer", "c08", ["pm03", "hm01", "ut-water"]),
        ("gas_leak", "c05", ["ut-gas"]),
        ("neighbour_dispute", "c01", ["cc01", "st-safety"]),
        # cc17 is off duty in the reference data: listed, but after the on-duty unit.
        ("neighbour_dispute", "c17", ["st-safety", "cc17"]),
        # No category the directory knows: whatever covers everything (the command centre).
        ("no_such_category", "c01", ["dc01"]),
    ],
)
def test_suggested_units_for_demo_cases(category: str, community: str, expected: list[str]) -> None:
    assert suggested_units(demo(), category, community) == expected


def test_default_units_may_name_unit_kinds() -> None:
    renovation = Category(
        code="old_renovation", name="老旧小区改造", tier=Tier.d15, default_units=["housing", "community"]
    )
    others = [c for c in catalogue.CATEGORIES if c.code != "old_renovation"]
    directory = demo(categories=[*others, renovation])
    # Every community office is of kind "community", but only c05's covers c05; it comes before
    # the district-wide housing authority, though its kind is listed second.
    assert suggested_units(directory, "old_renovation", "c05") == ["cc05", "hm01"]
    assert suggested_units(directory, "old_renovation", "c17") == ["hm01", "cc17"]  # cc17 is off duty


def test_when_no_default_unit_covers_every_covering_unit_is_suggested() -> None:
    units = [
        Unit(id="far", name="远处物业", kind=UnitKind.property, communities=["c02"]),
        Unit(id="all", name="区指挥中心", kind=UnitKind.district),
        Unit(id="near", name="本社区居委会", kind=UnitKind.community, communities=["c01"]),
        Unit(id="asleep", name="休息的科室", kind=UnitKind.street, on_duty=False),
    ]
    category = Category(code="odd", name="其他", tier=Tier.d7, default_units=["far"])
    directory = demo(units=units, categories=[category])
    assert suggested_units(directory, "odd", "c01") == ["near", "all", "asleep"]
    assert suggested_units(directory, "odd", "c02") == ["far"]


# ----- routing rules -----------------------------------------------------------------------


def _rule(
    rule_id: str, category: str, community: str, lead: str, co: list[str], *, auto: bool = False
) -> RoutingRule:
    return RoutingRule(
        id=rule_id,
        category=category,
        community=community,
        lead_unit=lead,
        co_units=co,
        auto_dispatch=auto,
        updated_by="陈主任",
        updated_at=FETCHED,
        version=1,
    )


async def test_fetch_caches_the_routing_rules(live_server: LiveServer, tmp_path: Path) -> None:
    token = live_server.store.create_token("supervisor-1", Role.supervisor)
    async with HotlineClient(live_server.url, token) as client:
        assert (await fetch_directory(client)).routing_rules == []
        body = RoutingRuleIn(category="roof_leak", community="c01", lead_unit="hm01", co_units=["st-city"])
        rule = await client.put_routing_rule("roof-c01", body)
        directory = await fetch_directory(client)
    assert directory.routing_rules == [rule]
    file = DirectoryFile(tmp_path / FILE_NAME)
    file.save(directory)
    loaded = file.load()
    assert loaded == directory and loaded is not None and loaded.routing_rules == [rule]
    assert suggested_units(loaded, "roof_leak", "c01") == ["hm01", "st-city", "pm01"]


async def test_a_server_without_routing_rules_gives_none() -> None:
    class OldServer(_Source):
        async def routing_rules(self) -> list[RoutingRule]:
            raise NotFound("GET /v1/routing-rules: not found")

    async with asyncio.timeout(30):
        directory = await fetch_directory(OldServer())
    assert directory.routing_rules == [] and len(directory.units) == len(catalogue.UNITS)


def test_a_file_saved_before_routing_rules_still_loads(tmp_path: Path) -> None:
    body = demo().model_dump(mode="json")
    del body["routing_rules"]
    path = tmp_path / FILE_NAME
    path.write_bytes(orjson.dumps({"schema": SCHEMA, "directory": body}))
    os.chmod(path, 0o600)
    file = DirectoryFile(path)
    loaded = file.load()
    assert loaded == demo() and file.messages == []
    assert loaded is not None and loaded.routing_rules == []


def test_the_matching_rule_comes_first_in_suggestions() -> None:
    rules = [
        _rule("roof-any", "roof_leak", "*", "hm01", ["st-city"], auto=True),
        _rule("roof-c04", "roof_leak", "c04", "cc04", ["pm02"]),
        _rule("gas", "gas_leak", "*", "ut-gas", ["st-safety"]),
    ]
    directory = demo(routing_rules=rules)
    # The exact community's rule beats the wildcard; its units first, the rest after, once each.
    assert suggested_units(directory, "roof_leak", "c04") == ["cc04", "pm02", "hm01"]
    assert suggested_units(directory, "roof_leak", "c01") == ["hm01", "st-city", "pm01"]
    assert suggested_units(directory, "roof_leak", "") == ["hm01", "st-city"]
    assert suggested_units(directory, "gas_leak", "c05") == ["ut-gas", "st-safety"]
    # No rule for the category: as before.
    assert suggested_units(directory, "sewer", "c08") == ["pm03", "hm01", "ut-water"]


def test_rule_units_are_suggested_even_off_duty_but_unknown_ones_are_dropped() -> None:
    rules = [_rule("nd", "neighbour_dispute", "*", "cc17", ["ghost", "st-safety"])]
    directory = demo(routing_rules=rules)
    assert suggested_units(directory, "neighbour_dispute", "c17") == ["cc17", "st-safety"]


def test_the_session_suggests_from_the_cached_rules(tmp_path: Path) -> None:
    from tui.core.session import Session

    cache = tmp_path / "cache"
    rules = [_rule("roof-c01", "roof_leak", "c01", "hm01", [])]
    session = Session.open(cache, api_url="http://127.0.0.1:9", dispatcher="张敏", token=None)
    try:
        request = Request.model_validate(
            {
                "id": "R-000001",
                "received_at": FETCHED,
                "channel": "phone",
                "type": "help",
                "category": "roof_leak",
                "description": "漏雨",
                "location": {"community": "c01"},
                "caller": {},
                "tier": "24h",
                "due_at": FETCHED,
                "state": "new",
                "version": 1,
                "change_seq": 1,
            }
        )
        assert session.suggested_units(request) == []  # no directory yet
        session.set_directory(demo(routing_rules=rules))
        assert session.suggested_units(request) == ["hm01", "pm01"]
    finally:
        session.close()
    assert DirectoryFile(default_path(cache)).load() == demo(routing_rules=rules)
