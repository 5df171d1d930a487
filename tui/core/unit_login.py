"""What a handling unit's own login (`Role.unit`) may do in the app: the actions a unit takes on its
own requests, and the app's commands it may use. Everything else the app offers the centre
(dispatch, merge, callback, close, reopen, escalate, chase, intake, a direct answer, and any
command added later) is hidden from a unit and refused when its key is pressed: the server would
refuse it (403), and an action it refuses must never be recorded.
"""

from __future__ import annotations

from typing import Final

from api_client.models import Identity, Request, Role

__all__ = ["LEAD_ACTIONS", "UNIT_ACTIONS", "UNIT_COMMANDS", "is_with", "own_unit", "unit_may"]

#: The actions a unit takes on a request it leads or co-handles: sign for, return, extend,
#: resolve, note.
UNIT_ACTIONS: Final = frozenset({"accept", "return", "extend", "resolve", "note"})
#: Of those, what only the lead unit (主办) does; a co-handling unit (协办) adds notes.
LEAD_ACTIONS: Final = frozenset({"accept", "return", "extend", "resolve"})
#: The app's own commands (besides those actions) a unit may use: they record nothing.
UNIT_COMMANDS: Final = frozenset({"help", "quit", "conflicts", "dashboard"})


def own_unit(identity: Identity | None) -> str | None:
    """The unit a unit's login is bound to; None for the centre's logins (and when unknown)."""
    if identity is None or identity.role is not Role.unit:
        return None
    return identity.unit or None


def is_with(request: Request, unit: str) -> bool:
    """Whether `request` is with `unit` (it leads or co-handles it): what a unit's login shows. The
    server also sends the change that takes a request away from the unit (a return, a dispatch to
    another unit); the app then no longer shows it."""
    return request.lead_unit == unit or unit in request.co_units


def unit_may(action: str, *, lead_unit: str | None, unit: str) -> bool:
    """Whether the login of `unit` may take `action` on a request led by `lead_unit`: one of
    `UNIT_ACTIONS`, and one of `LEAD_ACTIONS` only as the lead."""
    if action not in UNIT_ACTIONS:
        return False
    return action not in LEAD_ACTIONS or lead_unit == unit
