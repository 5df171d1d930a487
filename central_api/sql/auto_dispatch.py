"""Auto-dispatch at intake: when the routing rule that decides for a new request's category and
community (`best_rule`) auto-dispatches and its lead unit is on duty, the request is dispatched to
the rule's units in the intake's transaction, by the actor `auto:<rule id>`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from api_client.actions import Dispatch
from api_client.domain.lifecycle import apply_action
from api_client.domain.routing import best_rule
from api_client.models import Request, RoutingRule
from central_api.sql import tables as t
from central_api.sql.routing_rules import load_rules


def auto_actor(rule_id: str) -> str:
    """The actor of a dispatch the server made by itself for routing rule `rule_id`."""
    return f"auto:{rule_id}"


def auto_detail(rule: RoutingRule) -> dict[str, object]:
    """The audit detail of an automatic dispatch: the dispatch, and the rule that made it."""
    return {
        "lead_unit": rule.lead_unit,
        "co_units": list(rule.co_units),
        "automatic": True,
        "rule": rule.id,
        "rule_version": rule.version,
        "rule_community": rule.community,
    }


@dataclass(frozen=True)
class AutoDispatcher:
    """The routing rules and unit duty states one intake transaction consults."""

    rules: Sequence[RoutingRule]
    on_duty: frozenset[str]

    @classmethod
    def load(cls, conn: Connection, *, category: str | None = None) -> AutoDispatcher:
        """The rules (of `category` only, when given) as the transaction sees them."""
        rules = load_rules(conn, category=category)
        if not any(rule.auto_dispatch for rule in rules):
            return cls(rules=(), on_duty=frozenset())
        u = t.units.c
        on_duty = frozenset(conn.execute(select(u.id).where(u.on_duty.is_(True))).scalars())
        return cls(rules=rules, on_duty=on_duty)

    def dispatch(
        self, request: Request, *, now: datetime, unit_ids: frozenset[str]
    ) -> tuple[Request, RoutingRule] | None:
        """`request` dispatched by the rule that decides for it (change_seq + 1), or None when
        that rule does not auto-dispatch or its lead unit is off duty (a dispatcher decides)."""
        if not self.rules:
            return None
        rule = best_rule(self.rules, request.category, request.location.community)
        if rule is None or not rule.auto_dispatch or rule.lead_unit not in self.on_duty:
            return None
        action = Dispatch(lead_unit=rule.lead_unit, co_units=list(rule.co_units))
        dispatched = apply_action(request, action, actor=auto_actor(rule.id), now=now, known_units=unit_ids)
        return dispatched.model_copy(update={"change_seq": request.change_seq + 1}), rule
