"""The request state machine: every transition, every refusal, nothing changed on refusal; the
workflow rules; the history every step appends, and its bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from api_client.actions import (
    ACTION_ADAPTER,
    Accept,
    Action,
    AddNote,
    AnswerDirectly,
    Chase,
    Close,
    CloseCode,
    Dispatch,
    Escalate,
    Extend,
    LogCallback,
    Merge,
    Reopen,
    Resolve,
    Return,
    ReturnCode,
    Unmerge,
)
from api_client.domain import bounds
from api_client.domain.lifecycle import (
    ALLOWED_FROM,
    ActionIncomplete,
    TransitionRefused,
    allowed_actions,
    apply_action,
    extensions_this_round,
    intake,
    resolve_with_parent,
    snapshot_diff,
)
from api_client.models import (
    Callback,
    Caller,
    Channel,
    Location,
    LocationIn,
    NewRequest,
    Request,
    RequestType,
    Satisfaction,
    State,
    Tier,
)

T0 = datetime(2026, 7, 30, 9, 0, tzinfo=UTC)
UNITS = {"u-housing", "u-property", "u-c01", "u-power"}


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


@pytest.mark.parametrize(
    ("solved", "satisfaction"),
    [
        (False, Satisfaction.not_satisfied),
        (False, Satisfaction.satisfied),
        (True, Satisfaction.not_satisfied),
    ],
)
def test_an_unsolved_or_unsatisfied_callback_reopens_by_itself(
    solved: bool, satisfaction: Satisfaction
) -> None:
    r = a_request(State.resolved, lead_unit="u-housing", resolved_at=T0)
    r = step(r, LogCallback(reached=False))
    assert r.state is State.resolved and len(r.callbacks) == 1  # attempt recorded, no state change
    r = step(
        r, LogCallback(reached=True, solved=solved, satisfaction=satisfaction, note="仍漏水"), minutes=90
    )
    assert (r.state, r.resolved_at) == (State.reopened, None)
    assert r.due_at == T0 + timedelta(minutes=90) + r.tier.duration  # re-handling: a fresh deadline
    last = r.history[-1]
    assert (last.action, last.state, last.reached, last.solved, last.satisfaction, last.text) == (
        "callback",
        State.reopened,
        True,
        solved,
        satisfaction,
        "仍漏水",
    )
    assert last.due_at == r.due_at
    assert step(r, Accept()).state is State.accepted


def test_a_solved_and_satisfied_callback_closes() -> None:
    for satisfaction in (Satisfaction.satisfied, Satisfaction.basically):
        r = step(a_request(State.resolved), LogCallback(reached=True, solved=True, satisfaction=satisfaction))
        assert r.state is State.closed and r.closed_at is not None


def resolved(*callbacks: Callback) -> Request:
    return a_request(State.resolved, resolved_at=T0, callbacks=list(callbacks))


def attempt(minutes: int, *, reached: bool = False) -> Callback:
    if reached:
        return Callback(
            reached=True,
            solved=False,
            satisfaction=Satisfaction.not_satisfied,
            by="cb",
            at=T0 + timedelta(minutes=minutes),
        )
    return Callback(reached=False, by="cb", at=T0 + timedelta(minutes=minutes))


def test_closing_by_hand_needs_a_code_or_a_reason() -> None:
    with pytest.raises(ActionIncomplete) as refused:
        step(resolved(), Close())
    assert refused.value.code == "close_reason_required"
    assert refused.value.params == {"request_id": "R1", "min": bounds.MIN_UNREACHED_CALLBACKS}
    with pytest.raises(ActionIncomplete) as refused:
        step(resolved(), Close(code=CloseCode.other, reason="  "))
    assert refused.value.code == "reason_text_required"
    r = step(resolved(), Close(reason="诉求不合理，已解释"))  # an older client's body: `other`
    assert (r.state, r.history[-1].code, r.history[-1].text) == (State.closed, "other", "诉求不合理，已解释")
    for code in (CloseCode.withdrawn, CloseCode.declined):
        r = step(resolved(), Close(code=code))
        assert (r.state, r.history[-1].code) == (State.closed, code.value)


def test_closing_as_unreachable_needs_enough_unreached_callbacks_since_the_resolution() -> None:
    before = Callback(reached=False, by="cb", at=T0 - timedelta(days=3))  # an earlier round's: not counted
    two = resolved(before, attempt(60), attempt(300))
    with pytest.raises(TransitionRefused) as refused:
        step(two, Close(code=CloseCode.unreachable))
    assert refused.value.code == "too_few_unreached_callbacks"
    assert refused.value.params == {"request_id": "R1", "count": 2, "min": 3}
    assert not isinstance(refused.value, ActionIncomplete)  # the request's state, not the body
    three = resolved(before, attempt(60), attempt(300), attempt(1500))
    r = step(three, Close(code=CloseCode.unreachable, reason="三次回访未接通"), minutes=1600)
    assert (r.state, r.history[-1].code) == (State.closed, "unreachable")


def test_a_valid_unsatisfied_callback_stored_before_the_rule_cannot_be_closed() -> None:
    old = a_request(State.callback_logged, resolved_at=T0, callbacks=[attempt(60, reached=True)])
    with pytest.raises(TransitionRefused) as refused:
        step(old, Close(code=CloseCode.other, reason="已解释"))
    assert refused.value.code == "callback_needs_reopen"
    assert step(old, Reopen(reason="回访不满意")).state is State.reopened


def test_resolving_needs_the_reply_to_the_citizen() -> None:
    r = a_request(State.accepted, lead_unit="u-housing")
    for blank in ("", "   "):
        with pytest.raises(ActionIncomplete) as refused:
            step(r, Resolve(summary=blank))
        assert (refused.value.code, refused.value.params) == ("reply_required", {"request_id": "R1"})
    resolved_ = step(r, Resolve(summary=" 已修缮 "))
    assert (resolved_.history[-1].action, resolved_.history[-1].text) == ("resolve", "已修缮")


def test_extensions_are_limited_per_round_of_handling() -> None:
    r = step(a_request(State.dispatched, lead_unit="u-housing"), Accept())
    for n in range(bounds.MAX_EXTENSIONS):
        r = step(r, Extend(reason=f"第{n + 1}次", new_due_at=r.due_at + timedelta(days=2)))
    assert extensions_this_round(r) == bounds.MAX_EXTENSIONS
    with pytest.raises(TransitionRefused) as refused:
        step(r, Extend(reason="again", new_due_at=r.due_at + timedelta(days=2)))
    assert refused.value.code == "extension_limit_reached"
    assert refused.value.params == {"request_id": "R1", "count": 2, "max": 2}
    # re-handling after an unsolved callback is a new round
    r = step(
        step(r, Resolve(summary="已修")),
        LogCallback(reached=True, solved=False, satisfaction=Satisfaction.basically),
    )
    r = step(r, Accept())
    assert extensions_this_round(r) == 0
    assert step(r, Extend(reason="新一轮", new_due_at=r.due_at + timedelta(days=1))).state is State.extended


def test_reopen_gives_a_fresh_deadline() -> None:
    r = step(a_request(State.closed), Reopen(reason="仍漏水"), minutes=60 * 24 * 5)
    assert r.due_at == T0 + timedelta(days=5) + r.tier.duration


def test_return_clears_units_and_keeps_reason() -> None:
    r = a_request(State.dispatched, lead_unit="u-housing", co_units=["u-c01"])
    r = step(r, Return(code=ReturnCode.wrong_address, reason="地址不在本辖区"))
    assert (r.state, r.lead_unit, r.co_units, r.return_reason) == (State.returned, None, [], "地址不在本辖区")
    again = step(r, Dispatch(lead_unit="u-property"))
    assert again.state is State.dispatched and again.return_reason is None
    returned = again.history[-2]  # the reason outlives the next dispatch, in the history
    assert (returned.action, returned.code, returned.text) == ("return", "wrong_address", "地址不在本辖区")
    assert step(a_request(State.accepted), Return(reason="x")).history[-1].code == "other"  # no code sent


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
    parent = step(a_request(State.accepted, id="P1"), Resolve(summary="已统一修复"))
    child = apply_action(a_request(id="C1"), Merge(parent_id="P1"), actor="a", now=T0)
    later = T0 + timedelta(hours=1)
    resolved = resolve_with_parent(child, parent, now=later, actor="disp-2")
    assert resolved.state is State.resolved and resolved.resolved_at == later
    last = resolved.history[-1]  # the parent's reply reaches the child's caller too
    assert (last.action, last.by, last.parent, last.text) == ("resolve", "disp-2", "P1", "已统一修复")
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
    assert set(allowed_actions(State.new)) == {"dispatch", "merge", "escalate", "note", "answer"}
    assert set(allowed_actions(State.accepted)) >= {"chase", "resolve", "extend"}
    assert all(State.closed not in ALLOWED_FROM[a] for a in ("dispatch", "accept", "resolve", "callback"))


def test_escalate_shortens_the_tier_and_brings_the_deadline_forward() -> None:
    now = datetime(2026, 7, 30, 15, 0, tzinfo=UTC)
    request = intake(
        NewRequest(
            channel=Channel.phone,
            type=RequestType.help,
            category="roof_leak",
            description="顶楼漏雨",
            location=LocationIn(community="c01"),
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


# --------------------------------------------------------------------------- the history


def test_intake_starts_the_history() -> None:
    new = NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category="roof_leak",
        description="顶楼漏雨",
        location=LocationIn(community="c01"),
        received_at=T0,
    )
    r = intake(new, request_id="R-1", tier=Tier.h24, now=T0 + timedelta(minutes=2), actor="接线员")
    [first] = r.history
    assert (first.action, first.by, first.at, first.state) == (
        "intake",
        "接线员",
        T0 + timedelta(minutes=2),
        State.new,
    )
    assert (first.tier, first.due_at) == (Tier.h24, T0 + timedelta(hours=24))


def test_every_step_keeps_who_when_what_and_why() -> None:
    r = a_request()
    walk: list[tuple[Action, dict[str, object]]] = [
        (Dispatch(lead_unit="u-housing", co_units=["u-c01"]), {"units": ["u-housing", "u-c01"]}),
        (
            Return(code=ReturnCode.needs_other_unit, reason="应由物业主办"),
            {"code": "needs_other_unit", "text": "应由物业主办"},
        ),
        (Dispatch(lead_unit="u-property"), {"units": ["u-property"]}),
        (Escalate(reason="一栋楼多户进水"), {"tier": Tier.h2, "text": "一栋楼多户进水"}),
        (Accept(), {}),
        (AddNote(text="已上门查看"), {"text": "已上门查看"}),
        (Resolve(summary="已修缮"), {"text": "已修缮"}),
        (LogCallback(reached=False, note="无人接听"), {"reached": False, "text": "无人接听"}),
        (Reopen(reason="再次来电"), {"text": "再次来电"}),
    ]
    minutes = 0
    for action, why in walk:
        minutes += 10
        before = r
        r = step(r, action, minutes)
        last = r.history[-1]
        assert (last.action, last.by, last.at, last.state) == (
            action.action,
            "disp-1",
            T0 + timedelta(minutes=minutes),
            r.state,
        )
        for field, value in why.items():
            assert getattr(last, field) == value, (action.action, field)
        assert len(r.history) == len(before.history) + 1
    assert r.history[3].due_at == T0 + timedelta(minutes=40, hours=2)  # the escalation's new due time
    assert r.history[-1].due_at == r.due_at  # the reopen's


def test_merge_and_unmerge_name_the_parent() -> None:
    merged = step(a_request(State.dispatched), Merge(parent_id="R0"))
    assert merged.history[-1].parent == "R0"
    assert step(merged, Unmerge()).history[-1].parent == "R0"


def test_a_refused_action_adds_no_step() -> None:
    r = a_request(State.accepted, lead_unit="u-housing")
    with pytest.raises(ActionIncomplete):
        step(r, Resolve())
    assert r.history == []


def test_the_history_is_bounded_and_keeps_the_workflow_over_notes() -> None:
    r = step(step(a_request(), Dispatch(lead_unit="u-housing")), Accept())
    for n in range(500):
        r = step(r, AddNote(text=f"备注 {n}"), minutes=n + 3)
    r = step(r, Resolve(summary="长" * (bounds.MAX_STEP_TEXT + 50)), minutes=600)
    assert len(r.history) == bounds.MAX_HISTORY
    assert r.history_dropped == 502 - bounds.MAX_HISTORY + 1
    assert len(r.notes) == 500  # every note itself is kept
    assert [s.action for s in r.history[:2]] == ["dispatch", "accept"]  # no intake here: the oldest stay
    assert r.history[2].text == f"备注 {500 - bounds.MAX_HISTORY + 3}"  # the newest notes' steps stay
    assert r.history[-1].text == "长" * (bounds.MAX_STEP_TEXT - 1) + "…"


def test_the_intake_step_is_never_dropped() -> None:
    new = NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category="roof_leak",
        description="漏雨",
        location=LocationIn(),
    )
    r = intake(new, request_id="R-1", tier=Tier.d7, now=T0, actor="接线员")
    r = step(r, Dispatch(lead_unit="u-housing"))
    for n in range(bounds.MAX_HISTORY + 5):
        r = step(
            r, Return(reason=f"{n}") if r.state is State.dispatched else Dispatch(lead_unit="u-housing"), n
        )
    assert r.history[0].action == "intake" and len(r.history) == bounds.MAX_HISTORY
    assert r.history_dropped == 6 + 1


def test_the_audit_diff_leaves_the_history_out() -> None:
    r = a_request(State.dispatched, lead_unit="u-housing")
    before, after = snapshot_diff(r, step(r, Accept()))
    assert set(after) == {"state", "accepted_at"} and "history" not in before


def test_a_request_stored_before_it_kept_a_history_still_loads() -> None:
    stored = a_request(State.accepted).model_dump(mode="json", exclude={"history", "history_dropped"})
    old = Request.model_validate(stored)
    assert (old.history, old.history_dropped) == ([], 0)
    assert [s.action for s in step(old, Resolve(summary="ok")).history] == ["resolve"]


def test_a_chase_counts_and_names_the_units_chased() -> None:
    dispatched = step(a_request(), Dispatch(lead_unit="u-housing", co_units=["u-power"]))
    chased = step(dispatched, Chase(text="第二位来电人"))
    assert chased.chases == 1 and chased.state is State.dispatched
    assert chased.history[-1].units == ["u-housing", "u-power"] and chased.history[-1].text == "第二位来电人"
    with pytest.raises(TransitionRefused):
        step(a_request(), Chase())  # a new request is with no unit


def test_only_an_enquiry_is_answered_directly_and_it_closes() -> None:
    enquiry = a_request().model_copy(update={"type": RequestType.enquiry})
    answered = step(enquiry, AnswerDirectly(entry_id="kb-001"))
    assert answered.state is State.closed and answered.answered_with == "kb-001"
    assert answered.closed_at is not None and answered.history[-1].entry == "kb-001"
    with pytest.raises(TransitionRefused) as refused:
        step(
            a_request().model_copy(update={"type": RequestType.complaint}), AnswerDirectly(entry_id="kb-001")
        )
    assert refused.value.code == "answer_needs_enquiry"
