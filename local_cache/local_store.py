"""`LocalStore`: one dispatcher's offline state on one server — the request cache and the
outbox joined, with the optimistic view the UI shows.

The view of a request is the cached server copy with this store's pending actions applied in
order by `api_client.domain.lifecycle.apply_action`, the same state machine the server runs. An action
that no longer applies locally is skipped in the view, never deleted: the server decides. A call
taken in and not yet sent is a request under its temporary id, made from the queued intake
(`local_cache.intakes`); once the server has taken it in, it is the server's copy under the
server's id, and an action recorded on the temporary id goes to that one.

Of all the processes that open one cache directory, the first holds `sync.lock` and is the
single sync owner (`is_sync_owner`); the others record actions and read, and take in the
owner's flushes with `reload_if_changed`. One UI thread and one sync task may call in at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from api_client.actions import Action, Merge
from api_client.domain.lifecycle import TransitionRefused, apply_action
from api_client.models import ChangesPage, NewRequest, PulledPage, Request, Tier, now_utc
from local_cache.errors import UnknownAction, UnknownRequest
from local_cache.intakes import Intake, intake_view, is_temporary
from local_cache.locking import FileLock, try_exclusive
from local_cache.outbox import ConflictRecord, Outbox, PendingAction, Refusal
from local_cache.paths import check_private_files, ensure_private_dir
from local_cache.request_cache import RequestCache

OUTBOX_FILE = "outbox.json"
REQUESTS_FILE = "requests.json"
SYNC_LOCK_FILE = "sync.lock"


class LocalStore:
    """The cache and the outbox of one dispatcher on one server, and the optimistic view."""

    def __init__(
        self,
        directory: Path,
        *,
        server_url: str,
        dispatcher: str,
        outbox: Outbox,
        cache: RequestCache,
        owner: FileLock | None,
    ) -> None:
        self.directory = directory
        self.server_url = server_url
        self.dispatcher = dispatcher
        self.outbox = outbox
        self.cache = cache
        #: Recovery notices for the dispatcher (a bad file moved aside, ...), oldest first.
        self.messages: list[str] = [*outbox.messages, *cache.messages]
        self._owner = owner
        self._lock = threading.RLock()

    @classmethod
    def open(cls, directory: Path, *, server_url: str, dispatcher: str) -> LocalStore:
        """Check the directory is private (UnsafePermissions otherwise), open the outbox and the
        cache (recovering bad files, see `.messages`), and try to become the sync owner."""
        directory = Path(directory)
        ensure_private_dir(directory)
        check_private_files(directory)
        outbox = Outbox.open(directory / OUTBOX_FILE)
        try:
            cache = RequestCache.open(directory / REQUESTS_FILE, server_url=server_url)
        except BaseException:
            outbox.close()
            raise
        owner = try_exclusive(directory / SYNC_LOCK_FILE)
        return cls(
            directory, server_url=server_url, dispatcher=dispatcher, outbox=outbox, cache=cache, owner=owner
        )

    @property
    def is_sync_owner(self) -> bool:
        return self._owner is not None and self._owner.held

    def try_become_sync_owner(self) -> bool:
        """Take the sync owner's lock if its holder has gone; returns `is_sync_owner`."""
        with self._lock:
            if not self.is_sync_owner:
                self._owner = try_exclusive(self.directory / SYNC_LOCK_FILE)
            return self.is_sync_owner

    # ----- the view ------------------------------------------------------------------------

    def server_copy(self, request_id: str) -> Request | None:
        """The newest server copy known: the cached one, or the answer to a confirmed action
        that the cache on disk may not hold yet (see `Outbox.confirm`)."""
        with self._lock:
            cached = self.cache.get(request_id)
            confirmed = self.outbox.confirmed_copy(request_id)
            if cached is None or (confirmed is not None and _stamp(confirmed) > _stamp(cached)):
                return confirmed
            return cached

    def view(self, request_id: str) -> Request | None:
        """The server copy (or a queued intake's request) with the pending actions applied in
        order; None if not cached."""
        with self._lock:
            pending = self.outbox.pending_for(request_id)
            copy = self._base(request_id, pending)
            if copy is None:
                return None
            return _applied(copy, pending)

    def view_ids(self) -> list[str]:
        """The ids `views()` yields: every cached request, in cache order, then the calls taken
        in that the server has not taken yet (their temporary ids)."""
        return [*self.cache.ids(), *self.temporary_ids()]

    def temporary_ids(self) -> list[str]:
        """The temporary ids of the calls taken in and not yet taken in by the server (pending,
        or kept as a conflict), in the order they were taken."""
        pending = [a.request_id for a in self.outbox.pending() if a.intake is not None]
        refused = [c.action.request_id for c in self.outbox.conflicts() if c.action.intake is not None]
        return list(dict.fromkeys([*pending, *refused]))

    def resolve(self, request_id: str) -> str:
        """The id a request goes by now: the server's for a temporary id it has taken in."""
        if is_temporary(request_id):
            return self.outbox.renamed(request_id) or request_id
        return request_id

    def views(self) -> Iterator[Request]:
        """Every cached request as the dispatcher sees it (validates each one: for whole-queue
        lists prefer `cache.rows()` plus `view()` for `pending_request_ids()`)."""
        for request_id in self.view_ids():
            request = self.view(request_id)
            if request is not None:
                yield request

    def pending_request_ids(self) -> set[str]:
        """The requests whose view may differ from the cached copy: those with pending actions,
        and those with a confirmed answer the cache may not hold yet."""
        return self.outbox.pending_request_ids() | set(self.outbox.confirmed_copies())

    # ----- recording -----------------------------------------------------------------------

    def record(self, request_id: str, action: Action, *, actor: str) -> PendingAction:
        """Record an action durably, after checking it applies to the current view.

        TransitionRefused propagates and records nothing; UnknownRequest if not cached.
        The base version is the view's version, computed under the outbox lock so that another
        process's action on the same request is counted.
        """
        now = now_utc()

        def prepare(pending: list[PendingAction]) -> int:  # under the outbox's lock, fresh from disk
            copy = self._base(request_id, pending)
            if copy is None:
                raise UnknownRequest(
                    f"request {request_id} is not in the local cache; sync (or wait for it) and try again"
                )
            view = _applied(copy, pending)
            apply_action(view, action, actor=actor, now=now)  # raises TransitionRefused
            return view.version

        with self._lock:  # a rename (`confirm_intake`) takes it too: the resolved id stays right
            request_id, action = self.resolve(request_id), self._resolved(action)
            return self.outbox.record_checked(request_id, action, actor=actor, prepare=prepare, at=now)

    def record_batch(
        self, items: Sequence[tuple[str, Action]], *, actor: str
    ) -> tuple[list[PendingAction], list[tuple[int, Refusal]]]:
        """Record many actions in one durable write (a bulk action): each is checked like
        `record` against its request's view; those that do not apply are returned as
        (item index, why) and not recorded. Either every accepted action is on disk when
        this returns, or (the write failed) none is."""
        now = now_utc()

        def prepare(request_id: str, action: Action, pending: list[PendingAction]) -> int:
            copy = self._base(request_id, pending)
            if copy is None:
                raise TransitionRefused(
                    f"request {request_id} is not in the local cache",
                    code="request_not_cached",
                    params={"request_id": request_id},
                )
            view = _applied(copy, pending)
            apply_action(view, action, actor=actor, now=now)  # raises TransitionRefused
            return view.version

        with self._lock:
            items = [(self.resolve(request_id), self._resolved(action)) for request_id, action in items]
            return self.outbox.record_batch(items, actor=actor, prepare=prepare, at=now)

    def record_intake(
        self,
        new: NewRequest,
        *,
        tier: Tier,
        then: Sequence[Action] = (),
        elsewhere: Sequence[tuple[str, Action]] = (),
        actor: str,
    ) -> list[PendingAction]:
        """Queue a call taken in under a new temporary id (the first record's `request_id`), the
        actions `then` on it and `elsewhere` on other requests, in one durable write: each action is
        checked like `record` (the new request as `intake_view` shows it); one that does not apply
        raises TransitionRefused (UnknownRequest: a request not cached) and nothing is recorded.
        `tier` is what the view shows until the server decides; a call without `received_at` was
        received now."""
        now = now_utc()
        if new.received_at is None:
            new = new.model_copy(update={"received_at": now})

        def prepare(request_id: str, action: Action, pending: list[PendingAction]) -> int:
            copy = self._base(request_id, pending)
            if copy is None:
                raise UnknownRequest(
                    f"request {request_id} is not in the local cache; sync (or wait for it) and try again"
                )
            view = _applied(copy, pending)
            apply_action(view, action, actor=actor, now=now)  # raises TransitionRefused
            return view.version

        with self._lock:
            then = [self._resolved(action) for action in then]
            elsewhere = [
                (self.resolve(request_id), self._resolved(action)) for request_id, action in elsewhere
            ]
            queued = Intake(new=new, tier=tier)
            return self.outbox.record_intake(queued, then, elsewhere, actor=actor, prepare=prepare, at=now)

    def pending(self) -> list[PendingAction]:
        return self.outbox.pending()

    def conflicts(self) -> list[ConflictRecord]:
        return self.outbox.conflicts()

    # ----- what the sync engine reports ----------------------------------------------------

    def confirm(self, key: str, server_request: Request) -> None:
        """The server applied the action: the cache takes its copy (when newer) and the outbox
        forgets the action, keeping that copy until the cache holding it is flushed — so a crash
        before the flush cannot bring back the older copy."""
        with self._lock:
            self.cache.put(server_request)
            self.outbox.confirm(key, server=server_request)

    def confirm_many(self, confirmed: Sequence[tuple[str, Request]]) -> None:
        """`confirm` for many actions, with one write of the outbox (a push confirms in batches:
        an action the server applied but not yet confirmed here is sent again after a crash, with
        the same idempotency key, and the server answers it without applying it twice)."""
        with self._lock:
            for _key, server_request in confirmed:
                self.cache.put(server_request)
            self.outbox.confirm_many(confirmed)

    def confirm_intake(self, key: str, server_request: Request) -> str | None:
        """The server took the intake `key` in: the cache takes its copy, and the outbox renames
        the temporary id to the server's in one write (`Outbox.confirm_intake`), keeping the
        copy until the cache holding it is flushed. Returns the temporary id."""
        with self._lock:
            self.cache.put(server_request)
            return self.outbox.confirm_intake(key, server_request)

    def note_failure(self, key: str, message: str) -> None:
        self.outbox.note_failure(key, message)

    def conflict(
        self,
        key: str,
        *,
        kind: Literal["stale", "refused"],
        message: str,
        server: Request | None,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> ConflictRecord:
        """Move an action to the conflicts, with the local view before it, the server's copy
        (which the cache also takes, when newer) and the server's error (`code`, `params`)."""
        with self._lock:
            action = self.outbox.get(key)
            if action is None:
                raise UnknownAction(f"the outbox holds no pending action {key}")
            local = self._view_before(action)
            if server is not None:
                self.cache.put(server)
            return self.outbox.to_conflict(
                key, kind=kind, message=message, local=local, server=server, code=code, params=params
            )

    def retry_conflict(self, conflict_id: str) -> PendingAction:
        """Queue a conflict's action again on the request as the server now has it (the cached
        copy, with any action still queued before it applied). The actions taken after it on
        that request follow it again (see `Outbox.retry_conflict`). TransitionRefused if it no
        longer applies: the conflict is then kept."""
        with self._lock:
            record = self.outbox.get_conflict(conflict_id)
            if record is None:
                raise UnknownAction(f"the outbox holds no conflict {conflict_id}")
            retried = record.action
            action = retried.action
            if isinstance(action, Intake):  # sent again as it was; what waits behind it follows
                return self.outbox.retry_conflict(conflict_id, base_version=0)
            cached = self.server_copy(retried.request_id)
            if record.server is not None and (cached is None or _stamp(record.server) > _stamp(cached)):
                cached = record.server
            if cached is None:
                raise UnknownRequest(f"request {retried.request_id} is not in the local cache")
            earlier = [a for a in self.outbox.pending_for(retried.request_id) if a.order < retried.order]
            view = _applied(cached, earlier)
            apply_action(view, action, actor=retried.actor, now=now_utc())
            return self.outbox.retry_conflict(conflict_id, base_version=view.version)

    def drop_conflict(self, conflict_id: str) -> ConflictRecord:
        return self.outbox.drop_conflict(conflict_id)

    def apply_page(self, page: ChangesPage | PulledPage) -> int:
        with self._lock:
            return self.cache.apply_page(page)

    def flush(self) -> bool:
        """Write the cache if it changed (not under the store's lock: the UI keeps reading),
        then drop the confirmed copies it now holds on disk."""
        wrote = self.cache.flush()
        self.outbox.forget_confirmed(
            lambda copy: (self.cache.saved_stamp(copy.id) or (-1, -1)) >= _stamp(copy)
        )
        return wrote

    def reload_if_changed(self) -> bool:
        """Take in what the sync owner flushed (for a process that is not the owner)."""
        return self.cache.reload_if_changed()

    def counts(self) -> tuple[int, int, int]:
        """(cached requests, pending actions, conflicts)."""
        pending, conflicts = self.outbox.counts()
        return len(self.cache), pending, conflicts

    # ----- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Flush, give up the sync owner's lock, close the files. Idempotent."""
        try:
            self.flush()
        finally:
            with self._lock:
                owner, self._owner = self._owner, None
                if owner is not None:
                    owner.release()
                self.cache.close()
                self.outbox.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _view_before(self, action: PendingAction) -> Request | None:
        if action.intake is not None:
            return None
        earlier = [a for a in self.outbox.pending_for(action.request_id) if a.order < action.order]
        cached = self._base(action.request_id, earlier)
        if cached is None:
            return None
        return _applied(cached, earlier)

    def _base(self, request_id: str, pending: Sequence[PendingAction]) -> Request | None:
        """What the pending actions on a request apply to: the server's copy, or for a temporary
        id the request its queued intake (pending, or kept as a conflict) makes."""
        if not is_temporary(request_id):
            return self.server_copy(request_id)
        queued = next((a for a in pending if a.intake is not None), None)
        if queued is None:  # refused: kept as a conflict
            refused = (c.action for c in self.outbox.conflicts() if c.action.request_id == request_id)
            queued = next((a for a in refused if a.intake is not None), None)
        if queued is None or queued.intake is None:
            return None
        return intake_view(request_id, queued.intake, actor=queued.actor, at=queued.recorded_at)

    def _resolved(self, action: Action) -> Action:
        """`action` with a temporary id it names (a merge's parent) replaced by the server's."""
        if isinstance(action, Merge) and is_temporary(action.parent_id):
            return action.model_copy(update={"parent_id": self.resolve(action.parent_id)})
        return action


def _stamp(request: Request) -> tuple[int, int]:
    return request.change_seq, request.version


def _applied(request: Request, actions: Iterable[PendingAction]) -> Request:
    """`request` with each action applied in order; one that is refused is skipped."""
    for pending in actions:
        action = pending.action
        if isinstance(action, Intake):  # what the request was made from
            continue
        try:
            request = apply_action(request, action, actor=pending.actor, now=pending.recorded_at)
        except TransitionRefused:
            continue
    return request
