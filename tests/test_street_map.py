"""The map of the street: the layout (pure) and the storm view and the dashboard's section as the
supervisor sees them, at 80x24 and 160x50, in Chinese and English, with and without colour.

The snapshots use the demo data of `tests/test_tui_snapshots.py` (fixed seed, fixed "now", frozen
clock, fixed time zone) plus three hours of a rainstorm (`central_api.storm`). Regenerate after a
deliberate change of the map, then look at the SVGs before committing:

    pytest tests/test_street_map.py --snapshot-update
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import orjson
import pytest
from app_support import SEED_NOW, Central, cached_session, until
from hypothesis import given, settings
from hypothesis import strategies as st
from snapshot_support import CLOCK, Lang, frozen_app
from textual.pilot import Pilot

from api_client.models import ChangesPage, Community, State
from central_api.catalogue import COMMUNITIES, COMMUNITY_CENTRES
from central_api.seed import seed_store
from central_api.sql_store import SqlStore
from central_api.storm import storm_requests
from local_cache.directory import Directory, DirectoryFile
from tui.core.session import Session
from tui.core.street_map import (
    RECENT_HOURS,
    SHADE_FROM,
    TILE_HEIGHT,
    TILE_WIDTH,
    StreetMap,
    lay_out,
    level_of,
    open_counts,
    short_name,
)
from tui.ui.app import HotlineApp
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.screens.queues import QueuesScreen
from tui.ui.screens.storm_map import StormMapScreen
from tui.ui.widgets.street_map import SHADES, StreetMapView

STREET = [c.model_copy(update={"centre": COMMUNITY_CENTRES[c.id]}) for c in COMMUNITIES]
SIZES = {"80x24": (80, 24), "160x50": (160, 50)}


# ----- the layout (pure) ---------------------------------------------------------------------


def cells(drawn: StreetMap) -> list[tuple[int, int, int, int]]:
    return [(t.x, t.y, t.x + t.width, t.y + t.height) for t in drawn.tiles]


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(("width", "height"), [(78, 18), (158, 44), (78, 15), (40, 60)])
def test_every_community_gets_a_tile_of_its_own_within_the_space(width: int, height: int) -> None:
    drawn = lay_out(STREET, {}, width, height)
    assert sorted(t.id for t in drawn.tiles) == sorted(c.id for c in STREET) and not drawn.unplaced
    assert len({(t.column, t.row) for t in drawn.tiles}) == len(STREET)
    assert drawn.columns * drawn.rows >= len(STREET)
    assert drawn.width <= width and drawn.height <= height
    assert all(t.width >= TILE_WIDTH and t.height >= TILE_HEIGHT for t in drawn.tiles)
    assert not any(overlap(a, b) for a, b in combinations(cells(drawn), 2))


def test_tiles_keep_the_communities_relative_positions() -> None:
    """A community clearly north (east) of another is never drawn below (left of) it."""
    drawn = lay_out(STREET, {}, 78, 18)
    tile = {t.id: t for t in drawn.tiles}
    cell_deg_x = 0.0248 / drawn.columns  # the street spans about 0.025° of longitude, 0.018° of latitude
    cell_deg_y = 0.0177 / drawn.rows
    for a, b in combinations(STREET, 2):
        assert a.centre is not None and b.centre is not None
        (lat_a, long_a), (lat_b, long_b) = a.centre, b.centre
        if long_a - long_b > 1.5 * cell_deg_x:
            assert tile[a.id].column >= tile[b.id].column, (a.name, b.name)
        if lat_a - lat_b > 1.5 * cell_deg_y:
            assert tile[a.id].row <= tile[b.id].row, (a.name, b.name)
    # the corners of the street stay its corners
    assert tile["c10"].row == 0 and tile["c10"].column >= drawn.columns - 2  # 马甸: north-east
    assert tile["c15"].row == drawn.rows - 1  # 德外大街: the southernmost
    assert tile["c14"].column == 0  # 新风街: the westernmost


@settings(max_examples=60, deadline=None)
@given(
    centres=st.lists(
        st.tuples(st.floats(39.9, 40.0), st.floats(116.3, 116.45)), min_size=1, max_size=40, unique=True
    ),
    width=st.integers(12, 200),
    height=st.integers(3, 60),
)
def test_any_street_lays_out_without_overlaps(
    centres: list[tuple[float, float]], width: int, height: int
) -> None:
    communities = [Community(id=f"x{i}", name=f"社区{i}", centre=c) for i, c in enumerate(centres)]
    drawn = lay_out(communities, {"x0": 3}, width, height)
    placed = {t.id for t in drawn.tiles} | {t.id for t in drawn.unplaced}
    assert placed == {c.id for c in communities}
    assert drawn.width <= width and drawn.height <= height
    assert not any(overlap(a, b) for a, b in combinations(cells(drawn), 2))
    assert drawn.total == 3


def test_labels_are_short_names() -> None:
    assert short_name("德胜里社区") == "德胜里"
    assert short_name("六铺炕北小街社区") == "六铺炕北小街"
    assert short_name("社区") == "社区"
    assert short_name("Maple Community") == "Maple"
    drawn = lay_out(STREET, {}, 78, 18)
    assert {t.label for t in drawn.tiles} >= {"德胜里", "马甸", "裕中西里", "裕中东里"}


def test_a_community_without_a_centre_is_listed_apart_and_unknown_ones_are_counted() -> None:
    old = [*STREET[:3], Community(id="c99", name="新社区")]
    drawn = lay_out(old, {"c01": 2, "c99": 4, "zz": 5}, 78, 18)
    assert [t.id for t in drawn.unplaced] == ["c99"] and drawn.unplaced[0].count == 4
    assert drawn.elsewhere == 5 and drawn.total == 11
    nothing = lay_out([Community(id="c01", name="德胜里社区")], {"c01": 1}, 78, 18)
    assert nothing.tiles == () and [t.id for t in nothing.unplaced] == ["c01"]


def test_no_room_leaves_every_community_unplaced() -> None:
    drawn = lay_out(STREET, {}, TILE_WIDTH - 1, 40)
    assert drawn.tiles == () and len(drawn.unplaced) == len(STREET)


def test_levels_follow_the_shades() -> None:
    assert [level_of(n) for n in (0, 1, 2, 3, 5, 6, 10, 11, 500)] == [0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert len(SHADES) == len(SHADE_FROM) + 1


class Row:
    def __init__(self, community: str, state: State, hours_ago: float) -> None:
        self.community, self.state = community, state
        self.received_at = CLOCK - hours_ago * 3600


def test_open_counts_count_requests_still_to_handle_in_the_last_hours() -> None:
    rows = [
        Row("c01", State.new, 1),
        Row("c01", State.accepted, 5.9),
        Row("c01", State.resolved, 1),  # handled
        Row("c01", State.callback_logged, 1),
        Row("c02", State.merged, 1),  # one with its parent
        Row("c02", State.closed, 1),
        Row("c02", State.dispatched, RECENT_HOURS + 0.1),  # before the window
        Row("c03", State.reopened, 0),
    ]
    assert open_counts(rows, CLOCK) == Counter({"c01": 2, "c03": 1})


def test_layout_is_fast_enough_for_a_large_street() -> None:
    """A district of 300 communities still lays out (swaps are bounded)."""
    many = [
        Community(id=f"x{i}", name=f"社区{i}", centre=(39.9 + (i % 17) / 200, 116.3 + (i // 17) / 150))
        for i in range(300)
    ]
    drawn = lay_out(many, {}, 400, 200)
    assert len(drawn.tiles) + len(drawn.unplaced) == 300


# ----- the map on screen ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def storm(tmp_path_factory: pytest.TempPathFactory) -> Central:
    """The demo data and three hours of a rainstorm before its "now"."""
    tmp = tmp_path_factory.mktemp("storm")
    store = SqlStore.open(str(tmp / "central.db"))
    try:
        seed_store(store, seed=7, count=20, now=SEED_NOW)
        for call in storm_requests(3, start=SEED_NOW - timedelta(hours=3), hours=3, count=120):
            store.create_request(call.new, actor=call.actor, idempotency_key=None)
        changes, head = store.changes(0, 100_000)
        directory = Directory(
            units=store.units(),
            categories=store.categories(),
            communities=store.communities(),
            fetched_at=SEED_NOW,
        )
    finally:
        store.close()
    page = ChangesPage(changes=changes, next_since=changes[-1].seq, head=head, has_more=False)
    return Central(page=page, directory=directory)


@pytest.fixture
def session(storm: Central, tmp_path: Path, fixed_zone: None) -> Iterator[Session]:
    with cached_session(storm, tmp_path / "cache") as opened:
        yield opened


async def counted(pilot: Pilot[Any], app: HotlineApp, screen: type[object]) -> StreetMapView:
    await until(pilot, lambda: isinstance(app.screen, screen), what=f"the {screen.__name__}")
    view = app.screen.query_one(StreetMapView)
    await until(pilot, lambda: view.counts is not None and sum(view.counts.values()) > 0, what="counts")
    return view


async def storm_view(pilot: Pilot[Any], app: HotlineApp) -> None:
    await until(pilot, lambda: app.loaded and isinstance(app.screen, QueuesScreen), what="the queues")
    await pilot.press("W")
    await counted(pilot, app, StormMapScreen)


async def test_the_storm_view_counts_open_requests_by_community(session: Session) -> None:
    """The map's counts are the rows' own: requests still to handle of the last hours."""
    expected = open_counts(session.all_rows().rows, CLOCK)
    assert sum(expected.values()) >= 100 and len(expected) >= 10  # a storm over most of the street
    app = frozen_app(session, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await storm_view(pilot, app)
        view = app.screen.query_one(StreetMapView)
        assert view.counts == expected
        assert all(c.centre == COMMUNITY_CENTRES[c.id] for c in view.communities)  # from the server
        text = str(view.render())
        assert all(short_name(c.name)[:4] in text for c in COMMUNITIES)
        assert f"by community: {sum(expected.values())}" in text
        assert "· 0  ░ 1–2  ▒ 3–5  ▓ 6–10  █ 11+" in text
        for level in {level_of(n) for n in expected.values()}:
            assert SHADES[level] * 10 in text  # each level drawn as its own character
        await pilot.press("escape")
        assert isinstance(app.screen, QueuesScreen)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("colour", ["colour", "no_colour"])
def test_storm_map_snapshot(
    snap_compare: Any,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    size: str,
    lang: Lang,
    colour: str,
) -> None:
    if colour == "no_colour":
        monkeypatch.setenv("NO_COLOR", "1")  # read when the app is made
    app = frozen_app(session, lang)
    assert app.no_color is (colour == "no_colour")

    async def run_before(pilot: Pilot[Any]) -> None:
        await storm_view(pilot, app)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dashboard_map_section_snapshot(snap_compare: Any, session: Session, lang: Lang) -> None:
    app = frozen_app(session, lang)

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.loaded and isinstance(app.screen, QueuesScreen), what="the queues")
        await pilot.press("b")
        await counted(pilot, app, DashboardScreen)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await until(pilot, lambda: screen.report is not None, what="the report")

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)


def test_an_old_directory_without_centres_still_loads(tmp_path: Path, storm: Central) -> None:
    """A cache written before communities had centres loads; the map then lists them apart."""
    old = storm.directory.model_dump(mode="json")
    for community in old["communities"]:
        del community["centre"]
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    path = cache / "directory.json"
    path.write_bytes(orjson.dumps({"schema": 1, "directory": old}))
    path.chmod(0o600)
    loaded = DirectoryFile(path).load()
    assert loaded is not None and [c.id for c in loaded.communities] == [c.id for c in COMMUNITIES]
    assert all(c.centre is None for c in loaded.communities)
    drawn = lay_out(loaded.communities, {"c01": 3}, 78, 18)
    assert drawn.tiles == () and drawn.total == 3 and len(drawn.unplaced) == len(COMMUNITIES)
