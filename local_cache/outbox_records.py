"""What the outbox holds: pending actions, conflicts, and the server's copies of confirmed ones;
and why an action of a bulk write was not recorded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api_client.actions import Action
from api_client.models import Request
from local_cache.intakes import Intake

#: What the outbox queues: an action on a request, or a call taken in (`local_cache.intakes`).
Queued = Annotated[Action | Intake, Field(discriminator="action")]


class PendingAction(BaseModel):
    """One action (or intake) recorded locally and not yet confirmed by the server."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    key: str  # uuid4, the Idempotency-Key
    request_id: str  # an intake's, and the actions waiting behind it: a temporary id
    action: Queued
    base_version: int  # the request's version the action was taken on (If-Match); 0: an intake
    actor: str
    recorded_at: AwareDatetime
    order: int  # strictly increasing per outbox file, across processes
    attempts: int = 0
    last_error: str = ""
    #: The order the dispatcher took it in, kept when a retry gives it a new `order` (None: `order`).
    taken: int | None = None

    @property
    def intake(self) -> Intake | None:
        """The call taken in, when this is an intake rather than an action."""
        return self.action if isinstance(self.action, Intake) else None

    @property
    def taken_order(self) -> int:
        """Where the dispatcher took this action among the others, whatever retries did since."""
        return self.order if self.taken is None else self.taken


class ConflictRecord(BaseModel):
    """An action the server would not apply as it was: stale (412) or refused (409/422).

    `code` and `params` are the server's error (`docs/api.md`, Errors), for the app's words;
    `message` its English sentence. Records written before codes existed have neither."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    action: PendingAction
    kind: Literal["stale", "refused"]
    message: str
    code: str | None = None
    params: dict[str, object] = Field(default_factory=dict)
    local: Request | None  # the local view before the action
    server: Request | None  # the server's copy when the conflict was found
    at: AwareDatetime


class ConfirmedCopy(BaseModel):
    """The server's copy of a request after a confirmed action, kept until the request cache
    holding it (or a newer one) is on disk: a crash in between must not bring back the older
    copy, on which a new action would be based on a stale version."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    key: str  # the confirmed action's key
    request: Request
    at: AwareDatetime


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the rules refused an action here: `TransitionRefused`'s code, params and sentence."""

    message: str
    code: str | None = None
    params: Mapping[str, object] = field(default_factory=dict)


def newer(copy: Request, than: Request | None) -> bool:
    """Whether `copy` is a later server copy of the request than `than`."""
    return than is None or (copy.change_seq, copy.version) > (than.change_seq, than.version)
