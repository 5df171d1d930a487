"""The request state machine, in one place, and the workflow rules a centre relies on.

The server applies it authoritatively; a client applies the same function to show an action
optimistically before the server has confirmed it, and a dialog to refuse inline what the server
would refuse.

    new -> dispatched -> accepted -> resolved -> closed      (a valid callback: solved, satisfied)
                                              -> reopened    (a valid callback: unsolved or not)
    returned (退单), extended (延期), reopened (重办), merged (并单) as below.

Every step is appended to the request's history (`Request.history`): who, when, the action, the
state after, and why. `docs/api.md` (Workflow rules) says the rules in words.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from datetime import UTC, datetime

from api_client.actions import (
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
    Unmerge,
)
from api_client.domain import bounds
from api_client.domain.unit_rules import handling_units
from api_client.models import (
    Callback,
    Caller,
    Location,
    NewRequest,
    Note,
    Request,
    RequestType,
    Satisfaction,
    State,
    Step,
    Tier,
)

#: For each action, the states it may start from.
ALLOWED_FROM: dict[str, frozenset[State]] = {
    "dispatch": frozenset({State.new, State.dispatched, State.returned, State.reopened}),
    "accept": frozenset({State.dispatched, State.reopened}),
    "return": frozenset({State.dispatched, State.accepted, State.reopened}),
    "extend": frozenset({State.accepted, State.extended}),
    "resolve": frozenset({State.accepted, State.extended}),
    "callback": frozenset({State.resolved, State.callback_logged}),
    "close": frozenset({State.resolved, State.callback_logged}),
    "reopen": frozenset({State.resolved, State.callback_logged, State.closed}),
    "merge": frozenset({State.new, State.dispatched, State.returned, State.reopened}),
    "unmerge": frozenset({State.merged}),
    "escalate": frozenset(
        {State.new, State.dispatched, State.accepted, State.returned, State.extended, State.reopened}
    ),
    "note": frozenset(State),
    # 催办 reaches a unit: only a request one has in hand.
    "chase": frozenset({State.dispatched, State.accepted, State.extended, State.reopened}),
    # 直接答复 instead of an order: only a request not yet dispatched.
    "answer": frozenset({State.new}),
}

#: The request types a knowledge-base answer may close (an enquiry, 咨询); the others become orders.
ANSWERABLE_TYPES = frozenset({RequestType.enquiry})

#: A valid callback with one of these answers (and solved) closes the request; any other sends it
#: back for re-handling.
CLOSING_SATISFACTION = frozenset({Satisfaction.satisfied, Satisfaction.basically})

#: The steps that start a round of handling (extensions are counted per round).
_ROUND_STARTS = frozenset({"dispatch", "reopen"})

#: What the audit trail's before/after leave out: bookkeeping, and the history (the audit is one).
NOT_AUDITED = frozenset({"change_seq", "version", "updated_at", "history", "history_dropped"})


class TransitionRefused(ValueError):
    """The action is not allowed on the request as it stands. The message says why in English;
    `code` names the rule (a stable snake_case id) and `params` its variable parts (JSON values),
    for a client to say it in its own words."""

    def __init__(
        self, message: str, *, code: str = "transition_refused", params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.params: dict[str, object] = dict(params or {})


class ActionIncomplete(TransitionRefused):
    """The action lacks what a rule needs (a reply, a reason): the body is at fault, whatever the
    request's state. The server answers 422, other refusals 409."""


def intake(
    new: NewRequest, *, request_id: str, tier: Tier, now: datetime, change_seq: int = 0, actor: str = ""
) -> Request:
    """The request a new intake by `actor` becomes: state new, version 1, due = received + the
    tier, its history the intake. `received_at` defaults to `now`."""
    received = (new.received_at or now).astimezone(UTC)
    due = received + tier.duration
    return Request(
        id=request_id,
        received_at=received,
        channel=new.channel,
        type=new.type,
        category=new.category,
        description=new.description,
        location=Location.model_validate(new.location.model_dump()),
        caller=Caller.model_validate(new.caller.model_dump()),
        vulnerable=new.vulnerable,
        tier=tier,
        due_at=due,
        state=State.new,
        updated_at=now,
        version=1,
        change_seq=change_seq,
        history=[_step("intake", actor, now, State.new, {"tier": tier, "due_at": due})],
    )


def check_extension(request: Request, action: Extend) -> None:
    """Refuse (`extension_needs_supervisor`) an extension that moves the due time more than
    `bounds.MAX_EXTENSION` past the current one: only a supervisor may grant it, and the server
    checks the role before applying the action."""
    if not bounds.extension_within_limit(request.due_at, action.new_due_at):
        days = bounds.MAX_EXTENSION.days
        raise TransitionRefused(
            f"an extension of request {request.id} to more than {days} days past its due time"
            f" {request.due_at.isoformat()} needs the supervisor role",
            code="extension_needs_supervisor",
            params={
                "request_id": request.id,
                "new_due_at": action.new_due_at.isoformat(),
                "due_at": request.due_at.isoformat(),
                "max_days": days,
            },
        )


def allowed_actions(state: State) -> list[str]:
    """The actions a dispatcher may take on a request in `state`."""
    return [name for name, states in ALLOWED_FROM.items() if state in states]


def extensions_this_round(request: Request) -> int:
    """How many times the request was extended since it was last dispatched or reopened, as its
    history tells (a request stored before it kept one counts only what it kept)."""
    count = 0
    for step in reversed(request.history):
        if step.action == "extend":
            count += 1
        elif step.action in _ROUND_STARTS or (step.action == "callback" and step.state is State.reopened):
            break
    return count


def unreached_since_resolved(request: Request) -> int:
    """The callbacks that did not reach the citizen since the request was resolved."""
    since = request.resolved_at
    return sum(1 for c in request.callbacks if not c.reached and (since is None or c.at >= since))


def apply_action(
    request: Request,
    action: Action,
    *,
    actor: str,
    now: datetime,
    known_units: Container[str] | None = None,
) -> Request:
    """Return the request as it stands after `action`, its history one step longer, or raise
    TransitionRefused (ActionIncomplete when the body lacks what a rule needs).

    `known_units`, when given, is checked for every unit a dispatch names.
    The result has its version raised by one; `change_seq` is the server's to set.
    """
    if request.state not in ALLOWED_FROM[action.action]:
        allowed = sorted(s.value for s in ALLOWED_FROM[action.action])
        raise TransitionRefused(
            f"cannot {action.action} request {request.id}: it is {request.state.value}"
            f" (allowed from: {', '.join(allowed)})",
            params={
                "request_id": request.id,
                "action": action.action,
                "state": request.state.value,
                "allowed": allowed,
            },
        )
    changes: dict[str, object] = {}
    why: dict[str, object] = {}
    match action:
        case Dispatch(lead_unit=lead, co_units=co):
            if known_units is not None:
                unknown = [u for u in [lead, *co] if u not in known_units]
                if unknown:
                    raise TransitionRefused(
                        f"unknown unit: {', '.join(unknown)}", code="unknown_unit", params={"units": unknown}
                    )
            changes = {
                "state": State.dispatched,
                "lead_unit": lead,
                "co_units": list(co),
                "dispatched_at": now,
                "accepted_at": None,
                "return_reason": None,
            }
            why = {"units": [lead, *co]}
        case Accept():
            if request.lead_unit is None:
                raise TransitionRefused(
                    f"cannot accept request {request.id}: it has no lead unit",
                    code="no_lead_unit",
                    params={"request_id": request.id},
                )
            changes = {"state": State.accepted, "accepted_at": now}
        case Return(reason=reason, code=return_code):
            changes = {
                "state": State.returned,
                "return_reason": reason,
                "lead_unit": None,
                "co_units": [],
                "accepted_at": None,
            }
            why = {"code": return_code.value, "text": reason}
        case Extend(new_due_at=due, reason=reason):
            _check_extend(request, due)
            changes = {"state": State.extended, "due_at": due}
            why = {"text": reason, "due_at": due}
        case Resolve(summary=summary):
            if not summary.strip():
                raise ActionIncomplete(
                    f"resolving request {request.id} needs the reply to the citizen",
                    code="reply_required",
                    params={"request_id": request.id},
                )
            changes = {"state": State.resolved, "resolved_at": now}
            why = {"text": summary.strip()}
        case LogCallback():
            changes, why = _callback(request, action, actor=actor, now=now)
        case Close(reason=reason):
            close_code = _close_code(request, action)
            changes = {"state": State.closed, "closed_at": now}
            why = {"code": close_code.value, "text": reason.strip()}
        case Reopen(reason=reason):  # re-handling gets a fresh deadline of the request's tier
            changes = _reopened(request, now)
            why = {"text": reason, "due_at": changes["due_at"]}
        case Merge(parent_id=parent):
            if parent == request.id:
                raise TransitionRefused(
                    "a request cannot be merged into itself",
                    code="merge_into_itself",
                    params={"request_id": request.id},
                )
            changes = {"state": State.merged, "merged_into": parent, "state_before_merge": request.state}
            why = {"parent": parent}
        case Unmerge():
            changes = {
                "state": request.state_before_merge or State.new,
                "merged_into": None,
                "state_before_merge": None,
            }
            why = {"parent": request.merged_into}
        case Escalate(tier=tier, reason=reason):
            if tier.duration >= request.tier.duration:
                raise TransitionRefused(
                    f"cannot escalate request {request.id} to {tier.value}: its tier is {request.tier.value}",
                    code="tier_not_shorter",
                    params={"request_id": request.id, "tier": tier.value, "current_tier": request.tier.value},
                )
            due = min(request.due_at, now + tier.duration)
            changes = {"tier": tier, "due_at": due}
            why = {"tier": tier, "due_at": due, "text": reason}
        case AddNote(text=text):
            changes = {"notes": [*request.notes, Note(text=text, by=actor, at=now)]}
            why = {"text": text}
        case Chase(text=text):
            changes = {"chases": request.chases + 1}
            why = {"text": text.strip(), "units": handling_units(request)}
        case AnswerDirectly(entry_id=entry, text=text):
            if request.type not in ANSWERABLE_TYPES:
                raise TransitionRefused(
                    f"request {request.id} is a {request.type.value}: only an enquiry is answered directly",
                    code="answer_needs_enquiry",
                    params={"request_id": request.id, "type": request.type.value},
                )
            changes = {"state": State.closed, "closed_at": now, "answered_with": entry}
            why = {"entry": entry, "text": text.strip()}
    state = changes.get("state", request.state)
    assert isinstance(state, State)
    step = _step(action.action, actor, now, state, why)
    return request.model_copy(
        update=changes | _with_step(request, step) | {"version": request.version + 1, "updated_at": now}
    )


def _check_extend(request: Request, due: datetime) -> None:
    if due <= request.due_at:
        raise TransitionRefused(
            f"the new due time {due.isoformat()} must be later than the current one"
            f" {request.due_at.isoformat()}",
            code="due_not_later",
            params={"new_due_at": due.isoformat(), "due_at": request.due_at.isoformat()},
        )
    count = extensions_this_round(request)
    if count >= bounds.MAX_EXTENSIONS:
        raise TransitionRefused(
            f"request {request.id} was extended {count} times in this round of handling"
            f" (at most {bounds.MAX_EXTENSIONS})",
            code="extension_limit_reached",
            params={"request_id": request.id, "count": count, "max": bounds.MAX_EXTENSIONS},
        )


def _reopened(request: Request, now: datetime) -> dict[str, object]:
    return {
        "state": State.reopened,
        "resolved_at": None,
        "closed_at": None,
        "due_at": now + request.tier.duration,
    }


def _callback(
    request: Request, action: LogCallback, *, actor: str, now: datetime
) -> tuple[dict[str, object], dict[str, object]]:
    """A callback's changes and why: a valid one (the citizen reached) closes the request when it
    is solved and satisfied (or basically), and reopens it for re-handling otherwise; one that did
    not reach the citizen changes no state."""
    callback = Callback(
        reached=action.reached,
        solved=action.solved,
        satisfaction=action.satisfaction,
        note=action.note,
        by=actor,
        at=now,
    )
    changes: dict[str, object] = {"callbacks": [*request.callbacks, callback]}
    why: dict[str, object] = {
        "reached": action.reached,
        "solved": action.solved,
        "satisfaction": action.satisfaction,
        "text": action.note.strip(),
    }
    if action.reached:
        if action.solved and action.satisfaction in CLOSING_SATISFACTION:
            changes |= {"state": State.closed, "closed_at": now}
        else:
            changes |= _reopened(request, now)
            why["due_at"] = changes["due_at"]
    return changes, why


def _close_code(request: Request, action: Close) -> CloseCode:
    """The code a close is made with, or why the rules refuse it."""
    reason = action.reason.strip()
    code = action.code
    if code is None:  # an older client's body: its reason is the explanation
        if not reason:
            raise ActionIncomplete(
                f"closing request {request.id} by hand needs a reason code",
                code="close_reason_required",
                params={"request_id": request.id, "min": bounds.MIN_UNREACHED_CALLBACKS},
            )
        code = CloseCode.other
    since = request.resolved_at
    if any(c.reached and (since is None or c.at >= since) for c in request.callbacks):
        raise TransitionRefused(  # stored before valid callbacks reopened requests by themselves
            f"request {request.id} had a valid callback asking for re-handling: reopen it",
            code="callback_needs_reopen",
            params={"request_id": request.id},
        )
    if code is CloseCode.other and not reason:
        raise ActionIncomplete(
            f"closing request {request.id} for another reason needs the reason in words",
            code="reason_text_required",
            params={"request_id": request.id, "action": "close"},
        )
    if code is CloseCode.unreachable:
        count = unreached_since_resolved(request)
        if count < bounds.MIN_UNREACHED_CALLBACKS:
            raise TransitionRefused(
                f"request {request.id} has {count} callbacks that did not reach the citizen since it was"
                f" resolved; closing it as unreachable needs {bounds.MIN_UNREACHED_CALLBACKS}",
                code="too_few_unreached_callbacks",
                params={"request_id": request.id, "count": count, "min": bounds.MIN_UNREACHED_CALLBACKS},
            )
    return code


def _step(action: str, actor: str, now: datetime, state: State, why: Mapping[str, object]) -> Step:
    text = why.get("text")
    if isinstance(text, str) and len(text) > bounds.MAX_STEP_TEXT:
        why = {**why, "text": text[: bounds.MAX_STEP_TEXT - 1] + "…"}
    return Step.model_validate({"action": action, "by": actor, "at": now, "state": state, **why})


def _with_step(request: Request, step: Step) -> dict[str, object]:
    """The history with `step` appended, within `bounds.MAX_HISTORY`: past it, the oldest note's
    step goes first (the note stays in `notes`), then the oldest step after the intake."""
    history = [*request.history, step]
    dropped = request.history_dropped
    while len(history) > bounds.MAX_HISTORY:
        first = 1 if history[0].action == "intake" else 0
        index = next((i for i in range(first, len(history) - 1) if history[i].action == "note"), first)
        del history[index]
        dropped += 1
    return {"history": history, "history_dropped": dropped}


#: A parent in one of these states has been handled: what is merged into it is resolved with it.
HANDLED_STATES = frozenset({State.resolved, State.callback_logged, State.closed})


def resolve_with_parent(child: Request, parent: Request, *, now: datetime, actor: str = "") -> Request:
    """并单 handles a merged request with its parent: when the parent is resolved, so is each
    request merged into it (and a request merged into a parent already handled is resolved at
    once), so that every caller gets a callback (回访) of their own. The child keeps
    `merged_into` as the record of how it was handled; its history's step carries the parent's
    reply. `actor` is who resolved the parent (or merged the child into it)."""
    if child.state is not State.merged or child.merged_into != parent.id:
        raise TransitionRefused(
            f"request {child.id} is not merged into {parent.id}",
            code="not_merged_into",
            params={"request_id": child.id, "parent_id": parent.id},
        )
    if parent.state not in HANDLED_STATES:
        raise TransitionRefused(
            f"request {parent.id} is not resolved",
            code="parent_not_resolved",
            params={"parent_id": parent.id},
        )
    reply = next((s.text for s in reversed(parent.history) if s.action == "resolve"), "")
    step = _step("resolve", actor, now, State.resolved, {"parent": parent.id, "text": reply})
    return child.model_copy(
        update={"state": State.resolved, "resolved_at": now, "version": child.version + 1, "updated_at": now}
        | _with_step(child, step)
    )


def snapshot_diff(before: Request, after: Request) -> tuple[dict[str, object], dict[str, object]]:
    """The fields that differ, as JSON values: (before, after). For the audit trail (which leaves
    out `NOT_AUDITED`)."""
    old = before.model_dump(mode="json", exclude=set(NOT_AUDITED))
    new = after.model_dump(mode="json", exclude=set(NOT_AUDITED))
    keys = [k for k in new if old.get(k) != new[k]]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}
