"""The wire contract between the central API and its clients.

Every model here is what travels as JSON. The server builds them, the client
validates every response against them, and the local cache stores them.
Models the server *sends* ignore unknown fields (a newer server may add some);
models a client *sends* forbid them (a typo is refused, not silently dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from api_client.domain import bounds

# The wire carries the domain's states and tiers.
from api_client.domain.deadlines import Tier as Tier
from api_client.domain.personal_data import LOOKUP_FULL_DIGITS, LOOKUP_SUFFIX_DIGITS
from api_client.domain.states import OPEN_STATES as OPEN_STATES
from api_client.domain.states import State as State
from api_client.input_types import (
    Address,
    HappenedAt,
    Identifier,
    Name,
    OptionalIdentifier,
    Phone,
    Reason,
    RequiredText,
    Street,
    WireEnum,
    WireTier,
)


class Incoming(BaseModel):
    """A body a client sends: unknown fields are an error, and nothing is coerced (`"yes"` is no
    boolean, a number no datetime or text). Enums are read by value, datetimes from ISO text."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Outgoing(BaseModel):
    """A body the server sends: unknown fields are ignored (forward compatible)."""

    model_config = ConfigDict(extra="ignore")


class Channel(WireEnum):
    phone = "phone"
    wechat = "wechat"
    app = "app"
    web = "web"
    visit = "visit"
    meeting = "meeting"


class RequestType(WireEnum):
    """The five types of request the regulations name."""

    enquiry = "enquiry"  # 咨询
    help = "help"  # 求助
    complaint = "complaint"  # 投诉
    tip_off = "tip_off"  # 举报
    suggestion = "suggestion"  # 建议


class Satisfaction(WireEnum):
    satisfied = "satisfied"  # 满意
    basically = "basically"  # 基本满意
    not_satisfied = "not_satisfied"  # 不满意


class Role(WireEnum):
    """What a token may do. Dispatcher, supervisor and admin use the /v1 API, each more than
    the one before; a partner (an Open311 app) is another kind: only `/open311/v2/`."""

    dispatcher = "dispatcher"
    supervisor = "supervisor"
    admin = "admin"
    partner = "partner"
    #: A handling unit's own login (承办单位), bound to one unit: it reads only the requests its
    #: unit leads or co-handles and acts only as a unit acts (sign for, return, extend, resolve).
    unit = "unit"


class UnitKind(WireEnum):
    community = "community"  # 社区居委会
    property = "property"  # 物业公司
    housing = "housing"  # 房管
    utility = "utility"  # 水电气热
    district = "district"  # 区指挥中心, district departments
    street = "street"  # 街道科室


class Location(Outgoing):
    street: str = ""
    community: str = ""  # community id, "" when unknown
    address: str = ""
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)


class Caller(Outgoing):
    """Who called. The server answers the name and phone masked (`王**`, `138****1234`: see
    `api_client.domain.personal_data`) and `key`, which is the same for every request of one
    phone number and tells nothing of it; the full phone and name come only from an audited
    reveal. At intake a client sends them in full, and no key (the server makes it)."""

    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    key: str | None = Field(default=None, max_length=64)


class LocationIn(Incoming):
    """Where, as a client sends it: bounded, and a typo (`adress`) is refused. `Location` (as the
    server answers) has no such limits, so a value stored before them is still read."""

    street: Street = ""
    community: OptionalIdentifier = ""  # community id, "" when unknown
    address: Address = ""
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    long: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)


class CallerIn(Incoming):
    """Who called, as a client sends it at intake: in full, bounded, nothing else."""

    name: Name = ""
    phone: Phone = ""


class Callback(Outgoing):
    """A callback (回访): did we reach the citizen, is it solved, are they satisfied."""

    reached: bool
    solved: bool | None = None
    satisfaction: Satisfaction | None = None
    note: str = ""
    by: str
    at: AwareDatetime


class Note(Outgoing):
    text: str
    by: str
    at: AwareDatetime


def _empty(value: object) -> bool:
    """Whether a step's field is empty (None, "", []): the JSON leaves it out. False is an answer."""
    return value is None or value == "" or value == []


class Step(Outgoing):
    """One step of a request's history (`Request.history`), written by the state machine: who,
    when, the action (or `intake`), the state after it, and why — what the action carried that
    explains it. Fields an action does not carry stay empty and are left out of the JSON."""

    action: str
    by: str
    at: AwareDatetime
    state: State
    #: The reason's code: a return's, a close's.
    code: str | None = Field(default=None, exclude_if=_empty)
    #: The reason (return, extend, reopen, close, escalate), the reply (resolve), the note, the
    #: callback's note; cut to `bounds.MAX_STEP_TEXT`.
    text: str = Field(default="", exclude_if=_empty)
    #: A dispatch's units: the lead first, then the co-units.
    units: list[str] = Field(default_factory=list, exclude_if=_empty)
    #: The due time the step set (intake, extend, reopen, escalate, a callback that reopened).
    due_at: AwareDatetime | None = Field(default=None, exclude_if=_empty)
    #: The tier the step set (intake, escalate).
    tier: Tier | None = Field(default=None, exclude_if=_empty)
    #: A callback's answers.
    reached: bool | None = Field(default=None, exclude_if=_empty)
    solved: bool | None = Field(default=None, exclude_if=_empty)
    satisfaction: Satisfaction | None = Field(default=None, exclude_if=_empty)
    #: The request merged into (merge), left (unmerge) or resolved with (resolve).
    parent: str | None = Field(default=None, exclude_if=_empty)
    #: The knowledge-base entry a direct answer used (answer).
    entry: str | None = Field(default=None, exclude_if=_empty)


class Request(Outgoing):
    """A citizen's request as the server holds it."""

    id: str
    received_at: AwareDatetime
    channel: Channel
    type: RequestType
    category: str
    description: str
    location: Location
    caller: Caller
    vulnerable: bool = False
    tier: Tier
    due_at: AwareDatetime
    state: State
    lead_unit: str | None = None
    co_units: list[str] = Field(default_factory=list)
    callbacks: list[Callback] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    merged_into: str | None = None
    state_before_merge: State | None = None
    dispatched_at: AwareDatetime | None = None
    accepted_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    return_reason: str | None = None
    #: How many times the request was chased (催办: a repeat call, or a dispatcher's reminder).
    chases: int = Field(default=0, ge=0)
    #: The knowledge-base entry it was answered with directly (直接答复), closed without dispatch.
    answered_with: str | None = None
    updated_at: AwareDatetime | None = None  # when the latest change was made
    version: int = Field(ge=1)
    change_seq: int = Field(ge=0)
    #: Every step, oldest first, within `bounds.MAX_HISTORY` (empty for a request stored before
    #: requests kept their history: its audit trail tells it).
    history: list[Step] = Field(default_factory=list)
    #: Steps left out of `history` to keep it within its bound.
    history_dropped: int = Field(default=0, ge=0)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class NewRequest(Incoming):
    """Intake: what a call-taker records. The server assigns id, state, version, due time."""

    channel: Channel
    type: RequestType
    category: Identifier
    description: RequiredText
    location: LocationIn
    caller: CallerIn = Field(default_factory=CallerIn)
    vulnerable: bool = False
    received_at: HappenedAt | None = None  # default: when the server stores it
    tier: WireTier | None = None  # default: the category's tier

    @field_validator("location", "caller", mode="before")
    @classmethod
    def _as_sent(cls, value: object) -> object:
        """A `Location` or `Caller` as the server answers them is read by the fields it sets."""
        return value.model_dump(exclude_defaults=True) if isinstance(value, Outgoing) else value


class Unit(Outgoing):
    """A handling unit (承办单位)."""

    id: str
    name: str
    kind: UnitKind
    communities: list[str] = Field(default_factory=list)  # community ids; empty = all
    categories: list[str] = Field(default_factory=list)  # category codes; empty = all
    on_duty: bool = True


class UnitUpdate(Incoming):
    on_duty: bool


class Category(Outgoing):
    code: str
    name: str
    tier: Tier
    default_units: list[str] = Field(default_factory=list)  # unit kinds or unit ids


class Community(Outgoing):
    id: str
    name: str
    streets: list[str] = Field(default_factory=list)
    #: The community's centre (latitude, longitude; WGS 84), for a map; None when the server
    #: does not know it (or is older than maps).
    centre: tuple[float, float] | None = None


#: The `community` of a routing rule that applies in every community.
ANY_COMMUNITY = "*"


class RoutingRuleIn(Incoming):
    """The body of `PUT /v1/routing-rules/{id}`: requests of `category` in `community` (`*`:
    any community) go to `lead_unit` with `co_units`; with `auto_dispatch` the server
    dispatches them itself at intake. The server checks that the category, community and
    units exist (422 otherwise)."""

    category: Identifier
    community: Identifier = ANY_COMMUNITY
    lead_unit: Identifier
    co_units: list[Identifier] = Field(default_factory=list, max_length=bounds.MAX_CO_UNITS)
    auto_dispatch: bool = False

    @model_validator(mode="after")
    def _lead_not_co(self) -> RoutingRuleIn:
        if self.lead_unit in self.co_units:
            raise PydanticCustomError(
                "lead_unit_is_co_unit", "the lead unit cannot also be a co-unit", {"unit": self.lead_unit}
            )
        if len(set(self.co_units)) != len(self.co_units):
            twice = next(u for u in self.co_units if self.co_units.count(u) > 1)
            raise PydanticCustomError("co_unit_twice", "a co-unit is listed twice", {"unit": twice})
        return self


class RoutingRule(Outgoing):
    """A routing rule as the server holds it; `version` starts at 1 and grows by one per
    replacement (send it as `If-Match` to replace or delete the rule)."""

    id: str
    category: str
    community: str = ANY_COMMUNITY
    lead_unit: str
    co_units: list[str] = Field(default_factory=list)
    auto_dispatch: bool = False
    updated_by: str
    updated_at: AwareDatetime
    version: int = Field(ge=1)


class AutoDispatchSwitch(Incoming):
    """The body of `POST /v1/routing-rules/auto-dispatch`: turn auto-dispatch on or off for
    every rule of a category."""

    category: Identifier
    auto_dispatch: bool


class RoutingRuleEvent(Outgoing):
    """One change to the routing rules: who, when, and the rule before and after (`before` is
    None for a new rule, `after` None for a deleted one). `id` numbers events in order."""

    id: int
    rule_id: str
    action: str  # "create", "replace" or "delete"
    actor: str
    at: AwareDatetime
    before: RoutingRule | None = None
    after: RoutingRule | None = None


class AuditEvent(Outgoing):
    """One step in a request's history: who did what, when, and what changed."""

    seq: int
    request_id: str
    action: str
    actor: str
    at: AwareDatetime
    before: dict[str, object] = Field(default_factory=dict)
    after: dict[str, object] = Field(default_factory=dict)
    detail: dict[str, object] = Field(default_factory=dict)


class PhoneRevealRequest(Incoming):
    """The optional body of a phone reveal: why the dispatcher needs the full number."""

    reason: Reason = ""


class PhoneReveal(Outgoing):
    """A caller's full phone and name, answered to an audited reveal.

    `revealed_by` and `revealed_at` are the `actor` and `at` of the `reveal_phone` audit event
    this reveal appended; `audit_id` numbers that event (unique, increasing over the server).
    A reveal changes neither the request's version nor the change feed.
    """

    request_id: str
    phone: str
    name: str
    revealed_by: str
    revealed_at: AwareDatetime
    audit_id: int


#: What a phone lookup may be, as the OpenAPI document says it.
_LOOKUP_PATTERN = (
    rf"^\s*[ +\-]*(?:\d[ +\-]*){{{LOOKUP_SUFFIX_DIGITS.start},{LOOKUP_FULL_DIGITS.stop - 1}}}\s*$"
)


class CallerLookupRequest(Incoming):
    """The body of a phone lookup: a whole number, or its last 4 to 6 digits (digits, spaces,
    `+` and `-` only), and why the dispatcher looks the caller up."""

    phone: Annotated[
        Phone,
        StringConstraints(strip_whitespace=True, min_length=1),
        Field(json_schema_extra={"pattern": _LOOKUP_PATTERN}),  # `personal_data.lookup_digits` decides
    ]
    reason: Reason = ""


class CallerLookup(Outgoing):
    """The requests of the callers whose phone matched a lookup, newest first (masked as
    everywhere); `truncated` when there were more than the server answers."""

    requests: list[Request]
    truncated: bool = False


class CallerLookupEvent(Outgoing):
    """One phone lookup as the audit keeps it: who, when, why, the number masked as asked
    (`****1234`) and how many requests it found. `id` numbers events in order."""

    id: int
    actor: str
    at: AwareDatetime
    query: str
    matched: int
    truncated: bool = False
    reason: str = ""


class Change(Outgoing):
    """One entry of the change feed: the request as it stood after change `seq`."""

    seq: int
    action: str
    request: Request


class ChangesPage(Outgoing):
    changes: list[Change]
    next_since: int  # pass as `since` for the next page
    head: int  # the newest sequence number the server had when it answered
    has_more: bool


class RequestStamp(Outgoing):
    """What the local cache needs of a pulled request before anyone reads it: which request,
    its state (the queues' index) and what orders its copies (change_seq, version). The rest
    of the request is checked as a `Request` when it is first read."""

    id: str
    state: State
    version: int = Field(ge=1)
    change_seq: int = Field(ge=0)


class ChangeStamp(Outgoing):
    """A `Change` as a pull reads it: the request checked only as a `RequestStamp`."""

    seq: int
    action: str
    request: RequestStamp


class StampedChangesPage(Outgoing):
    """A `ChangesPage` as a pull reads it (the same JSON): every field of the page and of each
    change is checked, each request only as a `RequestStamp`."""

    changes: list[ChangeStamp]
    next_since: int
    head: int
    has_more: bool


#: The media type of a change page sent as lines (`GET /v1/changes` with it in `Accept`).
CHANGE_LINES = "application/x-ndjson"


class ChangeLinesHead(Outgoing):
    """The first line of a change page sent as lines: the page without its requests, each
    change as `[seq, action]`. Each line after it is one request's JSON, in the same order
    (compact JSON holds no newline)."""

    next_since: int
    head: int
    has_more: bool
    changes: list[tuple[int, str]]


@dataclass(frozen=True, slots=True)
class PulledPage:
    """A page of the change feed as the sync engine pulls it, checked only for what the pull
    needs: change `seqs[i]` brought the request stamped `stamps[i]`, whose JSON as the server
    sent it (well-formed) is `requests[i]`. The local cache keeps the bytes and validates them
    as a `Request` when the request is first read."""

    seqs: list[int]
    stamps: list[RequestStamp]
    requests: list[bytes]
    next_since: int
    head: int
    has_more: bool


class Rates(Outgoing):
    """The three rates (三率), each with its numerator and denominator.

    response = dispatched requests signed for within the response window
               / dispatched requests whose response is known (signed for, or the window closed)
    resolution = valid callbacks answering solved / valid callbacks
    satisfaction = valid callbacks answering satisfied / valid callbacks
    A dispatch whose window is still open and that nobody has signed for yet is not counted
    (`response_pending`): it may still be answered in time. A valid callback is one that reached
    the citizen; per request only its latest counts. A rate is None when its denominator is zero.
    """

    dispatched: int
    #: Dispatched requests the response rate counts: signed for, or their window has closed.
    response_counted: int
    #: Dispatched requests not signed for whose response window is still open (not counted yet).
    response_pending: int
    responded_in_time: int
    valid_callbacks: int
    solved: int
    satisfied: int
    basically_satisfied: int
    response: float | None
    resolution: float | None
    satisfaction: float | None


class Stats(Outgoing):
    total: int
    by_state: dict[str, int]
    overdue: int
    rates: Rates
    answered_directly: int = 0  # closed at intake from the knowledge base (not in any rate)
    chases: int = 0  # 催办 on the requests counted
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    unit: str | None = None


class Identity(Outgoing):
    name: str
    role: Role
    unit: str | None = None  # the unit a `unit` token is bound to


class TokenCreated(Outgoing):
    name: str
    role: Role
    token: str
    unit: str | None = None


class TokenInfo(Outgoing):
    """A token as `GET /v1/tokens` lists it (never the token itself): its unique name, role, when
    it was made, last used (to the minute) and revoked."""

    name: str
    role: Role
    unit: str | None = None
    created_at: AwareDatetime
    last_used_at: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None


class ChangeNotice(Outgoing):
    """A server-sent `change` event: changes up to `seq` are ready to pull."""

    seq: int


class CarriedChangesPage(StampedChangesPage):
    """The data of a `changes` event as a client reads it: a `ChangesPage` (each request checked
    as a `RequestStamp`) that also says it holds every change after `since`."""

    since: int = Field(ge=0)


@dataclass(frozen=True, slots=True)
class CarriedPage:
    """A server-sent `changes` event: `page` holds every change after `since`, up to `seq`."""

    since: int
    page: PulledPage

    @property
    def seq(self) -> int:
        """The newest seq the event brings (its id)."""
        return self.page.next_since


def now_utc() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
