"""The `Report` (pydantic, JSON-serialisable) and its parts; `LocalData` and `ServerNumbers`, what
it is built from. `tui.core.report.analytics` defines every number."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import AwareDatetime, BaseModel

from api_client.models import Rates, Request, Stats
from tui.core.report.periods import Period

__all__ = [
    "Count",
    "HotPair",
    "LocalData",
    "PeriodRates",
    "Repeat",
    "Report",
    "ServerNumbers",
    "ShiftChanges",
    "Trend",
    "UnitRow",
]


class Count(BaseModel):
    """A count under a key (a state, category, community or unit id) with its display name."""

    key: str
    name: str
    count: int


class PeriodRates(BaseModel):
    period: Period
    since: AwareDatetime
    total: int
    rates: Rates


class UnitRow(BaseModel):
    """One unit: this month's server numbers and the overdue requests it leads now (local)."""

    unit: str
    name: str
    total: int
    overdue: int
    rates: Rates | None  # None offline
    chases: int = 0  # 催办 on its requests this month (server; 0 offline)


class HotPair(BaseModel):
    category: str
    category_name: str
    community: str
    community_name: str
    count: int  # in the hot-spot window
    last_week: int  # received in the last 7 days
    week_before: int  # received in the 7 days before those


class Repeat(BaseModel):
    """An address or a caller that recurs: what is shown, how often, by how many people."""

    shown: str  # the address as first written, or the masked phone and the caller's name
    community_name: str
    count: int
    people: int  # distinct callers (phones) for an address; distinct categories for a caller
    ids: list[str]  # the newest few


class Trend(BaseModel):
    start: AwareDatetime
    step: Literal["hour", "day"]
    counts: list[int]


class ShiftChanges(BaseModel):
    since: AwareDatetime
    received: int
    dispatched: int
    resolved: int
    closed: int


class Report(BaseModel):
    generated_at: AwareDatetime
    server: str
    dispatcher: str
    online: bool  # the server's numbers are in
    rates_missing: str  # why not (empty when online)
    periods: list[PeriodRates]
    units: list[UnitRow]
    cached: int
    by_state: list[Count]
    by_category: list[Count]
    by_community: list[Count]
    overdue: int
    overdue_by_unit: list[Count]
    unsent: int
    conflicts: list[str]  # the request ids with a conflict
    hot_pairs: list[HotPair]
    hot_addresses: list[Repeat]
    hot_callers: list[Repeat]
    hourly: Trend
    daily: Trend
    shift: ShiftChanges


@dataclass(slots=True)
class LocalData:
    """Every cached request as the dispatcher sees it, the unsent actions and the conflicts."""

    requests: list[Request]
    unsent: int = 0
    conflicts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ServerNumbers:
    """`/v1/stats` for each period and `/v1/stats/units` for this month."""

    periods: dict[Period, Stats]
    units: list[Stats]
