"""`StatusBar`: one line saying where the dispatcher stands with the server.

Online/offline, actions not yet sent, conflicts waiting, the last successful sync, the server
and the dispatcher, in that order (what matters most first, so a narrow terminal cuts the
least). Offline and conflicts are coloured and also spelled out (16 colours and `NO_COLOR`
lose nothing).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from api_client.domain.untrusted_text import one_line
from local_cache.sync import SyncStatus
from tui.core.i18n import Strings

__all__ = ["StatusBar"]


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
        & > .status-bar--offline { color: $text-error; text-style: bold; }
        & > .status-bar--online { color: $text-success; }
        & > .status-bar--warning { color: $text-warning; text-style: bold; }
        &:ansi { background: ansi_default; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-bar--offline",
        "status-bar--online",
        "status-bar--warning",
    }

    status: reactive[SyncStatus | None] = reactive(None, layout=False)

    def __init__(self, strings: Strings, *, server: str, dispatcher: str, sync: bool = True) -> None:
        super().__init__()
        self._strings = strings
        self._server = one_line(urlsplit(server).netloc or server)  # host:port is enough here
        self._dispatcher = one_line(dispatcher)
        self._sync = sync

    def render(self) -> Text:
        t = self._strings
        status = self.status
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        if not self._sync:
            line.append(f" {t('status.no_sync')} ", self.get_component_rich_style("status-bar--warning"))
        elif status is None or not status.online:
            line.append(f" ● {t('status.offline')} ", self.get_component_rich_style("status-bar--offline"))
        else:
            line.append(f" ● {t('status.online')} ", self.get_component_rich_style("status-bar--online"))
        # What the dispatcher must not miss comes first: in 80 columns the end may be cut off.
        if status is not None:
            warn = self.get_component_rich_style("status-bar--warning")
            line.append(" ")
            line.append(t("status.unsent", n=status.pending), warn if status.pending else "")
            line.append("  ")
            line.append(t("status.conflicts", n=status.conflicts), warn if status.conflicts else "")
            line.append(f"  {t('status.last_sync', at=_clock(status.last_sync, t))}  ")
        line.append(f"{self._server}  {self._dispatcher}")
        if status is not None and status.last_error and not status.online:
            line.append(f"  {one_line(status.last_error)}")
        return line


def _clock(at: datetime | None, t: Strings) -> str:
    if at is None:
        return t("status.never")
    return at.astimezone().strftime("%H:%M:%S")
