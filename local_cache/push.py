"""Pushing the outbox to the central API: the pending actions, in order.

Pending actions go out in the order they were recorded, each with its outbox key as
``Idempotency-Key`` and the version it was based on as ``If-Match``: a retry after a lost answer
is replayed by the server, never applied twice. For each request the push stops at the request's
first action that does not go through, so actions on one request always reach the server in
order; the request's later actions stay pending behind it.

- accepted: the outbox entry is confirmed with the server's request — in batches (one outbox
  write per `CONFIRM_BATCH` actions or `CONFIRM_EVERY` seconds, and at the end of every push); an
  action whose confirmation a crash lost is sent again with its key, and the server replays it;
- ``412`` (someone changed the request first): a *stale* conflict holding both versions (ours and
  the server's); the request's later actions wait until the dispatcher retries or drops it;
- ``409``/``422``/``404`` (the server refuses the action itself): a *refused* conflict, with the
  request as the server holds it now;
- no answer, a server failure, a bad token, an answer that breaks the contract: the action stays
  pending (its failure noted), the push stops, and the engine backs off.

A conflict keeps the server's error: its `code` and `params` for the app's words, and its sentence.

A call taken in (`local_cache.intakes`) goes out in its place in the order as `POST /v1/requests`
with its key; the server's answer renames its temporary id to the server's in the outbox at once,
in one write (`LocalStore.confirm_intake`), and the actions waiting behind it then go out on the
server's id with `If-Match` from its version. A refused intake is a refused conflict, and what
waits behind it is held. An action that still names a temporary id (its intake not through) is
held, never sent.

Nothing pending is ever deleted here and no conflict is resolved automatically.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from api_client.actions import Merge
from api_client.client import HotlineClient
from api_client.errors import (
    Conflict,
    Forbidden,
    HotlineError,
    InvalidRequest,
    NotFound,
    ServerError,
    Unauthorized,
    Unreachable,
)
from api_client.models import Request
from local_cache.intakes import Intake, is_temporary
from local_cache.local_store import LocalStore
from local_cache.outbox import PendingAction

#: Errors that mean "the server is not there (or not working) now": go offline, back off.
OFFLINE_ERRORS: tuple[type[HotlineError], ...] = (Unreachable, ServerError)
#: Errors that no other call would get past either (a bad token, a forbidden role).
AUTH_ERRORS: tuple[type[HotlineError], ...] = (Unauthorized, Forbidden)
#: Errors that mean "the server refused this action for good": a refused conflict.
REFUSED_ERRORS: tuple[type[HotlineError], ...] = (InvalidRequest, NotFound)
#: Confirmed actions are written to the outbox together: this many at most, …
CONFIRM_BATCH = 64
#: … and at least this often (seconds).
CONFIRM_EVERY = 0.5


@dataclass(slots=True)
class PushResult:
    """What one push did; `failure` is what stopped it early (None when it went through)."""

    pushed: int = 0
    taken_in: int = 0  # calls taken in (intakes the server took)
    conflicts: int = 0
    refused: int = 0
    held: int = 0
    failure: HotlineError | None = None

    @property
    def error(self) -> str:
        return self.failure.message if self.failure is not None else ""

    @property
    def offline(self) -> bool:
        return isinstance(self.failure, OFFLINE_ERRORS)


class Push:
    """One push of the pending actions of `store` (see the module docstring).

    `answered()` is called each time the server answers an action (it is there); `changed(ids)`
    with the requests whose views changed (an action confirmed or turned into a conflict)."""

    def __init__(
        self,
        store: LocalStore,
        client: HotlineClient,
        *,
        answered: Callable[[], None],
        changed: Callable[[list[str]], None],
    ) -> None:
        self.store = store
        self.client = client
        self.answered = answered
        self.changed = changed
        self._confirming: list[tuple[str, Request]] = []
        self._confirm_started = 0.0

    async def run(self) -> PushResult:
        """Send the pending actions in order; never raises for a failed action, only for a
        failure of the local cache itself."""
        result = PushResult()
        blocked = {record.action.request_id for record in self.store.conflicts()}
        try:
            for listed in self.store.pending():
                action = self.store.outbox.get(listed.key) if _names_temporary(listed) else listed
                if action is None:  # dropped meanwhile
                    continue
                if action.request_id in blocked or (action.intake is None and _names_temporary(action)):
                    blocked.add(action.request_id)  # its intake has not gone through
                    result.held += 1
                    continue
                if not await self._push_one(action, result):
                    blocked.add(action.request_id)
                    if result.failure is not None:
                        self._confirm_now()
                        result.held += self._count_after(action)
                        break
        finally:
            self._confirm_now()
        return result

    def _count_after(self, stopped_at: PendingAction) -> int:
        """Pending actions after `stopped_at` (they are not tried in this push)."""
        return sum(1 for action in self.store.pending() if action.order > stopped_at.order)

    async def _push_one(self, action: PendingAction, result: PushResult) -> bool:
        """Send one action; True when the server took it. Updates `result`."""
        body = action.action
        if isinstance(body, Intake):
            return await self._take_in(action, body, result)
        try:
            request = await self.client.act(
                action.request_id, body, version=action.base_version, idempotency_key=action.key
            )
        except Conflict as exc:
            self.answered()
            self._confirm_now()
            self.store.conflict(
                action.key,
                kind="stale",
                message=exc.message,
                server=exc.current,
                code=exc.code,
                params=exc.params,
            )
            self.changed([action.request_id])
            result.conflicts += 1
            return False
        except REFUSED_ERRORS as exc:
            self.answered()
            self._confirm_now()
            await self._refused(action, exc)
            self.changed([action.request_id])
            result.refused += 1
            return False
        except HotlineError as exc:
            self.store.note_failure(action.key, exc.message)
            result.failure = exc
            return False
        self.answered()
        self._confirm(action.key, request)
        result.pushed += 1
        return True

    async def _take_in(self, action: PendingAction, intake: Intake, result: PushResult) -> bool:
        """Send one intake; when the server took it, rename its temporary id at once (the actions
        behind it are sent on the server's id). True when the server took it."""
        try:
            request = await self.client.intake(intake.new, idempotency_key=action.key)
        except REFUSED_ERRORS as exc:
            self.answered()
            self._confirm_now()
            message = exc.detail if isinstance(exc, InvalidRequest) else exc.message
            self.store.conflict(
                action.key, kind="refused", message=message, server=None, code=exc.code, params=exc.params
            )
            self.changed([action.request_id])
            result.refused += 1
            return False
        except HotlineError as exc:
            self.store.note_failure(action.key, exc.message)
            result.failure = exc
            return False
        self.answered()
        self._confirm_now()  # what was sent before it is confirmed first
        self.store.confirm_intake(action.key, request)
        self.changed([action.request_id, request.id])
        result.taken_in += 1
        return True

    def _confirm(self, key: str, request: Request) -> None:
        """The server took an action: confirm it in the outbox, in batches of `CONFIRM_BATCH` or
        every `CONFIRM_EVERY` seconds (one outbox write each). Until then the action is still
        pending here; after a crash it is sent again with its key and the server replays it."""
        if not self._confirming:
            self._confirm_started = time.monotonic()
        self._confirming.append((key, request))
        if (
            len(self._confirming) >= CONFIRM_BATCH
            or time.monotonic() - self._confirm_started >= CONFIRM_EVERY
        ):
            self._confirm_now()

    def _confirm_now(self) -> None:
        if not self._confirming:
            return
        batch, self._confirming = self._confirming, []
        self.store.confirm_many(batch)
        self.changed([request.id for _key, request in batch])

    async def _refused(self, action: PendingAction, exc: HotlineError) -> None:
        """Record a refused conflict with the request as the server holds it now (if it can
        be read)."""
        server: Request | None = None
        with contextlib.suppress(HotlineError):
            server = await self.client.get_request(action.request_id)
        message = exc.detail if isinstance(exc, InvalidRequest) else exc.message
        self.store.conflict(
            action.key, kind="refused", message=message, server=server, code=exc.code, params=exc.params
        )


def _names_temporary(action: PendingAction) -> bool:
    """Whether `action` is on a temporary id, or merges into one."""
    body = action.action
    return is_temporary(action.request_id) or (isinstance(body, Merge) and is_temporary(body.parent_id))
