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
from central_api.openapi import BEARER, BODY, StaleRuleBody, errors, if_match, versioned
from central_api.routes._http import etag, json_response, parse_if_match

router = APIRouter(prefix="/v1", tags=["routing"], dependencies=BEARER, responses=errors(401, 403))

RuleIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="The rule's id: letters, digits, _ - . (it appears in the actor auto:<id>)",
    ),
]
IfMatch = Annotated[str | None, Header(alias="If-Match", include_in_schema=False)]
_IF_MATCH = if_match(required=False, description='The rule\'s version as read: "3" (or 3, or W/"3").')
_SAYS = {
    400: "Malformed JSON, a body that is not a JSON object, or a malformed If-Match",
    403: "Needs the supervisor role",
    404: "No such rule",
    412: "Stale If-Match; the body carries `current` (null when the rule was deleted)",
}


def _version(if_match: str | None) -> int | None:
    return None if if_match is None or not if_match.strip() else parse_if_match(if_match)


@router.get("/routing-rules", response_model=list[RoutingRule])
def routing_rules(identity: IdentityDep, store: StoreDep) -> list[RoutingRule]:
    """Every routing rule, by category, then community (`*` last), then id."""
    return store.routing_rules()


@router.get("/routing-rules/audit", response_model=list[RoutingRuleEvent], responses=errors(422))
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
    responses=errors(*BODY, 403, says={**_SAYS, 422: "Invalid input, or an unknown category"}),
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
        **versioned(200, "The rule was replaced"),
        **versioned(201, "The rule was created", created=True),
        **errors(
            *BODY,
            403,
            409,
            412,
            428,
            stale=StaleRuleBody,
            says={
                **_SAYS,
                409: "Another rule already routes this category in this community",
                422: "Invalid rule, an unknown category, community or unit",
                428: "The rule exists and If-Match is missing",
            },
        ),
    },
    openapi_extra=_IF_MATCH,
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
    responses=errors(400, 403, 404, 412, 422, stale=StaleRuleBody, says=_SAYS),
    openapi_extra=_IF_MATCH,
)
def delete_routing_rule(
    rule_id: RuleIdPath, identity: SupervisorDep, store: StoreDep, if_match: IfMatch = None
) -> Response:
    """Delete a rule (checking If-Match when given); answers the rule as it was."""
    deleted = store.delete_routing_rule(rule_id, actor=identity.name, if_match=_version(if_match))
    return json_response(deleted.model_dump_json())
