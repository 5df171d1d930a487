"""`QueueBar`: the queues with their live counts, the current one marked; and what narrows it.

    [1 新 12] 2 超时 5  3 办理中 40  4 待回访 8  5 待处理 2  6 全部 1000
    / 漏雨 · 类别: 屋顶漏雨 · 排序: 紧急

The number before each queue is the key that opens it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from api_client.domain.untrusted_text import one_line
from tui.core.i18n import Strings
from tui.core.queue.kinds import QueueKind

__all__ = ["QUEUE_ORDER", "FilterLine", "QueueBar"]

#: The queues in the order of their keys 1-6.
QUEUE_ORDER: tuple[QueueKind, ...] = (
    QueueKind.new,
    QueueKind.due,
    QueueKind.in_progress,
    QueueKind.callback,
    QueueKind.attention,
    QueueKind.all,
)


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

    def show(self, current: QueueKind, counts: Mapping[QueueKind, int]) -> None:
        if current != self._current or counts != self._counts:
            self._current, self._counts = current, dict(counts)
            self.refresh()

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        current = self.get_component_rich_style("queue-bar--current")
        alert = self.get_component_rich_style("queue-bar--alert")
        for number, kind in enumerate(QUEUE_ORDER, start=1):
            count = self._counts.get(kind, 0)
            label = f" {number} {self._strings(f'queue.{kind}')} "
            if kind is self._current:
                line.append(f"{label}{count} ", current)
            else:
                line.append(label)
                urgent = count and kind in (QueueKind.due, QueueKind.attention)
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
