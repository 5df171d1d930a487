"""The demo data written into a new database in one transaction, a statement per table.

`seed.seed_store` sends every intake and action through the `Store` protocol: about ten SQL
statements and 2 ms per write, 5,000 writes for 1,000 requests. `seed_new_database` makes the
same rows (the same ids, seqs, JSON, audit events and timestamps; tests/test_demo_start.py
compares them) by applying the same domain functions in memory, in the same order, and
inserting each table's rows at once.

It needs a database with the catalogue and no requests yet (`SqlStore.open` of a new file), and
no routing rule that dispatches at intake: the store's writes would then differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select

from api_client.actions import Action, Merge, Resolve
from api_client.domain.lifecycle import (
    HANDLED_STATES,
    apply_action,
    intake,
    resolve_with_parent,
    snapshot_diff,
)
from api_client.models import NewRequest, Request, State, now_utc
from central_api.knowledge_seed import SEED_ACTOR, seed_entries
from central_api.places_seed import demo_places
from central_api.seed import demo_events, demo_requests
from central_api.sql import tables as t
from central_api.sql.audit import audit_row
from central_api.sql.callers import caller_row, ensure_secret, masked_caller
from central_api.sql.directory import Directory
from central_api.sql.engine import Database
from central_api.sql.feed import change_row, record_units, unit_rows
from central_api.sql.knowledge import insert_entries
from central_api.sql.places import write_places
from central_api.sql.requests import SNAPSHOT_EXCLUDE, request_columns
from central_api.sql.routing_rules import load_rules

__all__ = ["seed_new_database"]


def seed_new_database(url: str, *, seed: int, count: int, now: datetime | None = None) -> int:
    """Write `count` demo requests (`seed`, `now`) and their histories into the new database at
    `url`, as `seed_store(store, seed=seed, count=count, now=now)` would (backdated); return how
    many were created. Raises ValueError when the database already holds requests or changes,
    or a routing rule dispatches at intake."""
    now = now or datetime.now(UTC)
    demos = demo_requests(seed, count, now)
    db = Database(url, clock=now_utc)
    try:
        directory = Directory(db)
        with db.write() as conn:
            _check_new(conn)
            write_places(conn, demo_places())
            rows = _Rows(directory, ensure_secret(conn))
            refs: dict[str, str] = {}
            for at, i, j in demo_events(demos):
                moment = at.astimezone(UTC)
                demo = demos[i]
                if j < 0:
                    refs[demo.ref] = rows.intake(demo.new, actor=demo.actor, now=moment)
                else:
                    step = demo.steps[j]
                    action = step.action
                    if isinstance(action, Merge):
                        action = Merge(parent_id=refs[action.parent_id])
                    rows.apply(refs[demo.ref], action, actor=step.actor, now=moment)
            rows.insert(conn)
            insert_entries(conn, seed_entries(), actor=SEED_ACTOR, now=now.astimezone(UTC))
    finally:
        db.close()
    return len(demos)


def _check_new(conn: Connection) -> None:
    requests = conn.execute(select(func.count()).select_from(t.requests)).scalar_one()
    changes = conn.execute(select(func.count()).select_from(t.changes)).scalar_one()
    if requests or changes:
        raise ValueError("the demo data is written in bulk only into a database without requests")
    if any(rule.auto_dispatch for rule in load_rules(conn)):
        raise ValueError("the demo data is written in bulk only into a database without auto-dispatch")


@dataclass
class _Rows:
    """The rows the store's writes would make, built in memory in write order."""

    directory: Directory
    secret: bytes
    seq: int = 0
    current: dict[str, tuple[Request, str]] = field(default_factory=dict)  # id -> (request, JSON)
    merged: dict[str, set[str]] = field(default_factory=dict)  # parent id -> ids ever merged into it
    changes: list[dict[str, object]] = field(default_factory=list)
    change_units: list[dict[str, object]] = field(default_factory=list)
    audit: list[dict[str, object]] = field(default_factory=list)
    callers: list[dict[str, object]] = field(default_factory=list)

    def intake(self, new: NewRequest, *, actor: str, now: datetime) -> str:
        """Intake as `Requests.create_request` does it (no auto-dispatch); the new request's id."""
        category = self.directory.category(new.category)
        if category is None:
            raise ValueError(f"unknown category {new.category!r}")
        self.seq += 1
        masked = new.model_copy(
            update={"caller": masked_caller(new.caller.name, new.caller.phone, self.secret)}
        )
        request_id = f"R-{len(self.current) + 1:06d}"
        request = intake(
            masked,
            request_id=request_id,
            tier=new.tier or category.tier,
            now=now,
            change_seq=self.seq,
            actor=actor,
        )
        data = request.model_dump_json()
        self.current[request_id] = (request, data)
        self.callers.append(caller_row(request_id, new.caller.phone, new.caller.name, now))
        self.changes.append(change_row(request, data, "intake", now))
        after = request.model_dump(mode="json", exclude=SNAPSHOT_EXCLUDE)
        self.audit.append(audit_row(request, "intake", actor, now, {}, after, {}))
        return request_id

    def apply(self, request_id: str, action: Action, *, actor: str, now: datetime) -> None:
        """An action as `Requests.apply` writes it, with the merged requests it resolves."""
        current = self.current[request_id][0]
        after = apply_action(current, action, actor=actor, now=now, known_units=self.directory.unit_ids)
        self.seq += 1
        after = after.model_copy(update={"change_seq": self.seq})
        detail = action.model_dump(mode="json", exclude={"action"})
        self._store(current, after, action=action.action, actor=actor, now=now, detail=detail)
        if isinstance(action, Resolve):
            self._resolve_children(after, actor=actor, now=now)
        elif isinstance(action, Merge):
            self.merged.setdefault(action.parent_id, set()).add(request_id)
            parent = self.current[action.parent_id][0]
            if parent.state in HANDLED_STATES:  # handled already: resolved now
                self._resolve_children(parent, actor=actor, now=now)

    def _resolve_children(self, parent: Request, *, actor: str, now: datetime) -> None:
        for child_id in sorted(self.merged.get(parent.id, ())):  # by number, as the store reads them
            child = self.current[child_id][0]
            if child.state is not State.merged or child.merged_into != parent.id:
                continue
            self.seq += 1
            after = resolve_with_parent(child, parent, now=now, actor=actor).model_copy(
                update={"change_seq": self.seq}
            )
            self._store(
                child, after, action="resolve", actor=actor, now=now, detail={"with_parent": parent.id}
            )

    def _store(
        self,
        before: Request,
        after: Request,
        *,
        action: str,
        actor: str,
        now: datetime,
        detail: dict[str, object],
    ) -> None:
        data = after.model_dump_json()
        self.current[after.id] = (after, data)
        old, new = snapshot_diff(before, after)
        self.changes.append(change_row(after, data, action, now))
        self.change_units += unit_rows(after, before)
        self.audit.append(audit_row(after, action, actor, now, old, new, detail))

    def insert(self, conn: Connection) -> None:
        if not self.current:
            return
        requests = [
            {"id": request_id, "num": num, **request_columns(request, data)}
            for num, (request_id, (request, data)) in enumerate(self.current.items(), start=1)
        ]
        conn.execute(insert(t.requests), requests)
        conn.execute(insert(t.callers), self.callers)
        conn.execute(insert(t.changes), self.changes)
        record_units(conn, self.change_units)
        conn.execute(insert(t.audit), self.audit)
