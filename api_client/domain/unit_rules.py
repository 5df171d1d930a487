"""What a handling unit's own login (`Role.unit`) may see and do, once: the server refuses the rest
(`central_api.scope`), the app hides it (`tui.core.unit_login`).

A unit sees the requests it leads (主办) or co-handles (协办). It signs for (accept), returns, asks for
an extension and resolves only as the lead unit; a co-handling unit reads the request and adds
notes. Every other action (dispatch, merge, callback, close, reopen, escalate, chase, answer) is the
centre's.
"""

from __future__ import annotations

from typing import Final

from api_client.models import Request

__all__ = ["LEAD_ACTIONS", "UNIT_ACTIONS", "handling_units", "is_with", "unit_may"]

#: The actions a unit takes on a request it leads or co-handles.
UNIT_ACTIONS: Final = frozenset({"accept", "return", "extend", "resolve", "note"})
#: Of those, what only the lead unit does.
LEAD_ACTIONS: Final = frozenset({"accept", "return", "extend", "resolve"})


def handling_units(request: Request) -> list[str]:
    """The units a request is with: its lead unit first, then its co-handling units."""
    return [u for u in [request.lead_unit, *request.co_units] if u]


def is_with(request: Request, unit: str) -> bool:
    """Whether `request` is with `unit` (it leads or co-handles it): what a unit's login sees."""
    return request.lead_unit == unit or unit in request.co_units


def unit_may(action: str, *, lead_unit: str | None, unit: str) -> bool:
    """Whether the login of `unit` may take `action` on a request led by `lead_unit`: one of
    `UNIT_ACTIONS`, and one of `LEAD_ACTIONS` only as the lead."""
    if action not in UNIT_ACTIONS:
        return False
    return action not in LEAD_ACTIONS or lead_unit == unit
