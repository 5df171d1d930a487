"""`SurgeBanner`: one line over the queue when arrivals jump (a storm, an outage).

    ⚠ 激增 房屋漏雨 24 件/15分钟（平时 3，8 倍） · 德胜里社区 12 件/15分钟（平时 2，6 倍）  D 疑似重复

Hidden while nothing surges. The surges come from `tui.core.surge.detect_surges` (computed by the
queue screen in a worker); names are resolved here and shown literally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from api_client.domain.untrusted_text import one_line
from tui.core.i18n import Strings
from tui.core.surge import Surge

__all__ = ["SurgeBanner"]


class SurgeBanner(Widget):
    DEFAULT_CSS = """
    SurgeBanner {
        height: 1;
        display: none;
        background: $error 30%;
        color: $text;
        text-style: bold;
        &.-surging { display: block; }
        &:ansi { background: ansi_red; color: ansi_bright_white; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = set()

    def __init__(self, strings: Strings) -> None:
        super().__init__()
        self._strings = strings
        self.surges: list[Surge] = []
        self._names: Mapping[str, str] = {}

    def show(self, surges: Sequence[Surge], names: Mapping[str, str]) -> None:
        self.surges, self._names = list(surges), names
        self.set_class(bool(self.surges), "-surging")
        self.refresh()

    def render(self) -> Text:
        t = self._strings
        parts = [
            t(
                "surge.item",
                name=one_line(self._names.get(s.key, s.key)),
                rate=round(s.rate),
                baseline=round(s.baseline, 1),
                factor=round(s.factor, 1),
            )
            for s in self.surges[:3]
        ]
        return Text(
            f"⚠ {t('surge.title')} " + " · ".join(parts) + f"  {t('surge.hint')}", no_wrap=True, end=""
        )
