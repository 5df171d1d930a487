"""What a handling unit's own login (`Role.unit`) may use in the app besides the actions a unit
takes (`api_client.domain.unit_rules`): the app's commands. Everything else the app offers the centre
(dispatch, merge, callback, close, reopen, escalate, chase, intake, a direct answer, and any
command added later) is hidden from a unit and refused when its key is pressed: the server would
refuse it (403), and an action it refuses must never be recorded.
"""

from __future__ import annotations

from typing import Final

from api_client.models import Identity, Role

__all__ = ["UNIT_COMMANDS", "own_unit"]

#: The app's own commands (besides those actions) a unit may use: they record nothing.
UNIT_COMMANDS: Final = frozenset({"help", "quit", "conflicts", "dashboard"})


def own_unit(identity: Identity | None) -> str | None:
    """The unit a unit's login is bound to; None for the centre's logins (and when unknown)."""
    if identity is None or identity.role is not Role.unit:
        return None
    return identity.unit or None
