"""The request state machine, in one place.

The server applies it authoritatively; a client applies the same function to
show an action optimistically before the server has confirmed it.

    new -> dispatched -> accepted -> resolved -> callback_logged -> closed
    returned (退单), extended (延期), reopened (重办), merged (并单) as below.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from datetime import UTC, datetime

from api_client.actions import (
    Accept,
    Action,
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
from api_client.domain import bounds
from api_client.models import Callback, Caller, Location, NewRequest, Note, Request, Satisfaction, State, Tier

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
}

CLOSING_SATISFACTION = frozenset({Satisfaction.satisfied, Satisfaction.basically})


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


def intake(new: NewRequest, *, request_id: str, tier: Tier, now: datetime, change_seq: int = 0) -> Request:
    """The request a new intake becomes: state new, version 1, due = received + the tier.
    `received_at` defaults to `now`."""
    received = (new.received_at or now).astimezone(UTC)
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
        due_at=received + tier.duration,
        state=State.new,
        updated_at=now,
        version=1,
        change_seq=change_seq,
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


def apply_action(
    request: Request,
    action: Action,
    *,
    actor: str,
    now: datetime,
    known_units: Container[str] | None = None,
) -> Request:
    """Return the request as it stands after `action`, or raise TransitionRefused.

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
        case Accept():
            if request.lead_unit is None:
                raise TransitionRefused(
                    f"cannot accept request {request.id}: it has no lead unit",
                    code="no_lead_unit",
                    params={"request_id": request.id},
                )
            changes = {"state": State.accepted, "accepted_at": now}
        case Return(reason=reason):
            changes = {
                "state": State.returned,
                "return_reason": reason,
                "lead_unit": None,
                "co_units": [],
                "accepted_at": None,
            }
        case Extend(new_due_at=due):
            if due <= request.due_at:
                raise TransitionRefused(
                    f"the new due time {due.isoformat()} must be later than the current one"
                    f" {request.due_at.isoformat()}",
                    code="due_not_later",
                    params={"new_due_at": due.isoformat(), "due_at": request.due_at.isoformat()},
                )
            changes = {"state": State.extended, "due_at": due}
        case Resolve():
            changes = {"state": State.resolved, "resolved_at": now}
        case LogCallback():
            callback = Callback(
                reached=action.reached,
                solved=action.solved,
                satisfaction=action.satisfaction,
                note=action.note,
                by=actor,
                at=now,
            )
            changes = {"callbacks": [*request.callbacks, callback]}
            if action.reached:
                if action.solved and action.satisfaction in CLOSING_SATISFACTION:
                    changes |= {"state": State.closed, "closed_at": now}
                else:
                    changes |= {"state": State.callback_logged}
        case Close():
            changes = {"state": State.closed, "closed_at": now}
        case Reopen():  # re-handling gets a fresh deadline of the request's tier
            changes = {
                "state": State.reopened,
                "resolved_at": None,
                "closed_at": None,
                "due_at": now + request.tier.duration,
            }
        case Merge(parent_id=parent):
            if parent == request.id:
                raise TransitionRefused(
                    "a request cannot be merged into itself",
                    code="merge_into_itself",
                    params={"request_id": request.id},
                )
            changes = {"state": State.merged, "merged_into": parent, "state_before_merge": request.state}
        case Unmerge():
            changes = {
                "state": request.state_before_merge or State.new,
                "merged_into": None,
                "state_before_merge": None,
            }
        case Escalate(tier=tier):
            if tier.duration >= request.tier.duration:
                raise TransitionRefused(
                    f"cannot escalate request {request.id} to {tier.value}: its tier is {request.tier.value}",
                    code="tier_not_shorter",
                    params={"request_id": request.id, "tier": tier.value, "current_tier": request.tier.value},
                )
            changes = {"tier": tier, "due_at": min(request.due_at, now + tier.duration)}
        case AddNote(text=text):
            changes = {"notes": [*request.notes, Note(text=text, by=actor, at=now)]}
    return request.model_copy(update=changes | {"version": request.version + 1, "updated_at": now})


#: A parent in one of these states has been handled: what is merged into it is resolved with it.
HANDLED_STATES = frozenset({State.resolved, State.callback_logged, State.closed})


def resolve_with_parent(child: Request, parent: Request, *, now: datetime) -> Request:
    """并单 handles a merged request with its parent: when the parent is resolved, so is each
    request merged into it (and a request merged into a parent already handled is resolved at
    once), so that every caller gets a callback (回访) of their own. The child keeps
    `merged_into` as the record of how it was handled."""
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
    return child.model_copy(
        update={"state": State.resolved, "resolved_at": now, "version": child.version + 1, "updated_at": now}
    )


def snapshot_diff(before: Request, after: Request) -> tuple[dict[str, object], dict[str, object]]:
    """The fields that differ, as JSON values: (before, after). For the audit trail."""
    old = before.model_dump(mode="json", exclude={"change_seq", "version", "updated_at"})
    new = after.model_dump(mode="json", exclude={"change_seq", "version", "updated_at"})
    keys = [k for k in new if old.get(k) != new[k]]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}
