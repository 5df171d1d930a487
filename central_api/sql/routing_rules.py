"""Routing rules: which units a category's requests go to, per community, and whether the server
dispatches them itself at intake. Every change is audited in the rules' own list (the rule as JSON
before and after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from api_client.models import ANY_COMMUNITY, RoutingRule, RoutingRuleEvent, RoutingRuleIn
from central_api.sql import tables as t
from central_api.sql.directory import Directory
from central_api.sql.engine import Database
from central_api.sql.storable import check_text, to_json
from central_api.store import InvalidInput, RuleClash, RuleNotFound, RuleVersionMismatch, RuleVersionRequired


def _rule_from_row(row: Any) -> RoutingRule:
    return RoutingRule(
        id=row.id,
        category=row.category,
        community=row.community,
        lead_unit=row.lead_unit,
        co_units=orjson.loads(row.co_units),
        auto_dispatch=bool(row.auto_dispatch),
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        version=row.version,
    )


def load_rules(
    conn: Connection, *, category: str | None = None, rule_id: str | None = None
) -> list[RoutingRule]:
    """The rules (of `category`, or the one with `rule_id`, when given) as `conn` sees them, by
    category, then community (`*` last), then id."""
    g = t.routing_rules.c
    query = select(t.routing_rules)
    if category is not None:
        query = query.where(g.category == category)
    if rule_id is not None:
        query = query.where(g.id == rule_id)
    rules = [_rule_from_row(row) for row in conn.execute(query)]
    rules.sort(key=lambda r: (r.category, r.community == ANY_COMMUNITY, r.community, r.id))
    return rules


def _current_rule(conn: Connection, rule_id: str, if_match: int | None) -> RoutingRule | None:
    """The rule now (None if there is none), checked against `if_match`."""
    found = load_rules(conn, rule_id=rule_id)
    current = found[0] if found else None
    if if_match is not None:
        if current is None:
            raise RuleVersionMismatch(rule_id, None, if_match)
        if current.version != if_match:
            raise RuleVersionMismatch(rule_id, current, if_match)
    return current


def _audit_rule(
    conn: Connection,
    rule_id: str,
    action: str,
    actor: str,
    now: datetime,
    before: RoutingRule | None,
    after: RoutingRule | None,
) -> None:
    conn.execute(
        insert(t.routing_rule_audit),
        {
            "rule_id": rule_id,
            "action": action,
            "actor": actor,
            "at": now,
            "before": before.model_dump_json() if before is not None else "null",
            "after": after.model_dump_json() if after is not None else "null",
        },
    )


class RoutingRules:
    def __init__(self, db: Database, directory: Directory) -> None:
        self._db = db
        self._directory = directory

    def routing_rules(self) -> list[RoutingRule]:
        with self._db.read() as conn:
            return load_rules(conn)

    def _check_rule(self, rule: RoutingRuleIn) -> None:
        check_text(rule.model_dump())
        if self._directory.category(rule.category) is None:
            raise InvalidInput(
                f"Unknown category {rule.category!r}.",
                code="unknown_category",
                params={"category": rule.category},
            )
        if rule.community != ANY_COMMUNITY and rule.community not in self._directory.community_ids:
            raise InvalidInput(
                f"Unknown community {rule.community!r} (give a community id, or * for any).",
                code="unknown_community",
                params={"community": rule.community},
            )
        unknown = [u for u in [rule.lead_unit, *rule.co_units] if u not in self._directory.unit_ids]
        if unknown:
            raise InvalidInput(
                f"Unknown unit {', '.join(repr(u) for u in unknown)}.",
                code="unknown_unit",
                params={"units": unknown},
            )

    def put_routing_rule(
        self, rule_id: str, rule: RoutingRuleIn, *, actor: str, if_match: int | None
    ) -> tuple[RoutingRule, bool]:
        self._check_rule(rule)
        check_text(rule_id)
        g = t.routing_rules.c
        with self._db.write() as conn:
            current = _current_rule(conn, rule_id, if_match)
            if current is not None and if_match is None:
                raise RuleVersionRequired(current)
            clash = conn.execute(
                select(g.id).where(
                    g.category == rule.category, g.community == rule.community, g.id != rule_id
                )
            ).scalar()
            if clash is not None:
                raise RuleClash(
                    f"Routing rule {clash} already routes {rule.category} in {rule.community}: change or"
                    " delete it instead.",
                    params={"rule_id": clash, "category": rule.category, "community": rule.community},
                )
            now = self._db.clock()
            after = RoutingRule(
                id=rule_id,
                **rule.model_dump(),
                updated_by=actor,
                updated_at=now,
                version=1 if current is None else current.version + 1,
            )
            values = {
                "category": after.category,
                "community": after.community,
                "lead_unit": after.lead_unit,
                "co_units": to_json(after.co_units),
                "auto_dispatch": after.auto_dispatch,
                "updated_by": actor,
                "updated_at": now,
                "version": after.version,
            }
            try:
                if current is None:
                    conn.execute(insert(t.routing_rules).values(id=rule_id, **values))
                else:
                    conn.execute(update(t.routing_rules).where(g.id == rule_id).values(**values))
            except IntegrityError as exc:  # a rule with this id or match appeared meanwhile
                raise RuleClash(
                    f"Routing rule {rule_id} clashes with another rule: read them again.",
                    code="rule_clash_meanwhile",
                    params={"rule_id": rule_id},
                ) from exc
            _audit_rule(conn, rule_id, "create" if current is None else "replace", actor, now, current, after)
        return after, current is None

    def delete_routing_rule(self, rule_id: str, *, actor: str, if_match: int | None) -> RoutingRule:
        with self._db.write() as conn:
            current = _current_rule(conn, rule_id, if_match)
            if current is None:
                raise RuleNotFound(rule_id)
            conn.execute(delete(t.routing_rules).where(t.routing_rules.c.id == rule_id))
            _audit_rule(conn, rule_id, "delete", actor, self._db.clock(), current, None)
        return current

    def set_auto_dispatch(self, category: str, enabled: bool, *, actor: str) -> list[RoutingRule]:
        if self._directory.category(category) is None:
            raise InvalidInput(
                f"Unknown category {category!r}.", code="unknown_category", params={"category": category}
            )
        g = t.routing_rules.c
        with self._db.write() as conn:
            now = self._db.clock()
            result: list[RoutingRule] = []
            for rule in load_rules(conn, category=category):
                if rule.auto_dispatch == enabled:
                    result.append(rule)
                    continue
                after = rule.model_copy(
                    update={
                        "auto_dispatch": enabled,
                        "updated_by": actor,
                        "updated_at": now,
                        "version": rule.version + 1,
                    }
                )
                conn.execute(
                    update(t.routing_rules)
                    .where(g.id == rule.id)
                    .values(auto_dispatch=enabled, updated_by=actor, updated_at=now, version=after.version)
                )
                _audit_rule(conn, rule.id, "replace", actor, now, rule, after)
                result.append(after)
        return result

    def routing_rule_audit(self, rule_id: str | None = None) -> list[RoutingRuleEvent]:
        a = t.routing_rule_audit.c
        query = select(t.routing_rule_audit).order_by(a.id)
        if rule_id is not None:
            query = query.where(a.rule_id == rule_id)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [
            RoutingRuleEvent(
                id=row.id,
                rule_id=row.rule_id,
                action=row.action,
                actor=row.actor,
                at=row.at,
                before=RoutingRule.model_validate_json(row.before) if row.before != "null" else None,
                after=RoutingRule.model_validate_json(row.after) if row.after != "null" else None,
            )
            for row in rows
        ]
