"""The line under the queue tabs says what narrows the queue in the interface's words: channels and
tiers by name, and how many communities (or categories, units) are chosen when there are several."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import cached_session, running_app, seeded_central, until

from tui.core.queue.filters import Filter
from tui.ui.screens.queues import QueuesScreen
from tui.ui.widgets.queue_bar import FilterLine


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", ["社区 3 项：", "渠道：微信、电话", "时限：2小时", "排序："]),
        ("en", ["Communities (3): ", "Channels: WeChat, phone", "Tiers: 2 hours", "sort: "]),
    ],
)
async def test_the_filter_line_names_channels_and_counts_many_choices(
    tmp_path: Path, lang: str, expected: list[str]
) -> None:
    central = seeded_central(tmp_path, 20)
    with cached_session(central, tmp_path / "cache") as session:
        async with running_app(session, lang=lang, size=(160, 30)) as (app, pilot):
            await until(pilot, lambda: app.loaded and isinstance(app.screen, QueuesScreen))
            screen = app.screen
            assert isinstance(screen, QueuesScreen)
            screen.filter = Filter(
                communities=frozenset({"c01", "c02", "c03"}),
                channels=frozenset({"phone", "wechat"}),
                tiers=frozenset({"2h"}),
            )
            screen.reapply()
            await pilot.pause()
            line = screen.query_one(FilterLine).render().plain
            for part in expected:
                assert part in line
            assert ("phone" in line) is (lang == "en")  # channels by their names, never their codes
