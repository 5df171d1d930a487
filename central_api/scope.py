"""What a token may read and do with requests: every request (`ALL`: a dispatcher, supervisor or
admin), or only those its unit leads or co-handles (a `unit` token), acting only as a unit acts.

A unit signs for (accept), returns, asks for an extension and resolves only as the lead unit (主办);
a co-handling unit (协办) reads the request and adds notes. Refusals are `ScopeRefused` (403):
`not_your_unit` (a request that exists but is not the unit's), `unit_not_allowed` (an action no
unit takes), `unit_not_lead` (an action only the lead unit takes).
"""

from __future__ import annotations

from dataclasses import dataclass

from api_client.actions import Action
from api_client.domain.unit_rules import LEAD_ACTIONS, UNIT_ACTIONS, handling_units, is_with
from api_client.models import Identity, Request, Role
from central_api.store import ScopeRefused


def request_units(request: Request) -> frozenset[str]:
    """The units a request is with (`unit_rules.handling_units`), as a set."""
    return frozenset(handling_units(request))


def co_units_column(request: Request) -> str:
    """The `requests.co_units` column: `|u1|u2|`, or "" when there is none."""
    return f"|{'|'.join(request.co_units)}|" if request.co_units else ""


@dataclass(frozen=True)
class Scope:
    """`unit` None: every request; else only the requests `unit` leads or co-handles."""

    unit: str | None = None

    @classmethod
    def of(cls, identity: Identity) -> Scope:
        """The scope of a token's holder (a unit token bound to no unit sees nothing)."""
        if identity.role is Role.unit:
            return cls(identity.unit or "")
        return ALL

    def covers(self, request: Request) -> bool:
        return self.unit is None or is_with(request, self.unit)

    def check(self, request: Request) -> Request:
        """`request`, when the scope covers it; ScopeRefused `not_your_unit` otherwise."""
        if not self.covers(request):
            raise ScopeRefused(
                f"Request {request.id} is not with unit {self.unit}.",
                code="not_your_unit",
                params={"request_id": request.id, "unit": self.unit},
            )
        return request

    def check_kind(self, action: Action) -> None:
        """ScopeRefused `unit_not_allowed` for an action no unit takes (whatever the request)."""
        if self.unit is not None and action.action not in UNIT_ACTIONS:
            raise ScopeRefused(
                f"A unit's token cannot {action.action} a request: the hotline's dispatchers do.",
                code="unit_not_allowed",
                params={"action": action.action},
            )

    def check_action(self, request: Request, action: Action) -> None:
        """Refuse (ScopeRefused) an action this scope may not take on `request` as it stands."""
        if self.unit is None:
            return
        self.check_kind(action)
        self.check(request)
        if action.action in LEAD_ACTIONS and request.lead_unit != self.unit:
            raise ScopeRefused(
                f"Only the lead unit ({request.lead_unit}) may {action.action} request {request.id};"
                f" {self.unit} co-handles it.",
                code="unit_not_lead",
                params={
                    "action": action.action,
                    "request_id": request.id,
                    "unit": self.unit,
                    "lead_unit": request.lead_unit,
                },
            )


#: Every request, every action the role allows.
ALL = Scope()
