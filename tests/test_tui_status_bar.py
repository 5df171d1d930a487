"""The status bar at 80 columns: whole parts only, the most important kept (state, unsent actions,
conflicts, the offline reason), never a part cut in the middle; wider, everything."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import open_session, running_app, seeded_server, synced, until
from rich.cells import cell_len

from tui.core.i18n import Strings
from tui.ui.widgets.status_bar import StatusBar


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_offline_at_80_columns_keeps_the_counts_and_drops_whole_parts(
    tmp_path: Path, lang: str
) -> None:
    strings = Strings(lang)
    server = seeded_server(tmp_path, 5)
    try:
        session = open_session(server, tmp_path)
        async with running_app(session, lang=lang, size=(80, 24)) as (app, pilot):
            await until(pilot, lambda: synced(app, 5))
            bar = app.screen.query_one(StatusBar)
            wide = bar.render().plain
            server.stop()
            await until(pilot, lambda: app.last_status is not None and not app.last_status.online)
            await until(pilot, lambda: bool(app.last_status and app.last_status.last_error))
            await pilot.pause()
            line = bar.render().plain
            assert cell_len(line) <= 80 and "…" not in line
            assert strings("status.offline") in line
            assert strings("status.unsent", n=0) in line and strings("status.conflicts", n=0) in line
            assert app.dispatcher in wide  # online, at 80 columns, there was room for it
    finally:
        server.stop()
