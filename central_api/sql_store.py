"""`SqlStore`: the `Store` over SQLAlchemy Core (a SQLite file by default; PostgreSQL-ready),
composed of one part per concern from `central_api.sql`, all over one `Database`.

Every write is one transaction; writers are serialized and the change `seq` is allocated inside
the write (see `central_api.sql.engine`). Listeners registered with `add_listener` are called with
the new head after each committed write; the SSE notifier uses this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from api_client.actions import Action
from api_client.knowledge import KnowledgeEntry, KnowledgeEntryIn, KnowledgeEvent
from api_client.models import (
    AuditEvent,
    CallerLookup,
    CallerLookupEvent,
    Category,
    Change,
    Community,
    NewRequest,
    PhoneReveal,
    Request,
    Role,
    RoutingRule,
    RoutingRuleEvent,
    RoutingRuleIn,
    Stats,
    TokenInfo,
    Unit,
    now_utc,
)
from api_client.places import Place, PlaceEvent, PlaceIn
from central_api.scope import Scope
from central_api.sql.audit import AuditTrail
from central_api.sql.callers import Callers
from central_api.sql.directory import Directory
from central_api.sql.engine import Database, DatabaseUnavailable, database_url, shown_url
from central_api.sql.feed import Feed
from central_api.sql.knowledge import KnowledgeBase
from central_api.sql.places import Places
from central_api.sql.requests import Requests
from central_api.sql.routing_rules import RoutingRules
from central_api.sql.schema import Catalogue, bootstrap
from central_api.sql.stats import StatsReader
from central_api.sql.tokens import Tokens
from central_api.store import Outcome, RequestFilter, TokenHolder


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
        self._db = Database(self.url, clock=clock)
        try:
            bootstrap(self._db, catalogue)
            self._directory = Directory(self._db)
        except SQLAlchemyError as exc:
            self._db.close()
            reason = getattr(exc, "orig", None) or exc
            raise DatabaseUnavailable(f"cannot open the database {shown_url(self.url)}: {reason}") from exc
        except DatabaseUnavailable:
            self._db.close()
            raise
        self._callers = Callers(self._db)
        self._requests = Requests(self._db, self._directory, self._callers)
        self._feed = Feed(self._db)
        self._audit = AuditTrail(self._db)
        self._rules = RoutingRules(self._db, self._directory)
        self._stats = StatsReader(self._db, self._directory)
        self._tokens = Tokens(self._db)
        self._places = Places(self._db, self._directory)
        self._knowledge = KnowledgeBase(self._db, self._directory)

    @classmethod
    def open(
        cls,
        url: str | Path,
        *,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> SqlStore:
        """Open the database at `url`, bringing its schema to the newest revision (on first use:
        creating its tables and loading the catalogue; see `central_api.sql.schema`)."""
        return cls(url, catalogue=catalogue, clock=clock)

    def close(self) -> None:
        self._db.close()

    @property
    def clock(self) -> Callable[[], datetime]:
        """The time source for every write and for `overdue`; seeding and tests may replace it."""
        return self._db.clock

    @clock.setter
    def clock(self, value: Callable[[], datetime]) -> None:
        self._db.clock = value

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes in one transaction (see `Database.batch`)."""
        with self._db.batch():
            yield

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """Call `listener(head)` after every committed write that appended a change."""
        self._db.add_listener(listener)

    def remove_listener(self, listener: Callable[[int], None]) -> None:
        self._db.remove_listener(listener)

    # --- requests -------------------------------------------------------------------------
    def create_request(
        self, new: NewRequest, *, actor: str, idempotency_key: str | None, token_id: int = 0
    ) -> Outcome:
        return self._requests.create_request(
            new, actor=actor, idempotency_key=idempotency_key, token_id=token_id
        )

    def create_requests(self, news: Sequence[NewRequest], *, actor: str) -> list[Request]:
        """Intake many requests in one transaction (imports, benchmarks): all or none."""
        return self._requests.create_requests(news, actor=actor)

    def get_request(self, request_id: str) -> Request:
        return self._requests.get_request(request_id)

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
        return self._requests.apply(
            request_id,
            action,
            actor=actor,
            if_match=if_match,
            idempotency_key=idempotency_key,
            token_id=token_id,
            scope=scope,
        )

    def list_requests(self, flt: RequestFilter) -> list[Request]:
        return self._requests.list_requests(flt)

    def audit(self, request_id: str) -> list[AuditEvent]:
        return self._audit.audit(request_id)

    def reveal_phone(self, request_id: str, *, actor: str, reason: str = "") -> PhoneReveal:
        return self._audit.reveal_phone(request_id, actor=actor, reason=reason)

    def lookup_caller(self, phone: str, *, actor: str, reason: str = "") -> CallerLookup:
        return self._callers.lookup(phone, actor=actor, reason=reason)

    def caller_lookups(self, limit: int) -> list[CallerLookupEvent]:
        return self._callers.lookups(limit)

    # --- change feed ----------------------------------------------------------------------
    def changes_raw(
        self, since: int, limit: int, *, unit: str | None = None
    ) -> tuple[list[tuple[int, str, str]], int]:
        return self._feed.changes_raw(since, limit, unit=unit)

    def changes(self, since: int, limit: int, *, unit: str | None = None) -> tuple[list[Change], int]:
        return self._feed.changes(since, limit, unit=unit)

    def change_units(self, after: int, upto: int) -> list[tuple[int, str]]:
        return self._feed.change_units(after, upto)

    def unit_head(self, unit: str, upto: int) -> int:
        return self._feed.unit_head(unit, upto)

    def head(self) -> int:
        return self._feed.head()

    # --- directory ------------------------------------------------------------------------
    def units(self) -> list[Unit]:
        return self._directory.units()

    def set_unit_on_duty(self, unit_id: str, on_duty: bool, *, actor: str) -> Unit:
        return self._directory.set_unit_on_duty(unit_id, on_duty, actor=actor)

    def categories(self) -> list[Category]:
        return self._directory.categories()

    def communities(self) -> list[Community]:
        return self._directory.communities()

    # --- the gazetteer --------------------------------------------------------------------
    def places_json(self) -> bytes:
        return self._places.places_json()

    def places(self) -> list[Place]:
        return self._places.places()

    def set_places(self, places: Sequence[Place]) -> None:
        self._places.set_places(places)

    def put_place(self, place_id: str, place: PlaceIn, *, actor: str) -> tuple[Place, bool]:
        return self._places.put_place(place_id, place, actor=actor)

    def place_audit(self, place_id: str | None = None) -> list[PlaceEvent]:
        return self._places.place_audit(place_id)

    # --- routing rules --------------------------------------------------------------------
    def routing_rules(self) -> list[RoutingRule]:
        return self._rules.routing_rules()

    def put_routing_rule(
        self, rule_id: str, rule: RoutingRuleIn, *, actor: str, if_match: int | None
    ) -> tuple[RoutingRule, bool]:
        return self._rules.put_routing_rule(rule_id, rule, actor=actor, if_match=if_match)

    def delete_routing_rule(self, rule_id: str, *, actor: str, if_match: int | None) -> RoutingRule:
        return self._rules.delete_routing_rule(rule_id, actor=actor, if_match=if_match)

    def set_auto_dispatch(self, category: str, enabled: bool, *, actor: str) -> list[RoutingRule]:
        return self._rules.set_auto_dispatch(category, enabled, actor=actor)

    def routing_rule_audit(self, rule_id: str | None = None) -> list[RoutingRuleEvent]:
        return self._rules.routing_rule_audit(rule_id)

    # --- the knowledge base (central_api.knowledge_store.KnowledgeStore) ------------------
    def knowledge_entries(self) -> list[KnowledgeEntry]:
        return self._knowledge.knowledge_entries()

    def knowledge_entry(self, entry_id: str) -> KnowledgeEntry:
        return self._knowledge.knowledge_entry(entry_id)

    def create_knowledge_entry(
        self, entry: KnowledgeEntryIn, *, actor: str, entry_id: str | None = None
    ) -> KnowledgeEntry:
        return self._knowledge.create_knowledge_entry(entry, actor=actor, entry_id=entry_id)

    def replace_knowledge_entry(
        self, entry_id: str, entry: KnowledgeEntryIn, *, actor: str, if_match: int | None
    ) -> KnowledgeEntry:
        return self._knowledge.replace_knowledge_entry(entry_id, entry, actor=actor, if_match=if_match)

    def withdraw_knowledge_entry(self, entry_id: str, *, actor: str, if_match: int | None) -> KnowledgeEntry:
        return self._knowledge.withdraw_knowledge_entry(entry_id, actor=actor, if_match=if_match)

    def knowledge_audit(self, entry_id: str | None = None) -> list[KnowledgeEvent]:
        return self._knowledge.knowledge_audit(entry_id)

    # --- numbers --------------------------------------------------------------------------
    def stats(self, *, since: datetime | None, until: datetime | None, unit: str | None) -> Stats:
        return self._stats.stats(since=since, until=until, unit=unit)

    def unit_stats(self, *, since: datetime | None, until: datetime | None) -> list[Stats]:
        return self._stats.unit_stats(since=since, until=until)

    # --- tokens ---------------------------------------------------------------------------
    def create_token(self, name: str, role: Role, *, actor: str = "server", unit: str | None = None) -> str:
        return self._tokens.create_token(name, role, actor=actor, unit=unit)

    def identify(self, token: str) -> TokenHolder | None:
        return self._tokens.identify(token)

    def tokens(self) -> list[TokenInfo]:
        return self._tokens.tokens()

    def revoke_token(self, name: str, *, actor: str) -> TokenInfo:
        return self._tokens.revoke_token(name, actor=actor)

    def tokens_version(self) -> int:
        return self._tokens.tokens_version()
