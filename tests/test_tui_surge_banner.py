"""The surge banner at 80 columns: every shown surge whole, the rest counted, a surge from
nothing said as such (not as "47.5 times 0.0"), in both languages."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from tui.core.i18n import Strings
from tui.core.surge import Surge
from tui.ui.widgets.surge_banner import SurgeBanner

NAMES = {"roof_leak": "房屋漏雨", "waterlogging": "道路积水", "c01": "德胜里社区", "c02": "新风街社区"}
SURGES = [
    Surge("category", "roof_leak", rate=47.5, baseline=0.0, factor=47.5),
    Surge("category", "waterlogging", rate=24, baseline=3.0, factor=8.0),
    Surge("community", "c01", rate=30, baseline=2.1, factor=14.3),
    Surge("community", "c02", rate=12, baseline=2.0, factor=6.0),
]


class BannerApp(App[None]):
    def __init__(self, strings: Strings) -> None:
        super().__init__()
        self.strings = strings

    def compose(self) -> ComposeResult:
        yield SurgeBanner(self.strings)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_banner_fits_80_columns_and_counts_what_it_leaves_out(lang: str) -> None:
    strings = Strings(lang)
    app = BannerApp(strings)
    async with app.run_test(size=(80, 5)) as pilot:
        banner = app.query_one(SurgeBanner)
        banner.show(SURGES, NAMES)
        await pilot.pause()
        line = banner.render().plain
        assert cell_len(line) <= 80
        assert "…" not in line  # nothing cut in the middle of a word or number
        assert strings("surge.item_new", name="房屋漏雨", rate=48) in line  # not "47.5 倍/x of 0.0"
        assert "0.0" not in line
        shown = sum(NAMES[s.key] in line for s in SURGES)
        assert 1 <= shown < len(SURGES)
        assert strings("surge.more", n=len(SURGES) - shown) in line


async def test_a_wide_banner_shows_every_surge_and_the_keys() -> None:
    strings = Strings("zh")
    app = BannerApp(strings)
    async with app.run_test(size=(240, 5)) as pilot:
        banner = app.query_one(SurgeBanner)
        banner.show(SURGES, NAMES)
        await pilot.pause()
        line = banner.render().plain
        assert all(name in line for name in NAMES.values())
        assert "14 倍" in line and "8.0 倍" in line  # large factors rounded to whole numbers
        assert line.endswith(strings("surge.hint"))
