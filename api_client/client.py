"""The async client of the hotline central API.

    async with HotlineClient("https://central.example", token) as api:
        request = await api.get_request("R-2024-000123")
        request = await api.act(request.id, Accept(), version=request.version)

Every method returns models validated against the wire contract (`api_client.models`) and
raises only `api_client.errors.HotlineError` subclasses. Calls are retried (see
`api_client.retrying`) when that is safe: reads always, writes because every write method sends
an ``Idempotency-Key`` (made up here when the caller gives none).

Proxies: the client never passes ``transport=`` to httpx, so ``HTTPS_PROXY`` / ``HTTP_PROXY`` /
``ALL_PROXY`` / ``NO_PROXY`` from the environment keep working.
"""

from __future__ import annotations

import os
import ssl
import uuid
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from importlib import metadata
from types import TracebackType
from typing import Self, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel, Field, TypeAdapter

from api_client.actions import ACTION_ADAPTER, Action
from api_client.decoding import content_type, decode, json_body, page_from_lines, validate
from api_client.errors import (
    InvalidRequest,
    InvalidResponse,
)
from api_client.knowledge import KnowledgeEntry, KnowledgeEntryIn, KnowledgeEvent
from api_client.models import (
    CHANGE_LINES,
    AuditEvent,
    AutoDispatchSwitch,
    CallerLookup,
    Category,
    ChangesPage,
    Community,
    Identity,
    NewRequest,
    Outgoing,
    PhoneReveal,
    PulledPage,
    Request,
    Role,
    RoutingRule,
    RoutingRuleEvent,
    RoutingRuleIn,
    StampedChangesPage,
    Stats,
    TokenCreated,
    Unit,
    UnitUpdate,
)
from api_client.places import Place, PlaceEvent, PlaceIn
from api_client.retrying import RetryPolicy, origin, send
from api_client.status_errors import status_error
from api_client.transport_security import warn_insecure_transport

T = TypeVar("T")


def _package_version() -> str:
    try:
        return metadata.version("hotline")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


DEFAULT_USER_AGENT = f"hotline/{_package_version()} (+httpx)"


class Health(Outgoing):
    """`GET /v1/health`."""

    status: str
    head: int = Field(ge=0)


_HEALTH = TypeAdapter(Health)
_IDENTITY = TypeAdapter(Identity)
_REQUEST = TypeAdapter(Request)
_AUDIT = TypeAdapter(list[AuditEvent])
_PHONE_REVEAL = TypeAdapter(PhoneReveal)
_CALLER_LOOKUP = TypeAdapter(CallerLookup)
_CHANGES = TypeAdapter(ChangesPage)
_UNIT = TypeAdapter(Unit)
_UNITS = TypeAdapter(list[Unit])
_CATEGORIES = TypeAdapter(list[Category])
_COMMUNITIES = TypeAdapter(list[Community])
_PLACES = TypeAdapter(list[Place])
_PLACE = TypeAdapter(Place)
_PLACE_EVENTS = TypeAdapter(list[PlaceEvent])
_STATS = TypeAdapter(Stats)
_STATS_LIST = TypeAdapter(list[Stats])
_TOKEN = TypeAdapter(TokenCreated)
_RULE = TypeAdapter(RoutingRule)
_RULES = TypeAdapter(list[RoutingRule])
_RULE_EVENTS = TypeAdapter(list[RoutingRuleEvent])
_KNOWLEDGE_ENTRY = TypeAdapter(KnowledgeEntry)
_KNOWLEDGE = TypeAdapter(list[KnowledgeEntry])
_KNOWLEDGE_EVENTS = TypeAdapter(list[KnowledgeEvent])
_STAMPED_CHANGES = TypeAdapter(StampedChangesPage)


class HotlineClient:
    """A connection to one central API, for one token holder.

    `connect_timeout` and `read_timeout` apply per attempt (the read timeout per chunk);
    `deadline` bounds a whole call, retries and backoff included; `attempts=1` turns retries
    off. `wait_initial`, `wait_max` and `wait_jitter` shape the backoff between attempts.
    `ca_file` trusts a private certificate authority (PEM) instead of the system's for https.
    A token sent over plain http to another host warns once per process (`transport_security`).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        deadline: float = 15.0,
        attempts: int = 5,
        wait_initial: float = 0.2,
        wait_max: float = 3.0,
        wait_jitter: float = 0.5,
        user_agent: str = DEFAULT_USER_AGENT,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> None:
        url = _check_base_url(base_url)
        headers = _default_headers(token, user_agent)
        verify = _verify(ca_file)
        if token is not None:
            warn_insecure_transport(str(url), stacklevel=2)
        self.base_url = str(url)
        self.policy = RetryPolicy(
            attempts=attempts,
            deadline=deadline,
            wait_initial=wait_initial,
            wait_max=wait_max,
            wait_jitter=wait_jitter,
        )
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._origin = origin(url)
        # No `transport=`: a custom transport would silently ignore HTTPS_PROXY and friends.
        self._http = httpx.AsyncClient(
            base_url=url,
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
            follow_redirects=False,
            trust_env=True,
            verify=verify,
        )

    def __repr__(self) -> str:
        return f"HotlineClient({self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection. The client cannot be used afterwards."""
        await self._http.aclose()

    # -- the routes -------------------------------------------------------------------------

    async def health(self) -> int:
        """The server's change-feed head (its newest sequence number); no token needed."""
        return (await self.call("GET", "/v1/health", _HEALTH)).head

    async def me(self) -> Identity:
        """Who the token belongs to, and its role."""
        return await self.call("GET", "/v1/me", _IDENTITY)

    async def intake(self, new: NewRequest, *, idempotency_key: str | None = None) -> Request:
        """Record a new citizen request. Safe to retry: a key is made when none is given."""
        return await self.call(
            "POST",
            "/v1/requests",
            _REQUEST,
            body=_dump(new),
            headers=_idempotent(idempotency_key),
        )

    async def get_request(self, request_id: str) -> Request:
        """One request as the server holds it now."""
        return await self.call("GET", f"/v1/requests/{_segment(request_id)}", _REQUEST)

    async def act(
        self,
        request_id: str,
        action: Action,
        *,
        version: int,
        idempotency_key: str | None = None,
    ) -> Request:
        """Apply `action` to a request last seen at `version`.

        Raises `Conflict` (with `.current`) when the request has changed since, and
        `InvalidRequest` when the state machine refuses the action.
        """
        headers = _idempotent(idempotency_key)
        headers["If-Match"] = f'"{version}"'
        return await self.call(
            "POST",
            f"/v1/requests/{_segment(request_id)}/actions",
            _REQUEST,
            body=ACTION_ADAPTER.dump_json(action),
            headers=headers,
        )

    async def audit(self, request_id: str) -> list[AuditEvent]:
        """A request's history, oldest first."""
        return await self.call("GET", f"/v1/requests/{_segment(request_id)}/audit", _AUDIT)

    async def reveal_phone(self, request_id: str, *, reason: str = "") -> PhoneReveal:
        """The caller's full phone and name; the server audits every reveal (who, when, why).

        Sent exactly once, never retried: each call is one more audit event. The request's
        version does not change, so pending actions on it stay valid.
        """
        return await self.call(
            "POST",
            f"/v1/requests/{_segment(request_id)}/phone-reveals",
            _PHONE_REVEAL,
            body=orjson.dumps({"reason": reason}),
        )

    async def lookup_caller(self, phone: str, reason: str = "") -> CallerLookup:
        """The requests of the caller with this phone (a whole number, or its last 4 to 6
        digits), newest first, masked as everywhere; the server audits every lookup.

        The number goes in the body, never in the URL. Sent exactly once, never retried: each
        call is one more audit event (and counts against the server's rate of lookups).
        """
        return await self.call(
            "POST",
            "/v1/callers/lookup",
            _CALLER_LOOKUP,
            body=orjson.dumps({"phone": phone, "reason": reason}),
        )

    async def changes(self, since: int, limit: int = 500) -> ChangesPage:
        """One page of the change feed: every change with `seq > since`, oldest first."""
        params = {"since": str(since), "limit": str(limit)}
        return await self.call("GET", "/v1/changes", _CHANGES, params=params)

    async def pull_page(self, since: int, limit: int = 500) -> PulledPage:
        """`changes()` for the sync engine: the page checked for what a pull needs (the page's
        fields, each change's seq and action, each request's id, state, version and
        change_seq), each request kept as its JSON, to be validated as a `Request` when it is
        first read. A page that breaks those checks is an `InvalidResponse` naming the field.

        Asks for the page as lines (`CHANGE_LINES`), which needs no parse of the requests; a
        server that answers JSON is read as a `StampedChangesPage`.
        """
        what = "GET /v1/changes"
        params = {"since": str(since), "limit": str(limit)}
        accept = {"Accept": f"{CHANGE_LINES}, application/json;q=0.5"}
        response = await self._respond("GET", "/v1/changes", params=params, headers=accept)
        if content_type(response) == CHANGE_LINES:
            return page_from_lines(response, what)
        data = json_body(response, what)
        page = validate(_STAMPED_CHANGES, data, what, status=response.status_code)
        # Valid, so `data` is a page of change objects, each with a request object: dumped
        # back, each one is exactly the JSON object that was checked.
        return PulledPage(
            seqs=[change.seq for change in page.changes],
            stamps=[change.request for change in page.changes],
            requests=[orjson.dumps(change["request"]) for change in data["changes"]],
            next_since=page.next_since,
            head=page.head,
            has_more=page.has_more,
        )

    async def iter_changes(self, since: int, limit: int = 500) -> AsyncGenerator[ChangesPage, None]:
        """Every page from `since` on, until the server says there is no more.

        Save each page's `next_since` together with the page; resume from it.
        """
        while True:
            page = await self.changes(since, limit)
            yield page
            if not page.has_more:
                return
            if page.next_since <= since:
                raise InvalidResponse(
                    f"the central API's change feed did not advance (next_since {page.next_since}"
                    f" after since {since} with has_more true)",
                    field="next_since",
                )
            since = page.next_since

    async def units(self) -> list[Unit]:
        """Every handling unit."""
        return await self.call("GET", "/v1/units", _UNITS)

    async def set_unit_on_duty(
        self, unit_id: str, on_duty: bool, *, idempotency_key: str | None = None
    ) -> Unit:
        """Put a unit on or off duty (supervisor or admin)."""
        return await self.call(
            "PATCH",
            f"/v1/units/{_segment(unit_id)}",
            _UNIT,
            body=_dump(UnitUpdate(on_duty=on_duty)),
            headers=_idempotent(idempotency_key),
        )

    async def categories(self) -> list[Category]:
        """Every request category, with its deadline tier."""
        return await self.call("GET", "/v1/categories", _CATEGORIES)

    async def communities(self) -> list[Community]:
        """Every community (社区) and its streets."""
        return await self.call("GET", "/v1/communities", _COMMUNITIES)

    async def places(self) -> list[Place]:
        """The street's gazetteer: every place, parents before their children."""
        return await self.call("GET", "/v1/places", _PLACES)

    async def put_place(self, place_id: str, place: PlaceIn) -> Place:
        """Create or replace place `place_id` of the gazetteer (supervisor or admin; audited)."""
        return await self.call("PUT", f"/v1/places/{_segment(place_id)}", _PLACE, body=_dump(place))

    async def place_audit(self, place_id: str | None = None) -> list[PlaceEvent]:
        """Edits of the gazetteer (of one place when given), oldest first (supervisor or admin)."""
        params = {"place": place_id} if place_id is not None else None
        return await self.call("GET", "/v1/places/audit", _PLACE_EVENTS, params=params)

    async def stats(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        unit: str | None = None,
    ) -> Stats:
        """Counts and the three rates, optionally for a time window and one unit."""
        params: dict[str, str] = {}
        if since is not None:
            params["since"] = since.isoformat()
        if until is not None:
            params["until"] = until.isoformat()
        if unit is not None:
            params["unit"] = unit
        return await self.call("GET", "/v1/stats", _STATS, params=params)

    async def unit_stats(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Stats]:
        """`stats(unit=…)` for every unit of the directory, in one call (the dashboard's table)."""
        params: dict[str, str] = {}
        if since is not None:
            params["since"] = since.isoformat()
        if until is not None:
            params["until"] = until.isoformat()
        return await self.call("GET", "/v1/stats/units", _STATS_LIST, params=params)

    async def routing_rules(self) -> list[RoutingRule]:
        """Every routing rule (category × community → units, and whether to auto-dispatch)."""
        return await self.call("GET", "/v1/routing-rules", _RULES)

    async def put_routing_rule(
        self, rule_id: str, rule: RoutingRuleIn, *, version: int | None = None
    ) -> RoutingRule:
        """Create rule `rule_id` (`version` None) or replace it (`version` = the version it was
        read at; `RuleConflict` with `.current` when it changed since). Supervisor or admin.
        Sent once, never retried (a retry after a lost answer would find the rule changed)."""
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        return await self.call(
            "PUT", f"/v1/routing-rules/{_segment(rule_id)}", _RULE, body=_dump(rule), headers=headers
        )

    async def delete_routing_rule(self, rule_id: str, *, version: int | None = None) -> RoutingRule:
        """Delete a rule (only if still at `version`, when given); the rule as it was."""
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        return await self.call("DELETE", f"/v1/routing-rules/{_segment(rule_id)}", _RULE, headers=headers)

    async def set_auto_dispatch(self, category: str, enabled: bool) -> list[RoutingRule]:
        """Turn auto-dispatch on or off for every rule of `category` (supervisor or admin)."""
        body = _dump(AutoDispatchSwitch(category=category, auto_dispatch=enabled))
        return await self.call("POST", "/v1/routing-rules/auto-dispatch", _RULES, body=body)

    async def routing_rule_audit(self, rule_id: str | None = None) -> list[RoutingRuleEvent]:
        """Changes to the routing rules (to one rule when given), oldest first."""
        params = {"rule": rule_id} if rule_id is not None else None
        return await self.call("GET", "/v1/routing-rules/audit", _RULE_EVENTS, params=params)

    async def knowledge(self) -> list[KnowledgeEntry]:
        """Every knowledge-base entry, withdrawn ones too, in the order they were made."""
        return await self.call("GET", "/v1/knowledge", _KNOWLEDGE)

    async def knowledge_entry(self, entry_id: str) -> KnowledgeEntry:
        return await self.call("GET", f"/v1/knowledge/{_segment(entry_id)}", _KNOWLEDGE_ENTRY)

    async def create_knowledge_entry(self, entry: KnowledgeEntryIn) -> KnowledgeEntry:
        """A new entry (supervisor or admin). Sent once, never retried."""
        return await self.call("POST", "/v1/knowledge", _KNOWLEDGE_ENTRY, body=_dump(entry))

    async def replace_knowledge_entry(
        self, entry_id: str, entry: KnowledgeEntryIn, *, version: int
    ) -> KnowledgeEntry:
        """Replace an entry read at `version` (an `InvalidRequest` with the code
        `knowledge_version_mismatch` when it changed since). Sent once, never retried."""
        return await self.call(
            "PUT",
            f"/v1/knowledge/{_segment(entry_id)}",
            _KNOWLEDGE_ENTRY,
            body=_dump(entry),
            headers={"If-Match": f'"{version}"'},
        )

    async def withdraw_knowledge_entry(self, entry_id: str, *, version: int | None = None) -> KnowledgeEntry:
        """Withdraw an entry (only if still at `version`, when given); the entry, withdrawn."""
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        return await self.call(
            "DELETE", f"/v1/knowledge/{_segment(entry_id)}", _KNOWLEDGE_ENTRY, headers=headers
        )

    async def knowledge_audit(self, entry_id: str | None = None) -> list[KnowledgeEvent]:
        """Edits of the knowledge base (of one entry when given), oldest first."""
        params = {"entry": entry_id} if entry_id is not None else None
        return await self.call("GET", "/v1/knowledge/audit", _KNOWLEDGE_EVENTS, params=params)

    async def create_token(self, name: str, role: Role, *, unit: str | None = None) -> TokenCreated:
        """Make a new API token (admin); a `unit` token is bound to `unit`. The answer is the only
        time the token is shown, so the call is sent once, never retried: the server keeps only
        the token's hash and could not give a retry the token its first attempt made (a retry
        would find the name taken). When no answer comes, the token list says whether it exists."""
        fields = {"name": name, "role": Role(role).value}
        body = orjson.dumps(fields if unit is None else {**fields, "unit": unit})
        return await self.call("POST", "/v1/tokens", _TOKEN, body=body)

    # -- the one path every call takes ------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        adapter: TypeAdapter[T],
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> T:
        """Send one call (with retries when safe) and validate a 2xx answer with `adapter`.

        The low-level path under every route method. It is retried only for a read or when
        `headers` carry an ``Idempotency-Key``: a write without one is sent exactly once.
        """
        response = await self._respond(method, path, body=body, params=params, headers=headers)
        return decode(response, adapter, f"{method.upper()} {path}")

    async def _respond(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one call (with retries when safe, see `call`): its 2xx answer, or raise the
        error for any other status."""
        request = self._build(method, path, body=body, params=params, headers=headers)
        response = await send(self._http, request, self.policy)
        if not 200 <= response.status_code < 300:
            raise status_error(response, f"{method.upper()} {path}", self._origin)
        return response

    def _build(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        """An httpx request; a local mistake (a header with a newline) is an InvalidRequest."""
        all_headers = dict(headers or {})
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        try:
            return self._http.build_request(
                method.upper(), path, content=body, params=params, headers=all_headers
            )
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError, ValueError, TypeError) as exc:
            raise InvalidRequest(f"cannot send {method.upper()} {path}: {exc}") from exc


# -- building calls -------------------------------------------------------------------------


def _check_base_url(base_url: str) -> httpx.URL:
    """The base URL as httpx wants it; a ValueError for anything but an absolute http(s) URL."""
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"not a valid central API address: {base_url!r} ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"the central API address must start with http:// or https://, got {base_url!r}")
    return url


def _verify(ca_file: str | os.PathLike[str] | None) -> ssl.SSLContext | bool:
    """What httpx checks a server's certificate against: the system's authorities (True), or
    only those in `ca_file`; a ValueError when that file cannot be read as certificates."""
    if ca_file is None:
        return True
    try:
        return ssl.create_default_context(cafile=os.fspath(ca_file))
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(f"cannot read the CA file {os.fspath(ca_file)}: {reason}") from None


def _default_headers(token: str | None, user_agent: str) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": user_agent}
    if token is not None:
        if not token or not token.isascii() or not token.isprintable() or " " in token:
            raise ValueError("the API token must be non-empty printable ASCII without spaces")
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _idempotent(key: str | None) -> dict[str, str]:
    """Headers with an Idempotency-Key: the caller's (an outbox entry's) or a fresh uuid4."""
    return {"Idempotency-Key": key if key is not None else str(uuid.uuid4())}


def _segment(value: str) -> str:
    """`value` as one path segment (a '/' or '?' in an id cannot reach another route)."""
    return quote(value, safe="")


def _dump(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()
