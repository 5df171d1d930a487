"""Deterministic demo data: a month of hotline requests at 德胜街道 and their histories.

`demo_requests(seed, count, now)` builds the requests (callers, places and words drawn from
`seed_data`) and, for each, the dispatcher and unit actions that walk it through the real state
machine (`seed_history`). Nothing reads the clock: the same `seed`, `count` and `now` give the
same output.

`seed_store(store, ...)` writes them through the `Store` protocol, in time order across all
requests, so the audit trail and the change feed are real.

Requests arrive over the last 30 days with daily peaks at 09–11 and 14–16 (Beijing time), plus a
two-day surge that fits the season of `now`: a rainstorm in summer (roof leaks, waterlogging), a
cold wave in winter (heating, burst pipes), a gale in spring and autumn (fallen trees).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from api_client.actions import Merge
from api_client.domain.lifecycle import apply_action, intake
from api_client.models import (
    CallerIn,
    Community,
    LocationIn,
    NewRequest,
    Request,
    RequestType,
    Tier,
)
from central_api.catalogue import (
    COMMUNITIES,
    COMMUNITY_CENTRES,
    STREET_OFFICE,
    category_by_code,
)
from central_api.knowledge_seed import seed_knowledge
from central_api.knowledge_store import KnowledgeStore
from central_api.seed_data import (
    BACKLOG_SHARE,
    BACKLOG_WINDOW,
    BASE_CATEGORY_WEIGHTS,
    BEIJING,
    CALL_TAKERS,
    CHANNEL_WEIGHTS,
    CHANNELS,
    CLOSINGS,
    COMMUNITY_WEIGHTS,
    COMPLAINTS,
    DAYS,
    HISTORY,
    HOUR_WEIGHTS,
    HOURS,
    MOBILE_PREFIXES,
    NIGHT,
    OPENINGS,
    SPOTS,
    SURGES,
    SURNAMES,
    TEMPLATES,
    TIMES,
    VULNERABLE,
    VULNERABLE_URGENT,
)
from central_api.seed_history import KNOWN_UNITS, DemoStep, Walk, history
from central_api.store import Store

__all__ = [
    "BEIJING",
    "DemoRequest",
    "DemoStep",
    "coords",
    "demo_events",
    "demo_requests",
    "initial_request",
    "replay",
    "request_type",
    "seed_store",
]


@dataclass
class DemoRequest:
    """A demo request: its intake and the actions that follow it, oldest first.

    `ref` names the request inside one generated batch; a `Merge` step's `parent_id` is the
    parent's `ref` (the store's id is not known yet) and `seed_store` swaps in the real id.
    """

    ref: str
    actor: str  # the call-taker who recorded it
    new: NewRequest
    steps: list[DemoStep] = field(default_factory=list)


# --------------------------------------------------------------------------- generation


def demo_requests(seed: int, count: int, now: datetime) -> list[DemoRequest]:
    """`count` demo requests received before `now`, oldest first, with their histories.

    Deterministic: the same arguments give equal output. `now` must carry a timezone; every
    step happens at or before `now`.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a timezone")
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)
    gen = _Generator(rng, seed, now)
    return [gen.request(i, at) for i, at in enumerate(gen.arrival_times(count))]


class _Generator:
    def __init__(self, rng: random.Random, seed: int, now: datetime) -> None:
        self.rng = rng
        self.seed = seed
        self.now = now
        self.local_now = now.astimezone(BEIJING)
        month = self.local_now.month
        self.surge = "rainstorm" if 5 <= month <= 9 else "cold_wave" if month in (11, 12, 1, 2, 3) else "gale"
        # the surge: two days, starting mid-afternoon 8..20 days ago
        start_day = (self.local_now - timedelta(days=rng.randint(8, 20))).date()
        self.surge_start = datetime.combine(start_day, time(15, 0), BEIJING)
        self.surge_end = self.surge_start + timedelta(days=2)
        #: recent requests that later ones may duplicate
        self.recent: list[_Recent] = []
        #: callers who call again (one person, many complaints)
        self.regulars: list[tuple[str, str, str, str]] = []  # (name, phone, community, category)

    # ---- arrival times

    def arrival_times(self, count: int) -> list[datetime]:
        rng = self.rng
        times: list[datetime] = []
        for _ in range(count):
            roll = rng.random()
            if roll < BACKLOG_SHARE:  # this shift's incoming queue, still to triage
                at = self.now - timedelta(seconds=rng.uniform(60, BACKLOG_WINDOW.total_seconds()))
            elif roll < BACKLOG_SHARE + 0.15:
                at = self.surge_start + timedelta(seconds=rng.uniform(0, 2 * 86400))
                # more calls while it lasts in the evening and next morning, fewer deep at night
                if at.hour in (1, 2, 3, 4) and rng.random() < 0.6:
                    at += timedelta(hours=6)
            else:
                at = self._ordinary_time()
            at = min(at, self.now - timedelta(minutes=1))
            times.append(at.replace(microsecond=0))
        times.sort()
        return times

    def _ordinary_time(self) -> datetime:
        rng = self.rng
        for _ in range(50):
            day = (self.local_now - timedelta(days=rng.randrange(HISTORY.days))).date()
            hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            at = datetime.combine(day, time(hour), BEIJING) + timedelta(seconds=rng.randrange(3600))
            if at < self.now - timedelta(minutes=2):
                return at
        return self.now - timedelta(minutes=rng.randint(2, 600))

    # ---- one request

    def in_surge(self, at: datetime) -> bool:
        return self.surge_start <= at < self.surge_end

    def pick_category(self, at: datetime) -> str:
        rng = self.rng
        if self.in_surge(at) and rng.random() < 0.8:
            weights = SURGES[self.surge]
            return rng.choices(list(weights), weights=list(weights.values()))[0]
        month = at.astimezone(BEIJING).month
        base = dict(BASE_CATEGORY_WEIGHTS)
        if month in (11, 12, 1, 2, 3):
            base["heating"] = 8
        if 6 <= month <= 9:
            base["roof_leak"] = 6
            base["waterlogging"] = 3
            base["pest"] = 3
        return rng.choices(list(base), weights=list(base.values()))[0]

    def request(self, index: int, received: datetime) -> DemoRequest:
        rng = self.rng
        ref = f"demo-{self.seed}-{index:05d}"
        duplicate_of = self._duplicate_candidate(received)
        parent_ref: str | None = None
        if duplicate_of is not None:
            parent_ref, category, addr = duplicate_of.ref, duplicate_of.category, duplicate_of.address
            community = duplicate_of.community
        else:
            category = self.pick_category(received)
            community = rng.choices(COMMUNITIES, weights=COMMUNITY_WEIGHTS)[0]
            addr = _address(rng, community.streets)
        channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
        vulnerable = rng.random() < 0.08
        name, phone = self._caller(community.id, category)
        text = self._description(category, community.name, addr, vulnerable)
        lat, long = coords(community.id, addr.building)
        req_type = request_type(rng, category)
        cat = category_by_code(category)
        assert cat is not None
        tier: Tier | None = None
        if vulnerable and category in VULNERABLE_URGENT and rng.random() < 0.5:
            tier = Tier.h2  # an elderly person alone: treat as an emergency
        new = NewRequest(
            channel=channel,
            type=req_type,
            category=category,
            description=text,
            location=LocationIn(
                street=STREET_OFFICE, community=community.id, address=addr.full, lat=lat, long=long
            ),
            caller=CallerIn(name=name, phone=phone),
            vulnerable=vulnerable,
            received_at=received,
            tier=tier,
        )
        demo = DemoRequest(ref=ref, actor=rng.choice(CALL_TAKERS), new=new)
        walk = Walk(self.now)
        history(rng, walk, new, tier or cat.tier, parent_ref)
        demo.steps = walk.steps
        if parent_ref is None:
            self.recent.append(_Recent(ref, received, category, community, addr))
            del self.recent[:-60]
        return demo

    def _duplicate_candidate(self, received: datetime) -> _Recent | None:
        rng = self.rng
        chance = 0.14 if self.in_surge(received) else 0.015
        if not self.recent or rng.random() >= chance:
            return None
        window = [r for r in self.recent[-30:] if received - r.received <= timedelta(hours=48)]
        return rng.choice(window) if window else None

    def _caller(self, community: str, category: str) -> tuple[str, str]:
        rng = self.rng
        if self.regulars and rng.random() < 0.04:
            same = [r for r in self.regulars if r[2] == community] or self.regulars
            regular = rng.choice(same)
            return regular[0], regular[1]
        surname = rng.choice(SURNAMES)
        title = rng.choices(["女士", "先生", "阿姨", "大爷"], weights=[46, 46, 4, 4])[0]
        name = "" if rng.random() < 0.02 else surname + title
        phone = rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
        if name and rng.random() < 0.03:
            self.regulars.append((name, phone, community, category))
        return name, phone

    def _description(self, category: str, community: str, addr: _Address, vulnerable: bool) -> str:
        rng = self.rng
        slots = {
            "addr": addr.full,
            "bld_addr": addr.building,
            "place": addr.street,
            "floor": addr.floor or rng.randint(2, 6),
            "spot": rng.choice(SPOTS),
            "days": rng.choice(DAYS),
            "hours": rng.choice(HOURS),
            "time": rng.choice(TIMES),
            "night": rng.choice(NIGHT),
            "temp": rng.randint(12, 16),
            "age": rng.randint(68, 91),
            "community": community,
        }
        body = rng.choice(TEMPLATES[category]).format(**slots)
        opening = rng.choice(OPENINGS).format(**slots)
        closing = rng.choice(CLOSINGS)
        extra = rng.choice(VULNERABLE) if vulnerable else ""
        return f"{opening}{body}{extra}{closing}"


@dataclass(frozen=True)
class _Recent:
    ref: str
    received: datetime
    category: str
    community: Community
    address: _Address


@dataclass(frozen=True)
class _Address:
    full: str  # down to the flat
    building: str  # down to the building
    street: str
    floor: int


def _address(rng: random.Random, streets: Sequence[str]) -> _Address:
    street = rng.choice(list(streets))
    compound = any(k in street for k in ("里", "院", "小区", "家园", "村", "丽景"))
    if compound:
        building = f"{street}{rng.randint(1, 24)}号楼"
        floors = rng.choice([5, 6, 6, 6, 16, 18, 22])
        floor = rng.randint(1, floors)
        unit = rng.randint(1, 6 if floors <= 6 else 3)
        full = f"{building}{unit}单元{floor}{rng.randint(1, 4):02d}"
        return _Address(full, f"{building}{unit}单元", street, floor)
    number = rng.randint(1, 120)
    if rng.random() < 0.5:
        building = f"{street}{number}号院{rng.randint(1, 8)}号楼"
        floor = rng.randint(1, 6)
        return _Address(f"{building}{floor}{rng.randint(1, 4):02d}", building, street, floor)
    return _Address(f"{street}{number}号", f"{street}{number}号", street, 1)


def coords(community: str, building: str) -> tuple[float, float]:
    """A stable point near the community centre: the same building always lands on the same spot."""
    lat, long = COMMUNITY_CENTRES[community]
    jitter = random.Random(f"{community}/{building}")
    return round(lat + jitter.uniform(-0.0018, 0.0018), 6), round(long + jitter.uniform(-0.0022, 0.0022), 6)


def request_type(rng: random.Random, category: str) -> RequestType:
    if category == "policy_enquiry":
        return RequestType.enquiry
    if category == "illegal_construction":
        return RequestType.tip_off if rng.random() < 0.6 else RequestType.complaint
    if category in COMPLAINTS:
        return RequestType.complaint if rng.random() < 0.85 else RequestType.help
    roll = rng.random()
    if roll < 0.02 and category in ("tree", "parking", "old_renovation", "street_light", "road_damage"):
        return RequestType.suggestion
    if roll < 0.06:
        return RequestType.enquiry
    if roll < 0.12:
        return RequestType.complaint
    return RequestType.help


def initial_request(new: NewRequest, request_id: str, *, version: int = 1) -> Request:
    """The request as a store holds it right after intake (state new, due = received + tier)."""
    assert new.received_at is not None
    cat = category_by_code(new.category)
    tier = new.tier or (cat.tier if cat is not None else Tier.d7)
    return intake(new, request_id=request_id, tier=tier, now=new.received_at).model_copy(
        update={"version": version}
    )


def replay(demo: DemoRequest, request_id: str | None = None) -> Request:
    """The request after all its steps, applied with `apply_action` at each step's time.

    Raises `TransitionRefused` if a step is not allowed (which would be a bug here).
    """
    request = initial_request(demo.new, request_id or demo.ref)
    for step in demo.steps:
        request = apply_action(request, step.action, actor=step.actor, now=step.at, known_units=KNOWN_UNITS)
    return request


def demo_events(demos: Sequence[DemoRequest]) -> list[tuple[datetime, int, int]]:
    """Every write of `demos` in the order a store receives it: (time, index of the request,
    index of its step or -1 for the intake), oldest first, across all requests."""
    events: list[tuple[datetime, int, int]] = []
    for i, demo in enumerate(demos):
        assert demo.new.received_at is not None
        events.append((demo.new.received_at, i, -1))
        events.extend((step.at, i, j) for j, step in enumerate(demo.steps))
    events.sort()
    return events


def seed_store(
    store: Store,
    *,
    seed: int = 12345,
    count: int = 2000,
    now: datetime | None = None,
    backdate: bool = True,
) -> int:
    """Write `count` demo requests and their histories into `store`, with the street's gazetteer
    (`places_seed.demo_places`, replacing the store's); return how many requests were created.

    Every intake and action goes through the `Store` protocol (`create_request`, then `apply`
    with `if_match` = the version just returned), interleaved across requests in time order
    (`demo_events`), so the change feed reads like a month of real work.

    All writes are one transaction (`store.batch()`). With `backdate` (the default) the store's
    clock is set to each step's time while it is written, so state timestamps
    (dispatched_at, accepted_at, callbacks ...), audit times and the three rates are those of
    the demo history rather than all "now"; it is restored afterwards. Seed before serving:
    other writes made meanwhile would be stamped with demo times too.

    Seeding the same store twice adds the requests again (no idempotency keys are used).
    `central_api.seed_bulk` writes the same rows into a new database much faster.
    """
    now = now or datetime.now(UTC)
    demos = demo_requests(seed, count, now)
    original_clock = store.clock
    moment = [now]
    if backdate:
        store.clock = lambda: moment[0]
    ids: dict[str, str] = {}
    versions: dict[int, int] = {}
    from central_api.places_seed import demo_places  # (it reads `coords` of this module)

    try:
        with store.batch():
            store.set_places(demo_places())
            for at, i, j in demo_events(demos):
                moment[0] = at.astimezone(UTC)
                demo = demos[i]
                if j < 0:
                    created = store.create_request(demo.new, actor=demo.actor, idempotency_key=None).request
                    ids[demo.ref] = created.id
                    versions[i] = created.version
                else:
                    step = demo.steps[j]
                    action = step.action
                    if isinstance(action, Merge):
                        action = Merge(parent_id=ids[action.parent_id])
                    outcome = store.apply(
                        ids[demo.ref], action, actor=step.actor, if_match=versions[i], idempotency_key=None
                    )
                    versions[i] = outcome.request.version
            if isinstance(store, KnowledgeStore):
                moment[0] = now.astimezone(UTC)
                seed_knowledge(store)
    finally:
        store.clock = original_clock
    return len(demos)
