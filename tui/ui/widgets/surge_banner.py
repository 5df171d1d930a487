"""`SurgeBanner`: one line over the queue when arrivals jump (a storm, an outage).

    ⚠ 激增 房屋漏雨 24 件/15分钟（平时 3，8 倍） · 德胜里社区 12 件/15分钟（平时 2，6 倍）  D 疑似重复

Hidden while nothing surges. The surges come from `tui.core.surge.detect_surges` (computed by the
queue screen in a worker); names are resolved here and shown literally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.cells import cell_len
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
        """As many surges as fit the width (the rest counted), then the keys if they fit too."""
        t = self._strings
        width = self.size.width or 80
        line = f"⚠ {t('surge.title')} "
        shown = 0
        for surge in self.surges:
            part = self._item(surge)
            more = t("surge.more", n=len(self.surges) - shown - 1)
            candidate = line + (" · " if shown else "") + part
            tail = f" · {more}" if shown + 1 < len(self.surges) else ""
            if shown and cell_len(candidate + tail) > width:
                break
            line, shown = candidate, shown + 1
        if shown < len(self.surges):
            line += f" · {t('surge.more', n=len(self.surges) - shown)}"
        hint = f"  {t('surge.hint')}"
        if cell_len(line + hint) <= width:
            line += hint
        return Text(line, no_wrap=True, overflow="ellipsis", end="")

    def _item(self, surge: Surge) -> str:
        t = self._strings
        name = one_line(self._names.get(surge.key, surge.key))
        if surge.baseline < 0.5:  # "47.5 times nothing" says nothing: say it is new
            return t("surge.item_new", name=name, rate=round(surge.rate))
        factor = round(surge.factor) if surge.factor >= 10 else round(surge.factor, 1)
        return t(
            "surge.item", name=name, rate=round(surge.rate), baseline=round(surge.baseline, 1), factor=factor
        )
