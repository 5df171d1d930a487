"""`SqlStore`: the `Store` over SQLAlchemy Core (a SQLite file by default; PostgreSQL-ready).

Every write is one transaction holding the request row, its change-feed row, its audit row and
its idempotency row. Writers are serialized (a process-wide lock, plus `BEGIN IMMEDIATE` on
SQLite or an advisory lock on PostgreSQL across processes), and the change `seq` is allocated inside
that transaction as `max(seq) + 1`: commit order == seq order, no gap, no duplicate.

Listeners registered with `add_listener` are called with the new head after each committed write
(from the writing thread); the SSE notifier uses this.

SQLite- and PostgreSQL-specific SQL lives only in the section marked "dialect-specific" below.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from api_client.actions import Action, Dispatch, Merge, Resolve
from api_client.domain.lifecycle import (
    ALLOWED_FROM,
    HANDLED_STATES,
    TransitionRefused,
    apply_action,
    intake,
    resolve_with_parent,
    snapshot_diff,
)
from api_client.models import (
    ANY_COMMUNITY,
    AuditEvent,
    Category,
    Change,
    Community,
    Identity,
    NewRequest,
    PhoneReveal,
    Request,
    Role,
    RoutingRule,
    RoutingRuleEvent,
    RoutingRuleIn,
    State,
    Stats,
    Tier,
    Unit,
    UnitKind,
    best_rule,
    now_utc,
)
from central_api import tables as t
from central_api.rates import rate_columns, stats_sql
from central_api.store import (
    IdempotencyMismatch,
    InvalidInput,
    Outcome,
    RequestFilter,
    RequestNotFound,
    RuleClash,
    RuleNotFound,
    RuleVersionMismatch,
    RuleVersionRequired,
    StoreError,
    UnitNotFound,
    VersionMismatch,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
INTAKE_PATH = "POST /v1/requests"
SNAPSHOT_EXCLUDE = {"change_seq", "version", "updated_at"}


class DatabaseUnavailable(StoreError):
    """The database cannot be opened (bad path or URL, no permission, not a hotline database)."""


def action_path(request_id: str) -> str:
    """The idempotency scope of an action on `request_id`."""
    return f"POST /v1/requests/{request_id}/actions"


@dataclass(frozen=True)
class Catalogue:
    """The reference data loaded into a new database."""

    units: Sequence[Unit]
    categories: Sequence[Category]
    communities: Sequence[Community]


def default_catalogue() -> Catalogue:
    """The project's catalogue (`central_api.catalogue`)."""
    from central_api import catalogue

    return Catalogue(
        units=catalogue.UNITS, categories=catalogue.CATEGORIES, communities=catalogue.COMMUNITIES
    )


def shown_url(url: str) -> str:
    """`url` fit for a message or a log: any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable database URL)"


def database_url(db: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a plain file path (a path means a SQLite file)."""
    text = str(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


# =============================================================================================
# Dialect-specific: the ONLY place with SQLite- or PostgreSQL-only SQL.
# =============================================================================================
_WRITE = "hotline_write"  # execution option marking a write transaction
BUSY_TIMEOUT_MS = 10_000


def _create_private_file(url: str) -> None:
    """Create a new SQLite file readable by its owner only (it holds citizens' personal data).
    SQLite gives its -wal and -shm files the same mode."""
    path = make_url(url).database
    if not path or Path(path).exists():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise ValueError(f"cannot create {path}: {exc.strerror or exc}") from exc


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:") or ":memory:" in url:
            raise ValueError("an in-memory SQLite database is not supported: give a file path")
        _create_private_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=32,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # A write takes the database's write lock up front, so concurrent writers (other
            # processes) queue on busy_timeout instead of failing on lock upgrade.
            write = bool(conn.get_execution_options().get(_WRITE, False))
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=32)


#: The PostgreSQL advisory lock every writer takes (any constant shared by all processes).
_PG_WRITE_LOCK = 0x12345


def _serialize_writers(conn: Connection) -> None:
    """Make concurrent writers in other processes queue (SQLite did it with BEGIN IMMEDIATE).
    On PostgreSQL a transaction-scoped advisory lock, which needs no table to exist yet."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_WRITE_LOCK})")


# =============================================================================================


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _check_text(value: object) -> None:
    """Refuse NUL characters and lone surrogates anywhere in a body (PostgreSQL and UTF-8 cannot
    store them)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput("Text must not contain NUL characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput("Text must be valid Unicode (no lone surrogates).") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_text(item)


def _request_columns(request: Request, data: str) -> dict[str, object]:
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
        **rate_columns(request),
        "data": data,
    }


def _change_row(request: Request, data: str, action: str, now: datetime) -> dict[str, object]:
    """The change-feed row of one write: the request's JSON as it stands after it."""
    return {
        "seq": request.change_seq,
        "request_id": request.id,
        "action": action,
        "at": now,
        "snapshot": data,
    }


def _audit_row(
    request: Request,
    action: str,
    actor: str,
    now: datetime,
    before: dict[str, object],
    after: dict[str, object],
    detail: dict[str, object],
) -> dict[str, object]:
    """The audit row of one write: who did what, when, and what changed."""
    return {
        "seq": request.change_seq,
        "request_id": request.id,
        "unit_id": None,
        "action": action,
        "actor": actor,
        "at": now,
        "before": _json(before),
        "after": _json(after),
        "detail": _json(detail),
    }


def auto_actor(rule_id: str) -> str:
    """The actor of a dispatch the server made by itself for routing rule `rule_id`."""
    return f"auto:{rule_id}"


def _auto_detail(rule: RoutingRule) -> dict[str, object]:
    """The audit detail of an automatic dispatch: the dispatch, and the rule that made it."""
    return {
        "lead_unit": rule.lead_unit,
        "co_units": list(rule.co_units),
        "automatic": True,
        "rule": rule.id,
        "rule_version": rule.version,
        "rule_community": rule.community,
    }


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


def _load_rules(
    conn: Connection, *, category: str | None = None, rule_id: str | None = None
) -> list[RoutingRule]:
    g = t.routing_rules.c
    query = select(t.routing_rules)
    if category is not None:
        query = query.where(g.category == category)
    if rule_id is not None:
        query = query.where(g.id == rule_id)
    rules = [_rule_from_row(row) for row in conn.execute(query)]
    rules.sort(key=lambda r: (r.category, r.community == ANY_COMMUNITY, r.community, r.id))
    return rules


@dataclass(frozen=True)
class _AutoDispatcher:
    """The routing rules and unit duty states one intake transaction consults."""

    rules: Sequence[RoutingRule]
    on_duty: frozenset[str]

    @classmethod
    def load(cls, conn: Connection, *, category: str | None = None) -> _AutoDispatcher:
        """The rules (of `category` only, when given) as the transaction sees them."""
        rules = _load_rules(conn, category=category)
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


class SqlStore:
    """The central API's store over SQLAlchemy Core. Thread-safe."""

    def __init__(
        self,
        url: str | Path,
        *,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.url = database_url(url)
        #: The time source for every write and for `overdue`; tests may replace it.
        self.clock = clock
        self._write_lock = threading.RLock()
        self._batch: Connection | None = None  # the open transaction of `batch()`, if any
        self._batch_head = 0
        self._listeners: list[Callable[[int], None]] = []
        try:
            self._engine = _make_engine(self.url)
        except (ArgumentError, ValueError, ImportError) as exc:
            raise DatabaseUnavailable(f"cannot use the database {shown_url(self.url)}: {exc}") from exc
        try:
            self._bootstrap(catalogue)
            with self._read() as conn:
                self._categories = {c.code: c for c in self._load_categories(conn)}
                self._communities = self._load_communities(conn)
                self._community_ids = frozenset(c.id for c in self._communities)
                self._unit_ids = frozenset(conn.execute(select(t.units.c.id)).scalars())
        except SQLAlchemyError as exc:
            self._engine.dispose()
            reason = getattr(exc, "orig", None) or exc
            raise DatabaseUnavailable(f"cannot open the database {shown_url(self.url)}: {reason}") from exc
        except DatabaseUnavailable:
            self._engine.dispose()
            raise

    @classmethod
    def open(
        cls,
        url: str | Path,
        *,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> SqlStore:
        """Open (creating tables and loading the catalogue on first use) the database at `url`."""
        return cls(url, catalogue=catalogue, clock=clock)

    def close(self) -> None:
        self._engine.dispose()

    # --- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._write_lock:
            if self._batch is not None:  # inside `batch()`: join its transaction
                with self._batch.begin_nested():
                    yield self._batch
                return
            with self._engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    _serialize_writers(conn)
                    yield conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run many writes in one transaction (seeding, imports): all commit together, or none.

        Each write inside still rolls back alone when it fails (a savepoint). Listeners hear of
        the new head once, after the commit. Other writers wait until the batch ends.
        """
        with self._write_lock, self._write() as conn:
            self._batch, self._batch_head = conn, 0
            try:
                yield
            finally:
                self._batch = None
        if self._batch_head:
            self._notify(self._batch_head)

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """Call `listener(head)` after every committed write that appended a change."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[int], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, seq: int) -> None:
        if self._batch is not None:  # not committed yet: `batch()` notifies after its commit
            self._batch_head = max(self._batch_head, seq)
            return
        for listener in list(self._listeners):
            try:
                listener(seq)
            except Exception:  # a listener must never undo a committed write
                log.exception("change listener failed")

    def _bootstrap(self, catalogue: Catalogue | None) -> None:
        with self._write() as conn:
            t.metadata.create_all(conn)
            version = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")).scalar()
            if version is not None:
                if version != SCHEMA_VERSION:
                    raise DatabaseUnavailable(
                        f"the database {shown_url(self.url)} has schema version {version}; this server needs"
                        f" {SCHEMA_VERSION}"
                    )
                return
            cat = catalogue if catalogue is not None else default_catalogue()
            if cat.units:
                conn.execute(
                    insert(t.units),
                    [
                        {
                            "id": u.id,
                            "position": i,
                            "name": u.name,
                            "kind": u.kind.value,
                            "communities": _json(u.communities),
                            "categories": _json(u.categories),
                            "on_duty": u.on_duty,
                        }
                        for i, u in enumerate(cat.units)
                    ],
                )
            if cat.categories:
                conn.execute(
                    insert(t.categories),
                    [
                        {
                            "code": c.code,
                            "position": i,
                            "name": c.name,
                            "tier": c.tier.value,
                            "default_units": _json(c.default_units),
                        }
                        for i, c in enumerate(cat.categories)
                    ],
                )
            if cat.communities:
                conn.execute(
                    insert(t.communities),
                    [
                        {"id": c.id, "position": i, "name": c.name, "streets": _json(c.streets)}
                        for i, c in enumerate(cat.communities)
                    ],
                )
            conn.execute(
                insert(t.meta),
                [
                    {"key": "schema_version", "value": SCHEMA_VERSION},
                    {"key": "created_at", "value": self.clock().isoformat()},
                ],
            )

    @staticmethod
    def _head(conn: Connection) -> int:
        return int(conn.execute(select(func.coalesce(func.max(t.changes.c.seq), 0))).scalar_one())

    def _replay(self, conn: Connection, actor: str, key: str, path: str, body_hash: str) -> Request | None:
        """The request the first call with this key produced, or None if the key is new."""
        k = t.idempotency.c
        row = conn.execute(select(k.path, k.body_hash, k.seq).where(k.actor == actor, k.key == key)).first()
        if row is None:
            return None
        if row.path != path:
            raise IdempotencyMismatch(
                f"Idempotency-Key {key!r} was already used for another call ({row.path})."
            )
        if row.body_hash != body_hash:
            raise IdempotencyMismatch(f"Idempotency-Key {key!r} was already used with a different body.")
        snapshot = conn.execute(select(t.changes.c.snapshot).where(t.changes.c.seq == row.seq)).scalar_one()
        return Request.model_validate_json(snapshot)

    def _record(
        self,
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
    ) -> None:
        """The change, audit and idempotency rows of one write."""
        # Parameters are passed apart from the statements so SQLAlchemy caches the compiled SQL.
        conn.execute(insert(t.changes), _change_row(request, data, action, now))
        conn.execute(insert(t.audit), _audit_row(request, action, actor, now, before, after, detail))
        if key is not None:
            self._remember_key(
                conn, actor=actor, key=key, path=path, body_hash=body_hash, request=request, now=now
            )

    @staticmethod
    def _remember_key(
        conn: Connection, *, actor: str, key: str, path: str, body_hash: str, request: Request, now: datetime
    ) -> None:
        """The idempotency row of a write: a replay answers `request` as it stood after it."""
        conn.execute(
            insert(t.idempotency),
            {
                "actor": actor,
                "key": key,
                "path": path,
                "body_hash": body_hash,
                "request_id": request.id,
                "seq": request.change_seq,
                "created_at": now,
            },
        )

    # --- requests ---------------------------------------------------------------------------
    def _intake(self, new: NewRequest, *, num: int, seq: int, now: datetime) -> Request:
        """The request a new intake becomes (state new, version 1, due = received + tier)."""
        category = self._categories.get(new.category)
        if category is None:
            raise InvalidInput(f"Unknown category {new.category!r}.")
        community = new.location.community
        if community and community not in self._community_ids:
            raise InvalidInput(f"Unknown community {community!r}.")
        tier: Tier = new.tier or category.tier
        return intake(new, request_id=f"R-{num:06d}", tier=tier, now=now, change_seq=seq)

    @staticmethod
    def _next_num(conn: Connection) -> int:
        return int(conn.execute(select(func.coalesce(func.max(t.requests.c.num), 0))).scalar_one()) + 1

    def create_request(self, new: NewRequest, *, actor: str, idempotency_key: str | None) -> Outcome:
        body = new.model_dump_json()
        _check_text(new.model_dump())
        body_hash = _sha256(body)
        with self._write() as conn:
            if idempotency_key is not None:
                first = self._replay(conn, actor, idempotency_key, INTAKE_PATH, body_hash)
                if first is not None:
                    return Outcome(first, replayed=True)
            now = self.clock()
            num = self._next_num(conn)
            request = self._intake(new, num=num, seq=self._head(conn) + 1, now=now)
            data = request.model_dump_json()
            auto = _AutoDispatcher.load(conn, category=request.category)
            step = auto.dispatch(request, now=now, unit_ids=self._unit_ids)
            final, final_data = (step[0], step[0].model_dump_json()) if step is not None else (request, data)
            conn.execute(
                insert(t.requests), {"id": request.id, "num": num, **_request_columns(final, final_data)}
            )
            self._record(
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
                self._record(
                    conn,
                    request=dispatched,
                    data=final_data,
                    action="dispatch",
                    actor=auto_actor(rule.id),
                    now=now,
                    before=old,
                    after=changed,
                    detail=_auto_detail(rule),
                    key=None,
                    path=INTAKE_PATH,
                    body_hash=body_hash,
                )
            if idempotency_key is not None:
                self._remember_key(
                    conn,
                    actor=actor,
                    key=idempotency_key,
                    path=INTAKE_PATH,
                    body_hash=body_hash,
                    request=final,
                    now=now,
                )
        self._notify(final.change_seq)
        return Outcome(final)

    def create_requests(self, news: Sequence[NewRequest], *, actor: str) -> list[Request]:
        """Intake many requests in one transaction with one statement per table (imports,
        benchmarks): all are stored or none. No idempotency keys: an import is run once."""
        for new in news:
            _check_text(new.model_dump())
        with self._write() as conn:
            now = self.clock()
            num, seq = self._next_num(conn), self._head(conn) + 1
            auto = _AutoDispatcher.load(conn)
            built: list[tuple[Request, str]] = []
            changes: list[dict[str, object]] = []
            audits: list[dict[str, object]] = []
            for i, new in enumerate(news):
                request = self._intake(new, num=num + i, seq=seq, now=now)
                data = request.model_dump_json()
                changes.append(_change_row(request, data, "intake", now))
                after = request.model_dump(mode="json", exclude=SNAPSHOT_EXCLUDE)
                audits.append(_audit_row(request, "intake", actor, now, {}, after, {}))
                step = auto.dispatch(request, now=now, unit_ids=self._unit_ids)
                if step is not None:  # auto-dispatched: a second change, by `auto:<rule id>`
                    dispatched, rule = step
                    old, changed = snapshot_diff(request, dispatched)
                    request, data = dispatched, dispatched.model_dump_json()
                    changes.append(_change_row(request, data, "dispatch", now))
                    audits.append(
                        _audit_row(
                            request, "dispatch", auto_actor(rule.id), now, old, changed, _auto_detail(rule)
                        )
                    )
                built.append((request, data))
                seq = request.change_seq + 1
            if not built:
                return []
            conn.execute(
                insert(t.requests),
                [{"id": r.id, "num": num + i, **_request_columns(r, d)} for i, (r, d) in enumerate(built)],
            )
            conn.execute(insert(t.changes), changes)
            conn.execute(insert(t.audit), audits)
        self._notify(built[-1][0].change_seq)
        return [r for r, _d in built]

    def get_request(self, request_id: str) -> Request:
        with self._read() as conn:
            data = conn.execute(select(t.requests.c.data).where(t.requests.c.id == request_id)).scalar()
        if data is None:
            raise RequestNotFound(f"No request {request_id!r}.")
        return Request.model_validate_json(data)

    def apply(
        self,
        request_id: str,
        action: Action,
        *,
        actor: str,
        if_match: int,
        idempotency_key: str | None,
    ) -> Outcome:
        body = action.model_dump_json()
        _check_text(action.model_dump())
        body_hash = _sha256(body)
        path = action_path(request_id)
        r = t.requests.c
        with self._write() as conn:
            if idempotency_key is not None:
                first = self._replay(conn, actor, idempotency_key, path, body_hash)
                if first is not None:
                    return Outcome(first, replayed=True)
            data = conn.execute(select(r.data).where(r.id == request_id)).scalar()
            if data is None:
                raise RequestNotFound(f"No request {request_id!r}.")
            current = Request.model_validate_json(data)
            if current.version != if_match:
                raise VersionMismatch(
                    f"Request {request_id} is at version {current.version}, not {if_match}:"
                    " it changed since you read it.",
                    current,
                )
            now = self.clock()
            try:
                after = apply_action(current, action, actor=actor, now=now, known_units=self._unit_ids)
            except TransitionRefused as exc:
                if (
                    isinstance(action, Dispatch)
                    and current.state in ALLOWED_FROM["dispatch"]
                    and any(u not in self._unit_ids for u in [action.lead_unit, *action.co_units])
                ):  # the state allowed it: refused for naming unknown units, a validation error
                    raise InvalidInput(str(exc)) from exc
                raise
            parent: Request | None = None
            if isinstance(action, Merge):
                parent = self._merge_parent(conn, current, action.parent_id)
            seq = self._head(conn) + 1
            after = after.model_copy(update={"change_seq": seq})
            self._store_change(
                conn,
                current,
                after,
                action=action.action,
                actor=actor,
                now=now,
                detail=action.model_dump(mode="json", exclude={"action"}),
                key=idempotency_key,
                body_hash=body_hash,
            )
            if isinstance(action, Resolve):
                seq = self._resolve_children(conn, after, actor=actor, now=now)
            elif parent is not None and parent.state in HANDLED_STATES:  # handled already: resolved now
                seq = self._resolve_children(conn, parent, actor=actor, now=now, after_seq=seq)
        self._notify(seq)
        return Outcome(after)

    def _store_change(
        self,
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
    ) -> None:
        """Write `after` over its request's row, with the change, the audit event (the fields
        that differ from `before`) and, given a key, the idempotency record."""
        data = after.model_dump_json()
        conn.execute(
            update(t.requests).where(t.requests.c.id == bindparam("b_id")),
            {"b_id": after.id, **_request_columns(after, data)},
        )
        old, new = snapshot_diff(before, after)
        self._record(
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
        )

    def _resolve_children(
        self, conn: Connection, parent: Request, *, actor: str, now: datetime, after_seq: int | None = None
    ) -> int:
        """Resolve the requests merged into `parent` with it (each its own change and audit
        event, `with_parent` in the detail), so each caller gets a callback. Their changes follow
        `after_seq` (default: the parent's). The head's seq."""
        r = t.requests.c
        seq = parent.change_seq if after_seq is None else after_seq
        children = conn.execute(
            select(r.data).where(r.merged_into == parent.id, r.state == State.merged.value).order_by(r.num)
        ).scalars()
        for data in list(children):
            child = Request.model_validate_json(data)
            seq += 1
            after = resolve_with_parent(child, parent, now=now).model_copy(update={"change_seq": seq})
            self._store_change(
                conn, child, after, action="resolve", actor=actor, now=now, detail={"with_parent": parent.id}
            )
        return seq

    @staticmethod
    def _merge_parent(conn: Connection, request: Request, parent_id: str) -> Request:
        """The parent `request` is to be merged into. It must exist and not be merged itself; a
        parent cannot be merged away."""
        r = t.requests.c
        data = conn.execute(select(r.data).where(r.id == parent_id)).scalar()
        if data is None:
            raise InvalidInput(f"Cannot merge into {parent_id!r}: there is no such request.")
        parent = Request.model_validate_json(data)
        if parent.state is State.merged:
            raise TransitionRefused(
                f"cannot merge into request {parent_id}: it is itself merged into {parent.merged_into}"
            )
        child = conn.execute(
            select(r.id).where(r.merged_into == request.id, r.state == State.merged.value).limit(1)
        ).scalar()
        if child is not None:
            raise TransitionRefused(
                f"cannot merge request {request.id}: other requests (e.g. {child}) are merged into it;"
                " unmerge them first"
            )
        return parent

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
        query = query.order_by(r.received_at.desc(), r.num.desc())
        query = query.offset(max(0, flt.offset)).limit(max(0, flt.limit))
        with self._read() as conn:
            rows = conn.execute(query).scalars().all()
        return [Request.model_validate_json(data) for data in rows]

    def audit(self, request_id: str) -> list[AuditEvent]:
        a = t.audit.c
        with self._read() as conn:
            exists = conn.execute(select(t.requests.c.id).where(t.requests.c.id == request_id)).scalar()
            if exists is None:
                raise RequestNotFound(f"No request {request_id!r}.")
            rows = conn.execute(
                select(a.seq, a.request_id, a.action, a.actor, a.at, a.before, a.after, a.detail)
                .where(a.request_id == request_id)
                .order_by(a.id)
            ).all()
        return [
            AuditEvent(
                seq=row.seq,
                request_id=row.request_id,
                action=row.action,
                actor=row.actor,
                at=row.at,
                before=orjson.loads(row.before),
                after=orjson.loads(row.after),
                detail=orjson.loads(row.detail),
            )
            for row in rows
        ]

    def reveal_phone(self, request_id: str, *, actor: str, reason: str = "") -> PhoneReveal:
        _check_text(reason)
        with self._write() as conn:
            data = conn.execute(select(t.requests.c.data).where(t.requests.c.id == request_id)).scalar()
            if data is None:
                raise RequestNotFound(f"No request {request_id!r}.")
            request = Request.model_validate_json(data)
            now = self.clock()
            # An audit event without a change: `seq` is the change the revealed request stood at.
            row = _audit_row(
                request, "reveal_phone", actor, now, {}, {}, {"reason": reason} if reason else {}
            )
            audit_id = int(conn.execute(insert(t.audit).returning(t.audit.c.id), row).scalar_one())
        return PhoneReveal(
            request_id=request.id,
            phone=request.caller.phone,
            name=request.caller.name,
            revealed_by=actor,
            revealed_at=now,
            audit_id=audit_id,
        )

    # --- change feed ------------------------------------------------------------------------
    def changes_raw(self, since: int, limit: int) -> tuple[list[tuple[int, str, str]], int]:
        """Like `changes`, but each change as (seq, action, the request's stored JSON)."""
        c = t.changes.c
        with self._read() as conn:
            rows = conn.execute(
                select(c.seq, c.action, c.snapshot).where(c.seq > since).order_by(c.seq).limit(limit)
            ).all()
            head = self._head(conn)  # read after the rows, so head >= every seq returned
        return [(row[0], row[1], row[2]) for row in rows], head

    def changes(self, since: int, limit: int) -> tuple[list[Change], int]:
        rows, head = self.changes_raw(since, limit)
        return [
            Change(seq=seq, action=action, request=Request.model_validate_json(snapshot))
            for seq, action, snapshot in rows
        ], head

    def head(self) -> int:
        with self._read() as conn:
            return self._head(conn)

    # --- directory --------------------------------------------------------------------------
    def units(self) -> list[Unit]:
        with self._read() as conn:
            return self._load_units(conn)

    @staticmethod
    def _load_units(conn: Connection, unit_id: str | None = None) -> list[Unit]:
        u = t.units.c
        query = select(u.id, u.name, u.kind, u.communities, u.categories, u.on_duty).order_by(u.position)
        if unit_id is not None:
            query = query.where(u.id == unit_id)
        return [
            Unit(
                id=row.id,
                name=row.name,
                kind=UnitKind(row.kind),
                communities=orjson.loads(row.communities),
                categories=orjson.loads(row.categories),
                on_duty=bool(row.on_duty),
            )
            for row in conn.execute(query)
        ]

    def set_unit_on_duty(self, unit_id: str, on_duty: bool, *, actor: str) -> Unit:
        with self._write() as conn:
            found = self._load_units(conn, unit_id)
            if not found:
                raise UnitNotFound(f"No unit {unit_id!r}.")
            unit = found[0]
            if unit.on_duty == on_duty:
                return unit
            conn.execute(update(t.units).where(t.units.c.id == unit_id).values(on_duty=on_duty))
            conn.execute(
                insert(t.audit).values(
                    seq=None,
                    request_id=None,
                    unit_id=unit_id,
                    action="unit_duty",
                    actor=actor,
                    at=self.clock(),
                    before=_json({"on_duty": unit.on_duty}),
                    after=_json({"on_duty": on_duty}),
                    detail="{}",
                )
            )
        return unit.model_copy(update={"on_duty": on_duty})

    def categories(self) -> list[Category]:
        return list(self._categories.values())

    @staticmethod
    def _load_categories(conn: Connection) -> list[Category]:
        c = t.categories.c
        return [
            Category(
                code=row.code,
                name=row.name,
                tier=Tier(row.tier),
                default_units=orjson.loads(row.default_units),
            )
            for row in conn.execute(select(c.code, c.name, c.tier, c.default_units).order_by(c.position))
        ]

    def communities(self) -> list[Community]:
        return list(self._communities)

    @staticmethod
    def _load_communities(conn: Connection) -> list[Community]:
        c = t.communities.c
        return [
            Community(id=row.id, name=row.name, streets=orjson.loads(row.streets))
            for row in conn.execute(select(c.id, c.name, c.streets).order_by(c.position))
        ]

    # --- routing rules ----------------------------------------------------------------------
    def routing_rules(self) -> list[RoutingRule]:
        with self._read() as conn:
            return _load_rules(conn)

    def _check_rule(self, rule: RoutingRuleIn) -> None:
        _check_text(rule.model_dump())
        if rule.category not in self._categories:
            raise InvalidInput(f"Unknown category {rule.category!r}.")
        if rule.community != ANY_COMMUNITY and rule.community not in self._community_ids:
            raise InvalidInput(f"Unknown community {rule.community!r} (give a community id, or * for any).")
        unknown = [u for u in [rule.lead_unit, *rule.co_units] if u not in self._unit_ids]
        if unknown:
            raise InvalidInput(f"Unknown unit {', '.join(repr(u) for u in unknown)}.")

    @staticmethod
    def _current_rule(conn: Connection, rule_id: str, if_match: int | None) -> RoutingRule | None:
        """The rule now (None if there is none), checked against `if_match`."""
        found = _load_rules(conn, rule_id=rule_id)
        current = found[0] if found else None
        if if_match is not None:
            if current is None:
                raise RuleVersionMismatch(
                    f"Routing rule {rule_id} does not exist (any more): it was deleted since you read it.",
                    None,
                )
            if current.version != if_match:
                raise RuleVersionMismatch(
                    f"Routing rule {rule_id} is at version {current.version}, not {if_match}:"
                    " it changed since you read it.",
                    current,
                )
        return current

    @staticmethod
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

    def put_routing_rule(
        self, rule_id: str, rule: RoutingRuleIn, *, actor: str, if_match: int | None
    ) -> tuple[RoutingRule, bool]:
        self._check_rule(rule)
        _check_text(rule_id)
        g = t.routing_rules.c
        with self._write() as conn:
            current = self._current_rule(conn, rule_id, if_match)
            if current is not None and if_match is None:
                raise RuleVersionRequired(
                    f'Routing rule {rule_id} exists (version {current.version}): send If-Match: "<version>"'
                    " to replace it."
                )
            clash = conn.execute(
                select(g.id).where(
                    g.category == rule.category, g.community == rule.community, g.id != rule_id
                )
            ).scalar()
            if clash is not None:
                raise RuleClash(
                    f"Routing rule {clash} already routes {rule.category} in {rule.community}: change or"
                    " delete it instead."
                )
            now = self.clock()
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
                "co_units": _json(after.co_units),
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
                    f"Routing rule {rule_id} clashes with another rule: read them again."
                ) from exc
            self._audit_rule(
                conn, rule_id, "create" if current is None else "replace", actor, now, current, after
            )
        return after, current is None

    def delete_routing_rule(self, rule_id: str, *, actor: str, if_match: int | None) -> RoutingRule:
        with self._write() as conn:
            current = self._current_rule(conn, rule_id, if_match)
            if current is None:
                raise RuleNotFound(f"No routing rule {rule_id!r}.")
            conn.execute(delete(t.routing_rules).where(t.routing_rules.c.id == rule_id))
            self._audit_rule(conn, rule_id, "delete", actor, self.clock(), current, None)
        return current

    def set_auto_dispatch(self, category: str, enabled: bool, *, actor: str) -> list[RoutingRule]:
        if category not in self._categories:
            raise InvalidInput(f"Unknown category {category!r}.")
        g = t.routing_rules.c
        with self._write() as conn:
            now = self.clock()
            rules = _load_rules(conn, category=category)
            result: list[RoutingRule] = []
            for rule in rules:
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
                self._audit_rule(conn, rule.id, "replace", actor, now, rule, after)
                result.append(after)
        return result

    def routing_rule_audit(self, rule_id: str | None = None) -> list[RoutingRuleEvent]:
        a = t.routing_rule_audit.c
        query = select(t.routing_rule_audit).order_by(a.id)
        if rule_id is not None:
            query = query.where(a.rule_id == rule_id)
        with self._read() as conn:
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

    # --- numbers ----------------------------------------------------------------------------
    def stats(self, *, since: datetime | None, until: datetime | None, unit: str | None) -> Stats:
        if unit is not None and unit not in self._unit_ids:
            raise InvalidInput(f"Unknown unit {unit!r}.")
        with self._read() as conn:
            return stats_sql(conn, now=self.clock(), since=since, until=until, unit=unit)

    def unit_stats(self, *, since: datetime | None, until: datetime | None) -> list[Stats]:
        now = self.clock()
        with self._read() as conn:
            return [
                stats_sql(conn, now=now, since=since, until=until, unit=unit.id)
                for unit in self._load_units(conn)
            ]

    # --- tokens -----------------------------------------------------------------------------
    def create_token(self, name: str, role: Role) -> str:
        _check_text(name)
        token = secrets.token_urlsafe(32)
        with self._write() as conn:
            conn.execute(
                insert(t.tokens).values(
                    token_hash=_sha256(token), name=name, role=Role(role).value, created_at=self.clock()
                )
            )
        return token

    def identify(self, token: str) -> Identity | None:
        k = t.tokens.c
        with self._read() as conn:
            row = conn.execute(select(k.name, k.role).where(k.token_hash == _sha256(token))).first()
        if row is None:
            return None
        return Identity(name=row.name, role=Role(row.role))
