"""What happens to a demo request after intake: the dispatcher's and the units' actions, each a
step of the real state machine under its workflow rules, stopping at the first one after `now`.

Dispatch to the suggested units (a lead and sometimes co-units, 吹哨报到), sign-for, notes,
returns by the wrong owner (with a reason code), extensions, resolution with a reply, callbacks
(≈97 % solved, ≈99 % satisfied among valid callbacks), re-handling after an unsolved or
unsatisfied callback (the callback reopens the request by itself), closing as unreachable after
three unreached callbacks, and merging of duplicates into an earlier request.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from api_client.actions import (
    Accept,
    Action,
    AddNote,
    Close,
    CloseCode,
    Dispatch,
    Extend,
    LogCallback,
    Merge,
    Reopen,
    Resolve,
    Return,
    ReturnCode,
)
from api_client.domain import bounds
from api_client.domain.deadlines import response_window
from api_client.models import NewRequest, Satisfaction, Tier
from central_api.catalogue import FALLBACK_UNIT, UNITS, community_office, suggested_units
from central_api.seed_data import (
    BACKLOG_WINDOW,
    BEIJING,
    CALLBACK_AGENTS,
    CLOSE_REASONS,
    DISPATCHERS,
    EXTEND_REASONS,
    GENERIC_SUMMARIES,
    NOTES,
    REOPEN_REASONS,
    RETURN_REASONS,
    SUMMARIES,
    UNREACHED_NOTES,
    WHISTLE,
)

#: Every unit's id, for the state machine's check of dispatch targets.
KNOWN_UNITS = [u.id for u in UNITS]
_ON_DUTY = {u.id: u.on_duty for u in UNITS}
#: The code of each return reason the demo units give (`other` for one not listed).
_RETURN_CODES = dict(
    zip(
        RETURN_REASONS,
        [
            ReturnCode.not_our_duty,
            ReturnCode.not_our_duty,
            ReturnCode.wrong_address,
            ReturnCode.needs_other_unit,
        ],
        strict=False,
    )
)


@dataclass(frozen=True)
class DemoStep:
    """One action on a demo request: when, by whom, what."""

    at: datetime
    actor: str
    action: Action


class Walk:
    """Collects steps until one would fall after `now`."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.steps: list[DemoStep] = []
        self.at: datetime | None = None

    def step(self, at: datetime, actor: str, action: Action) -> bool:
        """Record the step; False (and nothing recorded) when it lies in the future."""
        if self.at is not None and at < self.at:
            at = self.at
        at = at.replace(microsecond=0)
        if at > self.now:
            return False
        self.steps.append(DemoStep(at=at, actor=actor, action=action))
        self.at = at
        return True


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def _office_hours(rng: random.Random, at: datetime, start: int = 8, end: int = 20) -> datetime:
    """`at`, or the next morning's office hours when it falls at night (Beijing time)."""
    local = at.astimezone(BEIJING)
    if local.hour < start:
        local = datetime.combine(local.date(), time(start), BEIJING)
    elif local.hour >= end:
        local = datetime.combine(local.date() + timedelta(days=1), time(start), BEIJING)
    else:
        return at
    return (local + _minutes(rng, 0, 90)).astimezone(at.tzinfo)


def _lead_and_co(
    rng: random.Random, category: str, community: str, vulnerable: bool
) -> tuple[str, list[str]]:
    units = [u for u in suggested_units(category, community) if _ON_DUTY[u]]
    specific = [u for u in units if u != FALLBACK_UNIT] or [FALLBACK_UNIT]
    lead = specific[0]
    co: list[str] = []
    if category in WHISTLE and rng.random() < 0.4:
        pool = [u for u in specific[1:] if u != lead]
        co = pool[: rng.randint(1, 3)]
    office = community_office(community)
    if (
        vulnerable
        and office
        and _ON_DUTY.get(office)
        and office != lead
        and office not in co
        and rng.random() < 0.6
    ):
        co.append(office)
    return lead, co


def _wrong_unit(rng: random.Random, category: str, community: str, right: str) -> str:
    wrong = [
        u
        for u in KNOWN_UNITS
        if u != right and _ON_DUTY[u] and u not in suggested_units(category, community) and u != FALLBACK_UNIT
    ]
    return rng.choice(wrong) if wrong else FALLBACK_UNIT


def history(rng: random.Random, walk: Walk, new: NewRequest, tier: Tier, parent_ref: str | None) -> None:
    """Append the steps that follow intake, stopping at the first one after `now`."""
    assert new.received_at is not None
    received = new.received_at
    category, community = new.category, new.location.community
    dispatcher = rng.choice(DISPATCHERS)
    urgent = tier is Tier.h2
    if received >= walk.now - BACKLOG_WINDOW and not urgent and rng.random() < 0.85:
        return  # waiting in the incoming queue for the dispatcher on shift

    # 派单: a few minutes after intake; ordinary orders wait for the morning shift
    if urgent:
        t = received + _minutes(rng, 3, 15)
    elif rng.random() < 0.7:
        t = received + _minutes(rng, 5, 50)
    else:  # waits in the pool for a while
        t = received + _minutes(rng, 60, 360)
    if not urgent:
        t = _office_hours(rng, t, 7, 22)
    lead, co = _lead_and_co(rng, category, community, new.vulnerable)

    if parent_ref is not None:
        # a duplicate of an earlier request: merged (often straight away, sometimes after dispatch)
        if rng.random() < 0.25 and not walk.step(t, dispatcher, Dispatch(lead_unit=lead)):
            return
        if rng.random() < 0.75:
            walk.step(t + _minutes(rng, 2, 60), dispatcher, Merge(parent_id=parent_ref))
            return
        # a duplicate nobody noticed is handled on its own

    if rng.random() < 0.06:
        # wrong owner: the unit hands it back (退单) and it goes out again
        wrong = _wrong_unit(rng, category, community, lead)
        if not walk.step(t, dispatcher, Dispatch(lead_unit=wrong)):
            return
        t += _minutes(rng, 15, 240)
        if rng.random() < 0.3:
            if not walk.step(t, wrong, Accept()):
                return
            t += _minutes(rng, 30, 300)
        reason = rng.choice(RETURN_REASONS)
        if not walk.step(t, wrong, Return(code=_RETURN_CODES.get(reason, ReturnCode.other), reason=reason)):
            return
        t += _minutes(rng, 10, 240)
    if not walk.step(t, dispatcher, Dispatch(lead_unit=lead, co_units=co)):
        return

    due = received + tier.duration
    for round_ in range(3):
        done = _handle(rng, walk, category, lead, tier, due, round_)
        if done is None:
            return
        t, due = done
        outcome = _callbacks(rng, walk, t, round_)
        if outcome is None:
            return
        t, closed = outcome
        if closed:
            if rng.random() < 0.006:  # the citizen calls again after closing
                t = _office_hours(rng, t + timedelta(hours=rng.uniform(12, 96)))
                if not walk.step(t, dispatcher, Reopen(reason=REOPEN_REASONS[2])):
                    return
                continue
            return
        # the callback was unsolved or unsatisfied: it reopened the request for re-handling
        last = walk.steps[-1].action
        assert isinstance(last, LogCallback)
        unhappy = last.satisfaction is Satisfaction.not_satisfied
        rehandle = rng.random() < (0.85 if unhappy else 0.35) and round_ < 2
        t += _minutes(rng, 10, 180)
        if rehandle:  # the dispatcher notes why it went back; the units handle it again
            if not walk.step(t, dispatcher, AddNote(text=rng.choice(REOPEN_REASONS[:2]))):
                return
            continue
        _explained(walk, lead, t, rng.choice(CLOSE_REASONS))
        return


def _handle(
    rng: random.Random, walk: Walk, category: str, lead: str, tier: Tier, due: datetime, round_: int
) -> tuple[datetime, datetime] | None:
    """签收, maybe notes and 延期, then 办结. Returns (resolved at, due) or None when cut off by `now`."""
    assert walk.at is not None
    t = walk.at
    if round_ > 0:  # reopened: the state machine gave a fresh deadline of the tier, about now
        due = t + tier.duration
    window = response_window(tier)
    if rng.random() < 0.95:
        t += timedelta(seconds=rng.uniform(120, window.total_seconds() * 0.9))
    else:
        t += window + _minutes(rng, 5, 180)
    if not walk.step(t, lead, Accept()):
        return None
    if rng.random() < 0.3:
        t += _minutes(rng, 5, 120)
        if not walk.step(t, lead, AddNote(text=rng.choice(NOTES))):
            return None
    extend_chance = {Tier.h2: 0.0, Tier.h24: 0.03, Tier.d7: 0.07, Tier.d15: 0.25}[tier]
    if rng.random() < extend_chance and due - t > timedelta(hours=1):  # 延期 is asked before the deadline
        before_due = t + (due - t) * rng.uniform(0.3, 0.9)
        new_due = due + (timedelta(days=2) if tier is Tier.h24 else timedelta(days=7))
        if not walk.step(before_due, lead, Extend(reason=rng.choice(EXTEND_REASONS), new_due_at=new_due)):
            return None
        t, due = before_due, new_due
    # 办结: mostly in time, some late
    remaining = max(due - t, timedelta(minutes=20))
    if rng.random() < 0.93:
        t += timedelta(seconds=remaining.total_seconds() * rng.uniform(0.15, 0.95))
    else:
        t = max(t, due) + timedelta(seconds=tier.duration.total_seconds() * rng.uniform(0.05, 0.5))
    summary = rng.choice(SUMMARIES.get(category, GENERIC_SUMMARIES))
    if not walk.step(t, lead, Resolve(summary=summary)):
        return None
    return t, due


def _callbacks(rng: random.Random, walk: Walk, t: datetime, round_: int) -> tuple[datetime, bool] | None:
    """回访 after 办结: maybe unreached attempts, then one reached callback.

    Returns (time, closed) — closed when the reached callback closed the request by itself —
    or None when cut off by `now` or when the citizen was never reached.
    """
    agent = rng.choice(CALLBACK_AGENTS)
    t = _office_hours(rng, t + _minutes(rng, 60, 1440), 9, 19)
    attempts = 0
    while rng.random() < 0.06:
        if not walk.step(t, agent, LogCallback(reached=False, note=rng.choice(UNREACHED_NOTES))):
            return None
        attempts += 1
        if attempts >= 2 and rng.random() < 0.5:
            _unreachable(walk, agent, t, attempts)  # never reached: closed as unreachable
            return None
        t = _office_hours(rng, t + _minutes(rng, 180, 1440), 9, 19)
    solved_roll, happy_roll = rng.random(), rng.random()
    first = round_ == 0
    solved = solved_roll < (0.955 if first else 0.9)
    if solved:
        satisfaction = (
            Satisfaction.satisfied
            if happy_roll < 0.992
            else Satisfaction.basically
            if happy_roll < 0.996
            else Satisfaction.not_satisfied
        )
    else:
        satisfaction = (
            Satisfaction.satisfied
            if happy_roll < 0.8
            else Satisfaction.basically
            if happy_roll < 0.9
            else Satisfaction.not_satisfied
        )
    note = "诉求人表示问题已解决。" if solved else "诉求人表示问题尚未解决。"
    callback = LogCallback(reached=True, solved=solved, satisfaction=satisfaction, note=note)
    if not walk.step(t, agent, callback):
        return None
    closes = solved and satisfaction in (Satisfaction.satisfied, Satisfaction.basically)
    return t, closes


def _aside(walk: Walk, at: datetime) -> random.Random:
    """A generator of its own for steps the main one never drew (so the requests generated after
    this one stay as they were), the same for the same request."""
    return random.Random(f"{at.isoformat()}/{len(walk.steps)}")


def _explained(walk: Walk, lead: str, t: datetime, explanation: str) -> None:
    """After an unsolved or unsatisfied callback the centre explains rather than re-handles: the
    lead unit signs for the reopened request and replies with the explanation; called back, the
    citizen has understood it and declines to be asked again, which the callback agent closes it
    with (the unsolved callback stays the latest valid one, as the rates count it)."""
    rng = _aside(walk, t)
    t = _office_hours(rng, t + _minutes(rng, 20, 120))
    if not walk.step(t, lead, Accept()):
        return
    t = _office_hours(rng, t + _minutes(rng, 60, 1440))
    if not walk.step(t, lead, Resolve(summary=explanation)):
        return
    t = _office_hours(rng, t + _minutes(rng, 60, 1440), 9, 19)
    reason = "诉求人表示已清楚答复内容，不再评价。"
    walk.step(t, rng.choice(CALLBACK_AGENTS), Close(code=CloseCode.declined, reason=reason))


def _unreachable(walk: Walk, agent: str, t: datetime, attempts: int) -> None:
    """The callbacks that never reach the citizen go on until there are enough to close the request
    as unreachable (`bounds.MIN_UNREACHED_CALLBACKS`), then it is closed so."""
    rng = _aside(walk, t)
    while attempts < bounds.MIN_UNREACHED_CALLBACKS:
        t = _office_hours(rng, t + _minutes(rng, 180, 1440), 9, 19)
        if not walk.step(t, agent, LogCallback(reached=False, note=rng.choice(UNREACHED_NOTES))):
            return
        attempts += 1
    t += _minutes(rng, 10, 120)
    reason = f"回访 {attempts} 次均未联系上诉求人。"
    walk.step(t, agent, Close(code=CloseCode.unreachable, reason=reason))
