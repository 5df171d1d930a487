"""Routing rules: which units a category's requests go to, per community, and whether the server
dispatches them itself at intake (auto-dispatch, audited as the actor `auto:<rule id>`).

Anyone may read the rules and their history; changing them needs the supervisor role. Every
change is recorded in the rules' own audit list (who, when, the rule before and after).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response

from api_client.models import AutoDispatchSwitch, RoutingRule, RoutingRuleEvent, RoutingRuleIn
from central_api.deps import IdentityDep, StoreDep, SupervisorDep
from central_api.routes._http import etag, json_response, parse_if_match

router = APIRouter(prefix="/v1", tags=["routing"])

RuleIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="The rule's id: letters, digits, _ - . (it appears in the actor auto:<id>)",
    ),
]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", description='The rule\'s version as read: "3" (or 3, or W/"3").')
]

_WRITE_ERRORS: dict[int | str, dict[str, object]] = {
    403: {"description": "Needs the supervisor role"},
    412: {"description": "Stale If-Match; the body carries `current` (null when the rule was deleted)"},
    422: {"description": "Invalid rule, unknown category, community or unit"},
}


def _version(if_match: str | None) -> int | None:
    return None if if_match is None or not if_match.strip() else parse_if_match(if_match)


@router.get("/routing-rules", response_model=list[RoutingRule])
def routing_rules(identity: IdentityDep, store: StoreDep) -> list[RoutingRule]:
    """Every routing rule, by category, then community (`*` last), then id."""
    return store.routing_rules()


@router.get("/routing-rules/audit", response_model=list[RoutingRuleEvent])
def routing_rule_audit(
    identity: IdentityDep,
    store: StoreDep,
    rule: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this rule's changes")
    ] = None,
) -> list[RoutingRuleEvent]:
    """Every change to the routing rules (or to one rule), oldest first."""
    return store.routing_rule_audit(rule)


@router.post(
    "/routing-rules/auto-dispatch",
    response_model=list[RoutingRule],
    responses={403: _WRITE_ERRORS[403], 422: {"description": "Unknown category"}},
)
def set_auto_dispatch(
    body: AutoDispatchSwitch, identity: SupervisorDep, store: StoreDep
) -> list[RoutingRule]:
    """Turn auto-dispatch on or off for a category: the flag of each of its rules (each change
    audited). Answers the category's rules; none when it has no rule."""
    return store.set_auto_dispatch(body.category, body.auto_dispatch, actor=identity.name)


@router.put(
    "/routing-rules/{rule_id}",
    response_model=RoutingRule,
    responses={
        **_WRITE_ERRORS,
        201: {"description": "The rule was created"},
        409: {"description": "Another rule already routes this category in this community"},
        428: {"description": "The rule exists and If-Match is missing"},
    },
)
def put_routing_rule(
    rule_id: RuleIdPath,
    rule: RoutingRuleIn,
    identity: SupervisorDep,
    store: StoreDep,
    if_match: IfMatch = None,
) -> Response:
    """Create a rule (no If-Match; 201) or replace it (If-Match: its version; 200)."""
    saved, created = store.put_routing_rule(rule_id, rule, actor=identity.name, if_match=_version(if_match))
    headers = {"ETag": etag(saved.version)}
    if created:
        headers["Location"] = f"/v1/routing-rules/{saved.id}"
    return json_response(saved.model_dump_json(), status=201 if created else 200, headers=headers)


@router.delete(
    "/routing-rules/{rule_id}",
    response_model=RoutingRule,
    responses={
        403: _WRITE_ERRORS[403],
        404: {"description": "No such rule"},
        412: _WRITE_ERRORS[412],
    },
)
def delete_routing_rule(
    rule_id: RuleIdPath, identity: SupervisorDep, store: StoreDep, if_match: IfMatch = None
) -> Response:
    """Delete a rule (checking If-Match when given); answers the rule as it was."""
    deleted = store.delete_routing_rule(rule_id, actor=identity.name, if_match=_version(if_match))
    return json_response(deleted.model_dump_json())
