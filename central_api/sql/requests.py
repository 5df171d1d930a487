"""Requests: intake (with auto-dispatch), dispatcher actions, reading and listing.

Every write is one transaction holding the request row, its change-feed row, its audit row and
its idempotency row; the change `seq` is allocated inside it (see `engine`). An intake also
writes the caller in full to `callers`: the request itself carries them masked (`callers`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from api_client.actions import Action, Dispatch, Merge, Resolve
from api_client.domain.lifecycle import (
    ALLOWED_FROM,
    HANDLED_STATES,
    NOT_AUDITED,
    ActionIncomplete,
    TransitionRefused,
    apply_action,
    intake,
    resolve_with_parent,
    snapshot_diff,
)
from api_client.models import NewRequest, Request, State, Tier
from central_api.rates import rate_columns
from central_api.scope import Scope, co_units_column
from central_api.sql import idempotency
from central_api.sql import tables as t
from central_api.sql.audit import audit_row
from central_api.sql.auto_dispatch import AutoDispatcher, auto_actor, auto_detail
from central_api.sql.callers import Callers, caller_row
from central_api.sql.directory import Directory
from central_api.sql.engine import Database
from central_api.sql.feed import change_row, head_seq, record_units, unit_rows
from central_api.sql.idempotency import INTAKE_PATH, action_path
from central_api.sql.storable import check_text, sha256
from central_api.store import InvalidInput, Outcome, RequestFilter, RequestNotFound, VersionMismatch

SNAPSHOT_EXCLUDE = set(NOT_AUDITED)


def request_columns(request: Request, data: str) -> dict[str, object]:
    """The `requests` table's row of `request` stored as `data` (its JSON), rate facts included."""
    return {
        "state": request.state.value,
        "category": request.category,
        "lead_unit": request.lead_unit,
        "merged_into": request.merged_into,
        "tier": request.tier.value,
        "received_at": request.received_at,
        "due_at": request.due_at,
        "dispatched_at": request.dispatched_at,
        "accepted_at": request.accepted_at,
        "updated_at": request.updated_at,
        "version": request.version,
        "change_seq": request.change_seq,
        "co_units": co_units_column(request),
        **rate_columns(request),
        "data": data,
    }


def _next_num(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(t.requests.c.num), 0))).scalar_one()) + 1


def _record(
    conn: Connection,
    *,
    request: Request,
    data: str,
    action: str,
    actor: str,
    now: datetime,
    before: dict[str, object],
    after: dict[str, object],
    detail: dict[str, object],
    key: str | None,
    path: str,
    body_hash: str,
    token_id: int = 0,
    previous: Request | None = None,
) -> None:
    """The change (with the units it concerns: `previous` is the request before it), audit and
    idempotency rows of one write."""
    # Parameters are passed apart from the statements so SQLAlchemy caches the compiled SQL.
    conn.execute(insert(t.changes), change_row(request, data, action, now))
    record_units(conn, unit_rows(request, previous))
    conn.execute(insert(t.audit), audit_row(request, action, actor, now, before, after, detail))
    if key is not None:
        idempotency.remember(
            conn, token_id=token_id, key=key, path=path, body_hash=body_hash, request=request, now=now
        )


def _store_change(
    conn: Connection,
    before: Request,
    after: Request,
    *,
    action: str,
    actor: str,
    now: datetime,
    detail: dict[str, object],
    key: str | None = None,
    body_hash: str = "",
    token_id: int = 0,
) -> None:
    """Write `after` over its request's row, with the change, the audit event (the fields that
    differ from `before`) and, given a key, the idempotency record."""
    data = after.model_dump_json()
    conn.execute(
        update(t.requests).where(t.requests.c.id == bindparam("b_id")),
        {"b_id": after.id, **request_columns(after, data)},
    )
    old, new = snapshot_diff(before, after)
    _record(
        conn,
        request=after,
        data=data,
        action=action,
        actor=actor,
        now=now,
        before=old,
        after=new,
        detail=detail,
        key=key,
        path=action_path(after.id),
        body_hash=body_hash,
        token_id=token_id,
        previous=before,
    )


def _resolve_children(
    conn: Connection, parent: Request, *, actor: str, now: datetime, after_seq: int | None = None
) -> int:
    """Resolve the requests merged into `parent` with it (each its own change and audit event,
    `with_parent` in the detail), so each caller gets a callback. Their changes follow
    `after_seq` (default: the parent's). The head's seq."""
    r = t.requests.c
    seq = parent.change_seq if after_seq is None else after_seq
    children = conn.execute(
        select(r.data).where(r.merged_into == parent.id, r.state == State.merged.value).order_by(r.num)
    ).scalars()
    for data in list(children):
        child = Request.model_validate_json(data)
        seq += 1
        after = resolve_with_parent(child, parent, now=now, actor=actor).model_copy(
            update={"change_seq": seq}
        )
        _store_change(
            conn, child, after, action="resolve", actor=actor, now=now, detail={"with_parent": parent.id}
        )
    return seq


def _merge_parent(conn: Connection, request: Request, parent_id: str) -> Request:
    """The parent `request` is to be merged into. It must exist and not be merged itself; a
    parent cannot be merged away."""
    r = t.requests.c
    data = conn.execute(select(r.data).where(r.id == parent_id)).scalar()
    if data is None:
        raise InvalidInput(
            f"Cannot merge into {parent_id!r}: there is no such request.",
            code="merge_parent_not_found",
            params={"parent_id": parent_id},
        )
    parent = Request.model_validate_json(data)
    if parent.state is State.merged:
        raise TransitionRefused(
            f"cannot merge into request {parent_id}: it is itself merged into {parent.merged_into}",
            code="merge_parent_merged",
            params={"parent_id": parent_id, "merged_into": parent.merged_into},
        )
    child = conn.execute(
        select(r.id).where(r.merged_into == request.id, r.state == State.merged.value).limit(1)
    ).scalar()
    if child is not None:
        raise TransitionRefused(
            f"cannot merge request {request.id}: other requests (e.g. {child}) are merged into it;"
            " unmerge them first",
            code="merge_has_children",
            params={"request_id": request.id, "child_id": child},
        )
    return parent


class Requests:
    def __init__(self, db: Database, directory: Directory, callers: Callers) -> None:
        self._db = db
        self._directory = directory
        self._callers = callers

    def _intake(self, new: NewRequest, *, num: int, seq: int, now: datetime, actor: str) -> Request:
        """The request a new intake becomes (state new, version 1, due = received + tier), its
        caller masked."""
        category = self._directory.category(new.category)
        if category is None:
            raise InvalidInput(
                f"Unknown category {new.category!r}.",
                code="unknown_category",
                params={"category": new.category},
            )
        community = new.location.community
        if community and community not in self._directory.community_ids:
            raise InvalidInput(
                f"Unknown community {community!r}.", code="unknown_community", params={"community": community}
            )
        tier: Tier = new.tier or category.tier
        masked = new.model_copy(update={"caller": self._callers.masked(new.caller.name, new.caller.phone)})
        return intake(masked, request_id=f"R-{num:06d}", tier=tier, now=now, change_seq=seq, actor=actor)

    def create_request(
        self, new: NewRequest, *, actor: str, idempotency_key: str | None, token_id: int = 0
    ) -> Outcome:
        body = new.model_dump_json()
        check_text(new.model_dump())
        body_hash = sha256(body)
        unit_ids = self._directory.unit_ids
        with self._db.write() as conn:
            if idempotency_key is not None:
                first = idempotency.replay(conn, token_id, idempotency_key, INTAKE_PATH, body_hash)
                if first is not None:
                    return Outcome(first, replayed=True)
            now = self._db.clock()
            num = _next_num(conn)
            request = self._intake(new, num=num, seq=head_seq(conn) + 1, now=now, actor=actor)
            data = request.model_dump_json()
            step = AutoDispatcher.load(conn, category=request.category).dispatch(
                request, now=now, unit_ids=unit_ids
            )
            final, final_data = (step[0], step[0].model_dump_json()) if step is not None else (request, data)
            conn.execute(
                insert(t.requests), {"id": request.id, "num": num, **request_columns(final, final_data)}
            )
            conn.execute(insert(t.callers), caller_row(request.id, new.caller.phone, new.caller.name, now))
            _record(
                conn,
                request=request,
                data=data,
                action="intake",
                actor=actor,
                now=now,
                before={},
                after=request.model_dump(mode="json", exclude=SNAPSHOT_EXCLUDE),
                detail={},
                key=None,
                path=INTAKE_PATH,
                body_hash=body_hash,
            )
            if step is not None:
                dispatched, rule = step
                old, changed = snapshot_diff(request, dispatched)
                _record(
                    conn,
                    request=dispatched,
                    data=final_data,
                    action="dispatch",
                    actor=auto_actor(rule.id),
                    now=now,
                    before=old,
                    after=changed,
                    detail=auto_detail(rule),
                    key=None,
                    path=INTAKE_PATH,
                    body_hash=body_hash,
                    previous=request,
                )
            if idempotency_key is not None:
                idempotency.remember(
                    conn,
                    token_id=token_id,
                    key=idempotency_key,
                    path=INTAKE_PATH,
                    body_hash=body_hash,
                    request=final,
                    now=now,
                )
        self._db.notify(final.change_seq)
        return Outcome(final)

    def create_requests(self, news: Sequence[NewRequest], *, actor: str) -> list[Request]:
        """Intake many requests in one transaction with one statement per table (imports,
        benchmarks): all are stored or none. No idempotency keys: an import is run once."""
        for new in news:
            check_text(new.model_dump())
        unit_ids = self._directory.unit_ids
        with self._db.write() as conn:
            now = self._db.clock()
            num, seq = _next_num(conn), head_seq(conn) + 1
            auto = AutoDispatcher.load(conn)
            built: list[tuple[Request, str]] = []
            changes: list[dict[str, object]] = []
            units: list[dict[str, object]] = []
            audits: list[dict[str, object]] = []
            for i, new in enumerate(news):
                request = self._intake(new, num=num + i, seq=seq, now=now, actor=actor)
                data = request.model_dump_json()
                changes.append(change_row(request, data, "intake", now))
                after = request.model_dump(mode="json", exclude=SNAPSHOT_EXCLUDE)
                audits.append(audit_row(request, "intake", actor, now, {}, after, {}))
                step = auto.dispatch(request, now=now, unit_ids=unit_ids)
                if step is not None:  # auto-dispatched: a second change, by `auto:<rule id>`
                    dispatched, rule = step
                    old, changed = snapshot_diff(request, dispatched)
                    request, data = dispatched, dispatched.model_dump_json()
                    changes.append(change_row(request, data, "dispatch", now))
                    units += unit_rows(request, None)
                    audits.append(
                        audit_row(
                            request, "dispatch", auto_actor(rule.id), now, old, changed, auto_detail(rule)
                        )
                    )
                built.append((request, data))
                seq = request.change_seq + 1
            if not built:
                return []
            conn.execute(
                insert(t.requests),
                [{"id": r.id, "num": num + i, **request_columns(r, d)} for i, (r, d) in enumerate(built)],
            )
            conn.execute(insert(t.changes), changes)
            record_units(conn, units)
            conn.execute(insert(t.audit), audits)
            conn.execute(
                insert(t.callers),
                [
                    caller_row(r.id, new.caller.phone, new.caller.name, now)
                    for (r, _d), new in zip(built, news, strict=True)
                ],
            )
        self._db.notify(built[-1][0].change_seq)
        return [r for r, _d in built]

    def get_request(self, request_id: str) -> Request:
        with self._db.read() as conn:
            data = conn.execute(select(t.requests.c.data).where(t.requests.c.id == request_id)).scalar()
        if data is None:
            raise RequestNotFound(request_id)
        return Request.model_validate_json(data)

    def apply(
        self,
        request_id: str,
        action: Action,
        *,
        actor: str,
        if_match: int,
        idempotency_key: str | None,
        token_id: int = 0,
        scope: Scope | None = None,
    ) -> Outcome:
        body = action.model_dump_json()
        check_text(action.model_dump())
        body_hash = sha256(body)
        path = action_path(request_id)
        unit_ids = self._directory.unit_ids
        r = t.requests.c
        with self._db.write() as conn:
            if idempotency_key is not None:
                first = idempotency.replay(conn, token_id, idempotency_key, path, body_hash)
                if first is not None:
                    return Outcome(first, replayed=True)
            data = conn.execute(select(r.data).where(r.id == request_id)).scalar()
            if data is None:
                raise RequestNotFound(request_id)
            current = Request.model_validate_json(data)
            if scope is not None:  # before the version: a 412 would show another unit's request
                scope.check_action(current, action)
            if current.version != if_match:
                raise VersionMismatch(current, if_match)
            now = self._db.clock()
            try:
                after = apply_action(current, action, actor=actor, now=now, known_units=unit_ids)
            except TransitionRefused as exc:
                if (
                    isinstance(action, Dispatch)
                    and current.state in ALLOWED_FROM["dispatch"]
                    and any(u not in unit_ids for u in [action.lead_unit, *action.co_units])
                ):  # the state allowed it: refused for naming unknown units, a validation error
                    raise InvalidInput(str(exc), code=exc.code, params=exc.params) from exc
                if isinstance(exc, ActionIncomplete):  # the body lacks what a rule needs
                    raise InvalidInput(str(exc), code=exc.code, params=exc.params) from exc
                raise
            parent: Request | None = None
            if isinstance(action, Merge):
                parent = _merge_parent(conn, current, action.parent_id)
            seq = head_seq(conn) + 1
            after = after.model_copy(update={"change_seq": seq})
            _store_change(
                conn,
                current,
                after,
                action=action.action,
                actor=actor,
                now=now,
                detail=action.model_dump(mode="json", exclude={"action"}),
                key=idempotency_key,
                body_hash=body_hash,
                token_id=token_id,
            )
            if isinstance(action, Resolve):
                seq = _resolve_children(conn, after, actor=actor, now=now)
            elif parent is not None and parent.state in HANDLED_STATES:  # handled already: resolved now
                seq = _resolve_children(conn, parent, actor=actor, now=now, after_seq=seq)
        self._db.notify(seq)
        return Outcome(after)

    def list_requests(self, flt: RequestFilter) -> list[Request]:
        """Requests matching `flt`, newest received first (then newest id first)."""
        r = t.requests.c
        query = select(r.data)
        if flt.ids:
            query = query.where(r.id.in_(list(flt.ids)))
        if flt.categories:
            query = query.where(r.category.in_(list(flt.categories)))
        if flt.states:
            query = query.where(r.state.in_([State(s).value for s in flt.states]))
        if flt.received_from is not None:
            query = query.where(r.received_at >= flt.received_from)
        if flt.received_to is not None:
            query = query.where(r.received_at <= flt.received_to)
        if flt.unit is not None:
            query = query.where(
                or_(r.lead_unit == flt.unit, r.co_units.contains(f"|{flt.unit}|", autoescape=True))
            )
        query = query.order_by(r.received_at.desc(), r.num.desc())
        query = query.offset(max(0, flt.offset)).limit(max(0, flt.limit))
        with self._db.read() as conn:
            rows = conn.execute(query).scalars().all()
        return [Request.model_validate_json(data) for data in rows]
