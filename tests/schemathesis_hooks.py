"""schemathesis hooks for `tests/test_schemathesis.py` (loaded through `SCHEMATHESIS_HOOKS`).

A schema cannot say which categories, units or versions exist now, so schema-valid data may be
refused for the state of the data: a stale version (412), an unknown category, community, unit,
parent or knowledge-base entry, a reused idempotency key (422), a rule or an entry replaced without
If-Match (428), an unknown Open311 service code (400). Nor does JSON Schema have words for some
rules: no NUL or lone surrogate in text, no control or format character in a token's name, a
datetime within a window that moves with the clock, the rules between the fields of an action or a
routing rule (the lead unit is not a co-unit, a co-unit is listed once, a callback's answers go
with reaching the citizen), a new token's unit going with the unit role, a knowledge-base entry's
dates (from 2000 to 2099, not ending before they begin), an Open311 end date not before its start
date, and the workflow rules of the state machine on what an action carries (a resolution's reply,
a close's code or reason: a body an older client sent is read, so the schema keeps them optional).

The run lets `positive_data_acceptance` accept those statuses, and `refused_for_a_reason` checks
that such a refusal gives one of these reasons, never a field the schema calls valid.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis

#: /v1 codes that refuse schema-valid data for what exists now, or for a rule the schema cannot
#: state, by status.
REASONS: dict[int, frozenset[str]] = {
    412: frozenset(
        {"version_mismatch", "rule_version_mismatch", "rule_deleted", "knowledge_version_mismatch"}
    ),
    422: frozenset(
        {
            "unknown_category",
            "unknown_community",
            "unknown_unit",
            "merge_parent_not_found",
            "idempotency_key_reused",
            "idempotency_body_differs",
            "invalid_character",
            "token_name_invalid",
            "token_unit_missing",
            "token_unit_for_role",
            "reply_required",
            "close_reason_required",
            "reason_text_required",
            "knowledge_entry_unknown",
            "knowledge_dates_reversed",
            "unknown_place",
            "place_parent_loop",
        }
    ),
    428: frozenset({"rule_version_required", "knowledge_version_required"}),
}
#: The `errors[].code` of a 422 `invalid_field` for a rule the schema cannot state.
FIELD_RULES = frozenset(
    {
        "invalid_character",
        "datetime_out_of_range",
        "lead_unit_is_co_unit",
        "co_unit_twice",
        "callback_answers_missing",
        "callback_answers_unexpected",
        "date_out_of_range",
    }
)
#: Open311 refusals (400) of schema-valid data, by their description.
OPEN311_REASONS = re.compile(
    r"service_code not found|NUL characters or lone surrogates|must be between|must not be before"
)
#: Statuses `positive_data_acceptance` lets through to this check.
REASON_STATUSES = ("400", "412", "422", "428")


@schemathesis.check
def refused_for_a_reason(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schema-valid data refused with 400/412/422/428 is refused for a reason the schema cannot
    give (see the module's docstring)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if str(status) not in REASON_STATUSES:
        return None
    body = response.json()
    if case.operation.path.startswith("/open311/"):
        reasons = [item.get("description", "") for item in body] if isinstance(body, list) else []
        if status == 400 and reasons and all(OPEN311_REASONS.search(r) for r in reasons):
            return None
        raise AssertionError(f"schema-valid data refused with {status}: {reasons}")
    code = body.get("code") if isinstance(body, dict) else None
    if code in REASONS.get(status, frozenset()):
        return None
    problems = {e.get("code") for e in body.get("errors", [])} if code == "invalid_field" else set()
    if status == 422 and problems and problems <= FIELD_RULES:
        return None
    raise AssertionError(f"schema-valid data refused with {status} {code}: {body}")
