"""A call taken in while it waits in the outbox: the record, its temporary id, and the request the
local view shows for it until the server has taken it in.

An intake is queued like an action (`PendingAction.action` is an `Intake`), under a temporary id
(`T-` and a random part: never a server's id); the actions recorded on the new request wait behind
it under that id. Once the server has taken it in, the outbox renames the temporary id to the
server's everywhere in one write (`Outbox.confirm_intake`) and keeps the mapping for a while, so
that an action recorded on the temporary id afterwards reaches the right request.

Until it is sent, the outbox holds the caller's name and phone in full (the server needs them);
the local view masks them as the server would.
"""

from __future__ import annotations

import secrets
from collections.abc import Container
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from api_client.domain.lifecycle import intake
from api_client.domain.personal_data import mask_name, mask_phone
from api_client.models import Caller, NewRequest, Request, Tier

#: What every temporary id starts with (the server's ids start with `R-`).
TEMP_PREFIX = "T-"
#: Random hex digits of a temporary id.
TEMP_DIGITS = 8
#: How many renamed temporary ids the outbox remembers (the newest).
RENAMED_KEPT = 500


class Intake(BaseModel):
    """A call taken in, queued: the body `POST /v1/requests` gets, and the tier the local view
    shows until the server answers (not sent: the server decides it)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    action: Literal["intake"] = "intake"
    new: NewRequest
    tier: Tier


def is_temporary(request_id: str) -> bool:
    """Whether `request_id` is a temporary id (a call not yet taken in by the server)."""
    return request_id.startswith(TEMP_PREFIX)


def new_temporary_id(taken: Container[str]) -> str:
    """A temporary id that is not in `taken`."""
    while True:
        candidate = TEMP_PREFIX + secrets.token_hex(TEMP_DIGITS // 2).upper()
        if candidate not in taken:
            return candidate


def intake_view(request_id: str, queued: Intake, *, actor: str, at: datetime) -> Request:
    """The request a queued intake shows as: state new, version 1, due = received + its tier,
    the caller masked as the server would (and no caller key: the server makes it)."""
    new = queued.new
    caller = Caller(name=mask_name(new.caller.name), phone=mask_phone(new.caller.phone))
    masked = new.model_copy(update={"caller": caller})
    return intake(masked, request_id=request_id, tier=queued.tier, now=at, actor=actor)
