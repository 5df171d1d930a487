"""`ChaseDialog` (催办): remind the units that have a request, with an optional note they will see.

It names the units the chase reaches (the lead, then the co-units) and how many times the request
was chased before; it dismisses with `api_client.actions.Chase`, or None when escaped. Asked once
for many marked requests (`scope`), it names neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from api_client.actions import Chase
from api_client.models import Request
from tui.core.i18n import Strings
from tui.ui.screens.transitions import BulkScope, _TextDialog
from tui.ui.text import literal

__all__ = ["ChaseDialog"]


class ChaseDialog(_TextDialog[Chase]):
    NAME = "chase"
    FIELD = "text"
    REQUIRED = False

    def __init__(
        self,
        request: Request,
        strings: Strings,
        *,
        scope: BulkScope | None = None,
        unit_names: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(request, strings, scope=scope)
        self.unit_names = unit_names or {}

    def compose_fields(self) -> ComposeResult:
        if self.scope is None:
            yield Static(self._reaches(), id="chased", markup=False)
        yield from super().compose_fields()

    def _reaches(self) -> Text:
        """Whom the chase reaches, and how many times the request was chased before."""
        t = self.strings
        units: Sequence[str] = [u for u in (self.request.lead_unit, *self.request.co_units) if u]
        names = t.join(self.unit_names.get(u, u) for u in units)
        line = literal(t("chase.units", units=names))
        if self.request.chases:
            line.append("  ")
            line.append_text(literal(t("chase.count", n=self.request.chases), "bold"))
        return line

    def make(self, text: str) -> Chase:
        return Chase(text=text)
