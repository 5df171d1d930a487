"""The request state machine: every transition, every refusal, nothing changed on refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from api_client.actions import (
    ACTION_ADAPTER,
    Accept,
    AddNote,
    Close,
    Dispatch,
    Escalate,
    Extend,
    LogCallback,
    Merge,
    Reopen,
    Resolve,
    Return,
    Unmerge,
)
from api_client.domain.lifecycle import (
    ALLOWED_FROM,
    TransitionRefused,
    allowed_actions,
    apply_action,
    intake,
    resolve_with_parent,
)
from api_client.models import (
    Caller,
    Channel,
    Location,
    NewRequest,
    Request,
    RequestType,
    Satisfaction,
    State,
    Tier,
)

T0 = datetime(2026, 7, 30, 9, 0, tzinfo=UTC)
UNITS = {"u-housing", "u-property", "u-c01"}


def a_request(state: State = State.new, **fields: object) -> Request:
    base = Request(
        id="R1",
        received_at=T0,
        channel=Channel.phone,
        type=RequestType.help,
        category="roof_leak",
        description="屋顶漏雨",
        location=Location(street="德胜门外大街", community="c01", address="新外大街28号院6号楼"),
        caller=Caller(name="王大爷", phone="13800001234"),
        tier=Tier.h24,
        due_at=T0 + timedelta(hours=24),
        state=state,
        version=1,
        change_seq=1,
    )
    return base.model_copy(update=fields)


def step(req: Request, action: object, minutes: int = 1) -> Request:
    return apply_action(req, action, actor="disp-1", now=T0 + timedelta(minutes=minutes), known_units=UNITS)  # type: ignore[arg-type]


def test_full_lifecycle_to_closed() -> None:
    r = step(a_request(), Dispatch(lead_unit="u-housing", co_units=["u-property", "u-c01"]))
    assert (r.state, r.lead_unit, r.co_units, r.version) == (
        State.dispatched,
        "u-housing",
        ["u-property", "u-c01"],
        2,
    )
    r = step(r, Accept())
    assert r.state is State.accepted and r.accepted_at is not None
    r = step(r, Resolve(summary="已修缮"))
    assert r.state is State.resolved
    r = step(r, LogCallback(reached=True, solved=True, satisfaction=Satisfaction.satisfied))
    assert r.state is State.closed and r.closed_at is not None
    assert r.version == 5 and r.callbacks[0].by == "disp-1"


def test_unsatisfied_callback_waits_then_reopens() -> None:
    r = a_request(State.resolved, lead_unit="u-housing")
    r = step(r, LogCallback(reached=False))
    assert r.state is State.resolved and len(r.callbacks) == 1  # attempt recorded, no state change
    r = step(r, LogCallback(reached=True, solved=False, satisfaction=Satisfaction.not_satisfied))
    assert r.state is State.callback_logged
    r = step(r, Reopen(reason="群众反映仍漏水"))
    assert r.state is State.reopened and r.resolved_at is None
    r = step(r, Accept())
    assert r.state is State.accepted


def test_close_after_logged_callback_or_unreachable_citizen() -> None:
    r = step(a_request(State.callback_logged), Close(reason="诉求不合理，已解释"))
    assert r.state is State.closed
    r = step(a_request(State.resolved), Close(reason="三次回访未接通"))
    assert r.state is State.closed


def test_reopen_gives_a_fresh_deadline() -> None:
    r = step(a_request(State.closed), Reopen(reason="仍漏水"), minutes=60 * 24 * 5)
    assert r.due_at == T0 + timedelta(days=5) + r.tier.duration


def test_return_clears_units_and_keeps_reason() -> None:
    r = a_request(State.dispatched, lead_unit="u-housing", co_units=["u-c01"])
    r = step(r, Return(reason="非本单位职责"))
    assert (r.state, r.lead_unit, r.co_units, r.return_reason) == (State.returned, None, [], "非本单位职责")
    assert step(r, Dispatch(lead_unit="u-property")).state is State.dispatched


def test_extend_needs_a_later_due_time() -> None:
    r = a_request(State.accepted, lead_unit="u-housing")
    later = r.due_at + timedelta(days=3)
    assert step(r, Extend(reason="需协调产权单位", new_due_at=later)).due_at == later
    with pytest.raises(TransitionRefused, match="must be later"):
        step(r, Extend(reason="x", new_due_at=r.due_at - timedelta(hours=1)))


def test_merge_and_unmerge_restore_the_state() -> None:
    r = step(a_request(State.dispatched, lead_unit="u-housing"), Merge(parent_id="R0"))
    assert (r.state, r.merged_into, r.state_before_merge) == (State.merged, "R0", State.dispatched)
    r = step(r, Unmerge())
    assert (r.state, r.merged_into) == (State.dispatched, None)
    with pytest.raises(TransitionRefused, match="itself"):
        step(a_request(), Merge(parent_id="R1"))


def test_a_merged_request_is_resolved_with_its_parent_only() -> None:
    parent = a_request(State.resolved, id="P1")
    child = apply_action(a_request(id="C1"), Merge(parent_id="P1"), actor="a", now=T0)
    later = T0 + timedelta(hours=1)
    resolved = resolve_with_parent(child, parent, now=later)
    assert resolved.state is State.resolved and resolved.resolved_at == later
    assert resolved.merged_into == "P1" and resolved.version == child.version + 1
    with pytest.raises(TransitionRefused):  # not merged into this parent
        resolve_with_parent(child, a_request(State.resolved, id="P2"), now=later)
    with pytest.raises(TransitionRefused):  # the parent is not resolved
        resolve_with_parent(child, a_request(State.accepted, id="P1"), now=later)
    for handled in (State.callback_logged, State.closed):  # merged after the parent was handled
        assert resolve_with_parent(child, a_request(handled, id="P1"), now=later).state is State.resolved
    with pytest.raises(TransitionRefused):  # no longer merged
        resolve_with_parent(apply_action(child, Unmerge(), actor="a", now=T0), parent, now=later)


def test_note_is_allowed_in_every_state() -> None:
    for state in State:
        r = step(a_request(state), AddNote(text="已电话联系"))
        assert r.state is state and r.notes[-1].text == "已电话联系"


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.new, Accept()),
        (State.new, Resolve()),
        (State.closed, Dispatch(lead_unit="u-housing")),
        (State.dispatched, LogCallback(reached=True, solved=True, satisfaction=Satisfaction.satisfied)),
        (State.merged, Dispatch(lead_unit="u-housing")),
        (State.accepted, Close()),
    ],
)
def test_invalid_transitions_are_refused_with_the_reason(state: State, action: object) -> None:
    with pytest.raises(TransitionRefused, match=f"it is {state.value}"):
        step(a_request(state, lead_unit="u-housing"), action)


def test_unknown_units_are_refused() -> None:
    with pytest.raises(TransitionRefused, match="unknown unit: u-nowhere"):
        step(a_request(), Dispatch(lead_unit="u-housing", co_units=["u-nowhere"]))


@pytest.mark.parametrize(
    "body",
    [
        {"action": "return"},
        {"action": "return", "reason": "   "},
        {"action": "extend", "reason": "x"},
        {"action": "extend", "new_due_at": "2026-08-01T00:00:00+00:00"},
        {"action": "extend", "reason": "x", "new_due_at": "2026-08-01T00:00:00"},
        {"action": "reopen", "reason": ""},
        {"action": "callback", "reached": True},
        {"action": "callback", "reached": False, "solved": True},
        {"action": "dispatch", "lead_unit": "u1", "co_units": ["u1"]},
        {"action": "dispatch", "lead_unit": "u1", "extra": 1},
        {"action": "fly"},
    ],
)
def test_action_bodies_are_validated(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ACTION_ADAPTER.validate_python(body)


def test_allowed_actions_matches_the_table() -> None:
    assert set(allowed_actions(State.new)) == {"dispatch", "merge", "escalate", "note"}
    assert all(State.closed not in ALLOWED_FROM[a] for a in ("dispatch", "accept", "resolve", "callback"))


def test_escalate_shortens_the_tier_and_brings_the_deadline_forward() -> None:
    now = datetime(2026, 7, 30, 15, 0, tzinfo=UTC)
    request = intake(
        NewRequest(
            channel=Channel.phone,
            type=RequestType.help,
            category="roof_leak",
            description="顶楼漏雨",
            location=Location(community="c01"),
            received_at=now - timedelta(hours=1),
        ),
        request_id="R-1",
        tier=Tier.h24,
        now=now - timedelta(hours=1),
    )
    escalated = apply_action(request, Escalate(reason="一栋楼多户进水"), actor="张敏", now=now)
    assert escalated.tier is Tier.h2 and escalated.due_at == now + timedelta(hours=2)
    assert escalated.state is State.new and escalated.version == request.version + 1
    with pytest.raises(TransitionRefused):  # not to the same or a longer tier
        apply_action(escalated, Escalate(tier=Tier.h2, reason="again"), actor="张敏", now=now)
