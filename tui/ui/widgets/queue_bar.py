"""`QueueBar`: the queues with their live counts, the current one marked; and what narrows it.

    [1 新 12] 2 超时 5  3 办理中 40  4 待回访 8  5 待处理 2  6 全部 1000
    / 漏雨 · 类别: 屋顶漏雨 · 排序: 紧急

The number before each queue is the key that opens it; a unit's login has its own queues under the
same keys (`tui.core.queue.kinds.queues_for`):

    [1 待签收 3] 2 超时 1  3 在办 10  4 催办重办 2  5 待处理 0  6 全部 40
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from api_client.domain.untrusted_text import one_line
from tui.core.i18n import Strings
from tui.core.queue.kinds import DISPATCHER_QUEUES, QueueKind

__all__ = ["QUEUE_ORDER", "FilterLine", "QueueBar"]

#: The centre's queues in the order of their keys 1-6.
QUEUE_ORDER: tuple[QueueKind, ...] = DISPATCHER_QUEUES


class QueueBar(Widget):
    DEFAULT_CSS = """
    QueueBar {
        height: 1;
        background: $panel;
        & > .queue-bar--current { background: $accent; color: $text; text-style: bold; }
        & > .queue-bar--alert { color: $text-error; text-style: bold; }
        &:ansi > .queue-bar--current { text-style: reverse bold; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"queue-bar--current", "queue-bar--alert"}

    def __init__(self, strings: Strings) -> None:
        super().__init__()
        self._strings = strings
        self._current = QueueKind.new
        self._counts: Mapping[QueueKind, int] = {}
        self._order = QUEUE_ORDER

    def show(
        self, current: QueueKind, counts: Mapping[QueueKind, int], order: tuple[QueueKind, ...] = QUEUE_ORDER
    ) -> None:
        """Show the queues of `order` (keys 1-6) with `counts`, `current` marked."""
        if current != self._current or counts != self._counts or order != self._order:
            self._current, self._counts, self._order = current, dict(counts), order
            self.refresh()

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        current = self.get_component_rich_style("queue-bar--current")
        alert = self.get_component_rich_style("queue-bar--alert")
        for number, kind in enumerate(self._order, start=1):
            count = self._counts.get(kind, 0)
            label = f" {number} {self._strings(f'queue.{kind}')} "
            if kind is self._current:
                line.append(f"{label}{count} ", current)
            else:
                line.append(label)
                urgent = count and kind in (QueueKind.due, QueueKind.attention, QueueKind.back)
                line.append(f"{count} ", alert if urgent else "")
        return line


class FilterLine(Widget):
    """What narrows the current queue (search words, filters, a saved queue's name) and the sort."""

    DEFAULT_CSS = """
    FilterLine {
        height: 1;
        color: $text-muted;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._text = ""

    def show(self, text: str) -> None:
        text = one_line(text)
        if text != self._text:
            self._text = text
            self.refresh()

    def render(self) -> Text:
        return Text(self._text, no_wrap=True, overflow="ellipsis", end="")
