"""Which dialog asks for which action: the app's one entry to the dialogs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.screen import ModalScreen

from api_client.models import Request, Unit
from tui.core.i18n import Strings
from tui.core.places.coverage import Coverage
from tui.ui.screens.chase import ChaseDialog
from tui.ui.screens.dispatch import DispatchDialog
from tui.ui.screens.transitions import BulkScope, EscalateDialog, NoteDialog, ReopenDialog
from tui.ui.screens.workflow_dialogs import (
    CallbackDialog,
    CloseDialog,
    ExtendDialog,
    ResolveDialog,
    ReturnDialog,
)

__all__ = ["dialog_for"]

_TEXT_DIALOGS: dict[str, Any] = {
    "return": ReturnDialog,
    "reopen": ReopenDialog,
    "note": NoteDialog,
    "resolve": ResolveDialog,
    "close": CloseDialog,
    "extend": ExtendDialog,
    "callback": CallbackDialog,
    "escalate": EscalateDialog,
}


def dialog_for(
    name: str,
    request: Request,
    strings: Strings,
    *,
    units: Sequence[Unit] = (),
    suggested: Sequence[str] = (),
    scope: BulkScope | None = None,
    coverage: Coverage | None = None,
) -> ModalScreen[Any] | None:
    """The dialog that asks for action `name` on `request` (None: the action needs none here);
    a dispatch chooses among `units`, the `suggested` ones first, those `coverage` names marked.
    With `scope`, the dialog asks once for many requests and says how many, and how many it skips."""
    if name == "dispatch":
        return DispatchDialog(request, units, suggested, strings, scope=scope, coverage=coverage)
    if name == "chase":
        return ChaseDialog(request, strings, scope=scope, unit_names={u.id: u.name for u in units})
    dialog = _TEXT_DIALOGS.get(name)
    return dialog(request, strings, scope=scope) if dialog is not None else None
