"""What the queues show: snapshots of every request and of the callback queue at 80x24 and
160x50, in Chinese and English, and of columns a dispatcher chose.

Deterministic as `test_tui_snapshots.py` is: the demo data with a fixed seed and "now", the cache
filled from the store's change feed (no server), a frozen clock, a fixed time zone.

Regenerate after a deliberate change of the queue's rows, then look at the SVGs before
committing:

    pytest tests/test_tui_queue_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from app_support import Central, cached_session, seeded_central, until
from snapshot_support import CLOCK, Lang, frozen_app
from textual.pilot import Pilot

from tui.core.queue.kinds import QueueKind
from tui.core.queue.layout import Column
from tui.core.session import Session
from tui.ui.app import HotlineApp
from tui.ui.screens.queues import QueuesScreen

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}
#: The queue shown, by its key: every request, and the callback queue.
VIEWS = {"all": ("6", QueueKind.all), "callback": ("4", QueueKind.callback)}

Compare = Callable[..., bool]


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Central:
    return seeded_central(tmp_path_factory.mktemp("central"), 60)


@pytest.fixture
def session(central: Central, tmp_path: Path, fixed_zone: None) -> Iterator[Session]:
    """A dispatcher's offline session on the seeded data, in a fixed time zone."""
    with cached_session(central, tmp_path / "cache") as opened:
        yield opened


async def show(pilot: Pilot[Any], app: HotlineApp, view: str) -> None:
    """The queue of `view`, every row of it listed, the first selected."""
    await until(pilot, lambda: app.loaded and isinstance(app.screen, QueuesScreen), what="the queues")
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    key, kind = VIEWS[view]
    await pilot.press(key)
    expected = app.model.counts(CLOCK)[kind]
    await until(pilot, lambda: screen.kind is kind and screen.table.row_count == expected, what=view)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("view", VIEWS)
def test_queue_rows(snap_compare: Compare, session: Session, view: str, lang: Lang, size: str) -> None:
    app = frozen_app(session, lang)

    async def run_before(pilot: Pilot[Any]) -> None:
        await show(pilot, app, view)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_columns_a_dispatcher_chose(snap_compare: Compare, session: Session) -> None:
    chosen = (Column.id, Column.due, Column.state, Column.category, Column.address, Column.unit, Column.text)
    app = frozen_app(session, "zh", chosen)

    async def run_before(pilot: Pilot[Any]) -> None:
        await show(pilot, app, "all")

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)
