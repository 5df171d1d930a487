"""The storage interface of the central API.

Routes talk to a `Store`; `sql_store.SqlStore` implements it over SQLAlchemy Core
(SQLite by default, a PostgreSQL URL later). Every write is one transaction:
the request row, its change-feed entry (with the next sequence number), its
audit event and its idempotency record commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from api_client.actions import Action
from api_client.models import (
    AuditEvent,
    CallerLookup,
    CallerLookupEvent,
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
    TokenInfo,
    Unit,
)
from api_client.places import Place, PlaceEvent, PlaceIn

if TYPE_CHECKING:
    from central_api.scope import Scope


class StoreError(Exception):
    """Base of the errors a store raises: an English sentence for the client, `code` (a stable
    snake_case id the client maps to its own words) and `params` (the sentence's variable parts,
    as JSON values)."""

    code = "invalid_input"

    def __init__(self, message: str, *, code: str | None = None, params: Mapping[str, object] | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.params: dict[str, object] = dict(params or {})


class RequestNotFound(StoreError):
    code = "request_not_found"

    def __init__(self, request_id: str) -> None:
        super().__init__(f"No request {request_id!r}.", params={"request_id": request_id})


class UnitNotFound(StoreError):
    code = "unit_not_found"

    def __init__(self, unit_id: str) -> None:
        super().__init__(f"No unit {unit_id!r}.", params={"unit_id": unit_id})


class VersionMismatch(StoreError):
    """The action was based on an older version; `current` is the request now."""

    code = "version_mismatch"

    def __init__(self, current: Request, if_match: int) -> None:
        super().__init__(
            f"Request {current.id} is at version {current.version}, not {if_match}: it changed since you"
            " read it.",
            params={"request_id": current.id, "version": current.version, "if_match": if_match},
        )
        self.current = current


class IdempotencyMismatch(StoreError):
    """The idempotency key was used before for another call (`idempotency_key_reused`) or with a
    different body (`idempotency_body_differs`)."""

    code = "idempotency_key_reused"


class InvalidInput(StoreError):
    """The input is well-formed but not acceptable (unknown category, unknown community...)."""


class RuleNotFound(StoreError):
    """No routing rule has this id."""

    code = "rule_not_found"

    def __init__(self, rule_id: str) -> None:
        super().__init__(f"No routing rule {rule_id!r}.", params={"rule_id": rule_id})


class RuleVersionRequired(StoreError):
    """A routing rule exists with this id: replacing it needs the version it was read at."""

    code = "rule_version_required"

    def __init__(self, current: RoutingRule) -> None:
        super().__init__(
            f'Routing rule {current.id} exists (version {current.version}): send If-Match: "<version>"'
            " to replace it.",
            params={"rule_id": current.id, "version": current.version},
        )


class RuleVersionMismatch(StoreError):
    """The routing rule changed (`rule_version_mismatch`) or was deleted (`rule_deleted`, and
    `current` is None) since the version the change was based on."""

    code = "rule_version_mismatch"

    def __init__(self, rule_id: str, current: RoutingRule | None, if_match: int) -> None:
        if current is None:
            super().__init__(
                f"Routing rule {rule_id} does not exist (any more): it was deleted since you read it.",
                code="rule_deleted",
                params={"rule_id": rule_id, "if_match": if_match},
            )
        else:
            super().__init__(
                f"Routing rule {rule_id} is at version {current.version}, not {if_match}: it changed"
                " since you read it.",
                params={"rule_id": rule_id, "version": current.version, "if_match": if_match},
            )
        self.current = current


class RuleClash(StoreError):
    """Another routing rule already covers the same category and community (`rule_clash`), or
    one appeared meanwhile (`rule_clash_meanwhile`)."""

    code = "rule_clash"


class TooManyLookups(StoreError):
    """A token holder made `rate` phone lookups within `window`; `retry_after` seconds until the
    next may be made."""

    code = "lookup_rate_limited"

    def __init__(self, rate: int, window: timedelta, retry_after: int) -> None:
        minutes = int(window.total_seconds() // 60)
        super().__init__(
            f"At most {rate} phone lookups in {minutes} minutes; try again in {retry_after} s.",
            params={"rate": rate, "minutes": minutes, "retry_after": retry_after},
        )
        self.retry_after = retry_after


class TokenNameTaken(StoreError):
    """Another token, revoked or not, has this name: names are unique."""

    code = "token_name_taken"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"A token named {name!r} exists already: choose another name.", params={"name": name}
        )


class TokenNotFound(StoreError):
    code = "token_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"No token named {name!r}.", params={"name": name})


class ScopeRefused(StoreError):
    """A unit's token asked for what is not its unit's, or what a unit may not do (403):
    `not_your_unit`, `unit_not_allowed`, `unit_not_lead`."""

    code = "not_your_unit"


class TokenHolder(Identity):
    """Who is calling, as the server knows it: the name and role (and the unit a `unit` token is
    bound to), and the id of the token used (idempotency keys are scoped by it). Answered as an
    `Identity`."""

    token_id: int


@dataclass(frozen=True)
class Outcome:
    """The result of a write: the request, and whether it is a replay of an earlier call."""

    request: Request
    replayed: bool = False


@dataclass(frozen=True)
class RequestFilter:
    """Filters for listing requests (Open311 `GET requests.json` and reports)."""

    ids: Sequence[str] = ()
    categories: Sequence[str] = ()
    states: Sequence[State] = ()
    received_from: datetime | None = None
    received_to: datetime | None = None
    unit: str | None = None  # only the requests this unit leads or co-handles
    offset: int = 0
    limit: int = 1000


class Store(Protocol):
    #: The time source for every write; seeding and tests may replace it.
    clock: Callable[[], datetime]

    def batch(self) -> AbstractContextManager[None]:
        """Many writes in one transaction: all commit together or none (seeding, imports)."""
        ...

    # --- requests -------------------------------------------------------
    def create_request(
        self, new: NewRequest, *, actor: str, idempotency_key: str | None, token_id: int = 0
    ) -> Outcome:
        """Store a new request. The same key from the same token (`token_id`; 0 for callers
        without one) with the same body returns the first result (replayed=True); with another
        body it raises IdempotencyMismatch.

        When the routing rule that decides for its category and community (`best_rule`) has
        `auto_dispatch` and its lead unit is on duty, the request is dispatched to the rule's
        units in the same transaction by the actor `auto:<rule id>` (a second change and audit
        event, detail naming the rule); the outcome is the dispatched request."""
        ...

    def get_request(self, request_id: str) -> Request:
        """Raises RequestNotFound."""
        ...

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
        """Apply a dispatcher action. Raises RequestNotFound, VersionMismatch,
        api_client.domain.lifecycle.TransitionRefused, IdempotencyMismatch, and ScopeRefused when
        `scope` (a unit's) may not act on the request as it stands (`Scope.check_action`, in the
        write's transaction). A key replayed by the same token returns the first outcome
        (replayed=True) before any other check."""
        ...

    def list_requests(self, flt: RequestFilter) -> list[Request]: ...

    def audit(self, request_id: str) -> list[AuditEvent]:
        """Raises RequestNotFound."""
        ...

    def reveal_phone(self, request_id: str, *, actor: str, reason: str = "") -> PhoneReveal:
        """The caller's full phone and name (the only answer that carries them: every other
        one carries them masked), recorded as a `reveal_phone` audit event (detail `{"reason"}`
        when one is given). The request's version and change_seq stay as they are and the change
        feed gets no entry: a reveal makes nobody's pending action stale. Raises RequestNotFound."""
        ...

    def lookup_caller(self, phone: str, *, actor: str, reason: str = "") -> CallerLookup:
        """The requests of the caller with this phone (a whole number, or its last 4 to 6
        digits), newest first, capped; recorded as a `lookup_phone` audit event (who, when,
        why, the number masked, how many matched). Raises InvalidInput for a query that is not
        a phone, TooManyLookups when `actor` made too many lately."""
        ...

    def caller_lookups(self, limit: int) -> list[CallerLookupEvent]:
        """The latest phone lookups, newest first."""
        ...

    # --- change feed ----------------------------------------------------
    def changes(self, since: int, limit: int, *, unit: str | None = None) -> tuple[list[Change], int]:
        """Changes with seq > since, oldest first, at most `limit` (only those concerning `unit`
        when given: `change_units`); and the current head."""
        ...

    def change_units(self, after: int, upto: int) -> list[tuple[int, str]]:
        """(seq, unit) for every unit each change in (after, upto] concerns: the units its
        request had before it and after it."""
        ...

    def unit_head(self, unit: str, upto: int) -> int:
        """The newest change up to `upto` that concerns `unit` (0 when none does)."""
        ...

    def head(self) -> int:
        """The newest change sequence number (0 when there is none)."""
        ...

    # --- directory ------------------------------------------------------
    def units(self) -> list[Unit]: ...

    def set_unit_on_duty(self, unit_id: str, on_duty: bool, *, actor: str) -> Unit:
        """Raises UnitNotFound."""
        ...

    def categories(self) -> list[Category]: ...

    def communities(self) -> list[Community]: ...

    # --- the gazetteer --------------------------------------------------
    def places_json(self) -> bytes:
        """Every place of the street's gazetteer (`api_client.places.Place`), in order, as one
        JSON array."""
        ...

    def set_places(self, places: Sequence[Place]) -> None:
        """Replace the gazetteer (parents listed before their children)."""
        ...

    def put_place(self, place_id: str, place: PlaceIn, *, actor: str) -> tuple[Place, bool]:
        """Create or replace one place, its edit kept (`place_audit`): (the place, created?).
        InvalidInput for an unknown community, unit or parent, or a parent lying in the place."""
        ...

    def place_audit(self, place_id: str | None = None) -> list[PlaceEvent]:
        """Every edit of the gazetteer through the API (or of one place), oldest first."""
        ...

    # --- routing rules --------------------------------------------------
    def routing_rules(self) -> list[RoutingRule]:
        """Every routing rule, by category, then community (`*` last), then id."""
        ...

    def put_routing_rule(
        self, rule_id: str, rule: RoutingRuleIn, *, actor: str, if_match: int | None
    ) -> tuple[RoutingRule, bool]:
        """Create the rule (`if_match` None) or replace it (`if_match` = its version); the rule
        and whether it was created. Audited. Raises InvalidInput (unknown category, community or
        unit), RuleVersionRequired, RuleVersionMismatch, RuleClash."""
        ...

    def delete_routing_rule(self, rule_id: str, *, actor: str, if_match: int | None) -> RoutingRule:
        """Delete the rule (checking its version when `if_match` is given); the rule as it was.
        Audited. Raises RuleNotFound, RuleVersionMismatch."""
        ...

    def set_auto_dispatch(self, category: str, enabled: bool, *, actor: str) -> list[RoutingRule]:
        """Turn auto-dispatch on or off on every rule of `category` (each change audited); the
        category's rules after. Raises InvalidInput for an unknown category."""
        ...

    def routing_rule_audit(self, rule_id: str | None = None) -> list[RoutingRuleEvent]:
        """Changes to the routing rules (to one rule when `rule_id` is given), oldest first."""
        ...

    # --- numbers --------------------------------------------------------
    def stats(self, *, since: datetime | None, until: datetime | None, unit: str | None) -> Stats: ...

    def unit_stats(self, *, since: datetime | None, until: datetime | None) -> list[Stats]:
        """`stats` for every unit of the directory (in its order), read in one transaction."""
        ...

    # --- tokens ---------------------------------------------------------
    def create_token(self, name: str, role: Role, *, actor: str = "server", unit: str | None = None) -> str:
        """Store a new token (hashed) and return it; it is never shown again. Audited as a token
        event by `actor`. A `unit` token is bound to `unit`, and only it has one. Raises
        TokenNameTaken, InvalidInput (a name with control characters, an unknown unit, a unit
        for another role or none for a unit token)."""
        ...

    def identify(self, token: str) -> TokenHolder | None:
        """Who holds this token, or None when it is unknown or revoked."""
        ...

    def tokens(self) -> list[TokenInfo]:
        """Every token, revoked ones too, in the order they were made."""
        ...

    def revoke_token(self, name: str, *, actor: str) -> TokenInfo:
        """Revoke the token named `name` (audited; revoking it again changes nothing) and move
        `tokens_version`. Raises TokenNotFound."""
        ...

    def tokens_version(self) -> int:
        """A number that moves whenever a token is revoked (servers poll it to drop what they
        remember of tokens)."""
        ...
