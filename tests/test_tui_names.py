"""Rows show the directory's names even when rows built before the directory came arrive after it.

Rows are built in threads with the names of their time; a thread that started before the
directory was fetched can finish after the rebuild the directory triggers. Such late rows must be
built again, not shown with bare codes until the next change of each request.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import Central, cached_session, seeded_central, until

from tui.core.queue.model import QueueModel
from tui.core.session import Session
from tui.ui.app import HotlineApp
from tui.ui.messages import DirectoryUpdated, RowsChanged, RowsLoaded


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Central:
    return seeded_central(tmp_path_factory.mktemp("central"), 40)


@pytest.fixture
def session(central: Central, tmp_path: Path) -> Iterator[Session]:
    """An offline cache holding the seeded requests, without a directory yet."""
    with cached_session(central, tmp_path / "cache", directory=False) as opened:
        yield opened


def named(app: HotlineApp) -> bool:
    names = app.session.names.communities
    rows = app.model.rows()
    return bool(names) and bool(rows) and all(row.community_name == names[row.community] for row in rows)


@pytest.mark.parametrize("late", ["changed", "loaded"])
async def test_rows_built_before_the_directory_are_built_again(
    session: Session, central: Central, late: str
) -> None:
    app = HotlineApp(session, sync=False, announce_urgent=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.loaded and len(app.model) == 40, what="the rows")
        assert not named(app)
        stale = session.rows_for([row.id for row in app.model.rows()])  # a thread's rows, unnamed

        session.set_directory(central.directory)
        app.post_message(DirectoryUpdated())
        await until(pilot, lambda: named(app), what="the rows named")

        # ... and only now does the thread that started before the directory deliver its rows
        if late == "changed":
            app.post_message(RowsChanged(stale, announce=False))
        else:
            app.post_message(RowsLoaded(QueueModel(stale.rows), stale.names))
        await pilot.pause()
        await until(pilot, lambda: named(app), what="the late rows named again")
        assert len(app.model) == 40
