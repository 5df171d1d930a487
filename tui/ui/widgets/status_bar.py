"""`StatusBar`: one line saying where the dispatcher stands with the server.

Online/offline, actions not yet sent, conflicts waiting, the last successful sync, the server
and the dispatcher, in that order (what matters most first, so a narrow terminal cuts the
least). Offline and conflicts are coloured and also spelled out (16 colours and `NO_COLOR`
lose nothing). It follows the app's `status_signal` itself: a screen only yields it.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, cast
from urllib.parse import urlsplit

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from api_client.domain.untrusted_text import one_line
from local_cache.sync import SyncStatus
from tui.core.i18n import Strings
from tui.ui.host import Host

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

    def __init__(self) -> None:
        super().__init__()
        self._strings = Strings()
        self._server = self._dispatcher = ""
        self._sync = True

    def on_mount(self) -> None:
        host = cast(Host, self.app)
        self._strings = host.strings
        self._server = one_line(urlsplit(host.server_url).netloc or host.server_url)  # host:port is enough
        self._dispatcher = one_line(host.dispatcher)
        self._sync = host.can_sync
        self.status = host.last_status
        host.status_signal.subscribe(self, self._status_changed)

    def _status_changed(self, status: SyncStatus) -> None:
        self.status = status

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
