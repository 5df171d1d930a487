"""`StatusBar`: one line saying where the dispatcher stands with the server.

Online/offline, a unit's login's unit, actions not yet sent, conflicts waiting, the last
successful sync, the server and the dispatcher, and offline why; a narrow terminal leaves out
whole parts, the least important first, and never cuts one in the middle. Offline and conflicts
are coloured and also spelled out (16 colours and `NO_COLOR` lose nothing). It follows the app's
`status_signal` (and `identity_signal`) itself: a screen only yields it.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, cast
from urllib.parse import urlsplit

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from api_client.domain.untrusted_text import one_line
from api_client.models import Identity
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
        self._host: Host | None = None
        self._shown_unit = ""

    def on_mount(self) -> None:
        host = self._host = cast(Host, self.app)
        self._strings = host.strings
        self._server = one_line(urlsplit(host.server_url).netloc or host.server_url)  # host:port is enough
        self._dispatcher = one_line(host.dispatcher)
        self._sync = host.can_sync
        self.status = host.last_status
        host.status_signal.subscribe(self, self._status_changed)
        host.identity_signal.subscribe(self, self._identity_changed)
        host.rows_signal.subscribe(self, self._rows_changed)  # the rows follow a new directory

    def _status_changed(self, status: SyncStatus) -> None:
        self.status = status

    def _identity_changed(self, _identity: Identity) -> None:
        self.refresh()

    def _rows_changed(self, _ids: object) -> None:
        if self._shown_unit != self._unit():  # its name came with the directory
            self.refresh()

    def _unit(self) -> str:
        """The unit of a unit's login, by name ("" for the centre's)."""
        unit = self._host.own_unit if self._host is not None else None
        if unit is None or self._host is None:
            return ""
        return one_line(self._host.names.units.get(unit, unit))

    def render(self) -> Text:
        """Every part that fits the width whole, chosen by priority (state, unsent actions,
        conflicts, the offline reason, the last sync, the dispatcher, the server), shown in
        reading order; a part that does not fit is left out, never cut in the middle."""
        t = self._strings
        status = self.status
        warn = self.get_component_rich_style("status-bar--warning")
        if not self._sync:
            head = (f" {t('status.no_sync')} ", warn)
        elif status is None or not status.online:
            head = (f" ● {t('status.offline')} ", self.get_component_rich_style("status-bar--offline"))
        else:
            head = (f" ● {t('status.online')} ", self.get_component_rich_style("status-bar--online"))
        # (priority, reading order, text, style): lower priority numbers are kept first.
        parts: list[tuple[int, int, str, Style | str]] = [(0, 0, *head)]
        self._shown_unit = unit = self._unit()
        if unit:  # whose requests these are: kept before anything else
            parts.append((0, 1, f" {t('status.unit', unit=unit)} ", "bold"))
        if status is not None:
            parts.append((1, 1, " " + t("status.unsent", n=status.pending), warn if status.pending else ""))
            parts.append(
                (2, 2, "  " + t("status.conflicts", n=status.conflicts), warn if status.conflicts else "")
            )
            parts.append((4, 3, "  " + t("status.last_sync", at=_clock(status.last_sync, t)), ""))
            if status.last_error and not status.online:
                parts.append((3, 6, "  " + one_line(status.last_error), ""))
        parts.append((5, 5, f"  {self._dispatcher}", ""))
        parts.append((6, 4, f"  {self._server}", ""))
        width = self.size.width or 80
        kept: list[tuple[int, int, str, Style | str]] = []
        used = 0
        for part in sorted(parts):
            size = cell_len(part[2])
            if used + size <= width or not kept:
                kept.append(part)
                used += size
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for _, _, text, style in sorted(kept, key=lambda part: part[1]):
            line.append(text, style)
        return line


def _clock(at: datetime | None, t: Strings) -> str:
    if at is None:
        return t("status.never")
    return at.astimezone().strftime("%H:%M:%S")
