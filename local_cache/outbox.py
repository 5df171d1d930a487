"""The durable outbox: every dispatcher action, kept until the server has confirmed it.

`outbox.json` is a small TinyDB-format file (tables `actions`, `conflicts`, `confirmed`,
`meta`; calls taken in are queued among the actions: `local_cache.intakes`), apart from the large
request cache so that recording an action rewrites a few kilobytes, not the cache. `confirmed`
holds the server's answer to a confirmed action until the request cache holding it is flushed
(`forget_confirmed`); `meta.renamed` maps the temporary ids the server has taken in to its own.

Each mutation takes the file lock, re-reads the file if another process changed it, changes it
and replaces it atomically (`AtomicJSONStorage`), so two hotline processes of one user never
lose each other's records. An action is durable when `record` returns.

Identity is the action's `key` (a uuid4, sent as `Idempotency-Key`) and, for conflicts, the
conflict `id`; TinyDB document ids are internal. `order` is strictly increasing per file,
across processes (`meta.next_order`), and fixes the order actions are sent in.

The outbox's actions are irreplaceable: a newer schema is refused untouched, and a damaged file
is moved aside (kept, never deleted) with a message naming it.

The records are `outbox_records`; the file's tables and their checks, `outbox_tables`.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Literal, TypeVar

from api_client.actions import Action
from api_client.domain.lifecycle import TransitionRefused
from api_client.models import Request, now_utc
from local_cache.errors import CorruptCache, UnknownAction
from local_cache.intakes import Intake, new_temporary_id
from local_cache.locking import FileLock
from local_cache.outbox_records import ConfirmedCopy, ConflictRecord, PendingAction, Queued, Refusal, newer
from local_cache.outbox_tables import (
    ACTIONS,
    CONFIRMED,
    CONFLICTS,
    Memo,
    Tables,
    check_schema,
    check_shape,
    renamed_in,
)
from local_cache.storage import AtomicJSONStorage, Document, copy_aside, move_aside, read_file

__all__ = ["ConfirmedCopy", "ConflictRecord", "Outbox", "PendingAction", "Refusal"]

T = TypeVar("T")


class Outbox:
    """The pending actions and conflicts of one dispatcher on one server."""

    def __init__(self, path: Path, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        #: Notices for the dispatcher about recoveries made while opening.
        self.messages: list[str] = []
        self._lock = threading.RLock()
        self._storage = AtomicJSONStorage(self.path)
        self._parsed = -1
        self._actions: list[PendingAction] = []
        self._by_request: dict[str, list[PendingAction]] = {}
        self._conflicts: list[ConflictRecord] = []
        self._invalid: list[str] = []
        self._memo_actions = Memo(PendingAction, ACTIONS)
        self._memo_conflicts = Memo(ConflictRecord, CONFLICTS)
        self._memo_confirmed = Memo(ConfirmedCopy, CONFIRMED)
        self._confirmed: dict[str, Request] = {}
        self._renamed: dict[str, str] = {}
        self._open()

    @classmethod
    def open(cls, path: Path, *, lock_timeout: float = 10.0) -> Outbox:
        return cls(path, lock_timeout=lock_timeout)

    # ----- reading -------------------------------------------------------------------------

    def pending(self) -> list[PendingAction]:
        """Every pending action, in order."""
        with self._lock:
            self._refresh()
            return list(self._actions)

    def pending_for(self, request_id: str) -> list[PendingAction]:
        """The pending actions on one request, in order."""
        with self._lock:
            self._refresh()
            return list(self._by_request.get(request_id, ()))

    def pending_request_ids(self) -> set[str]:
        with self._lock:
            self._refresh()
            return set(self._by_request)

    def get(self, key: str) -> PendingAction | None:
        with self._lock:
            self._refresh()
            return next((a for a in self._actions if a.key == key), None)

    def conflicts(self) -> list[ConflictRecord]:
        """Every conflict, in the order of their actions."""
        with self._lock:
            self._refresh()
            return list(self._conflicts)

    def get_conflict(self, conflict_id: str) -> ConflictRecord | None:
        with self._lock:
            self._refresh()
            return next((c for c in self._conflicts if c.id == conflict_id), None)

    def counts(self) -> tuple[int, int]:
        """(pending actions, conflicts)."""
        with self._lock:
            self._refresh()
            return len(self._actions), len(self._conflicts)

    # ----- changing ------------------------------------------------------------------------

    def record(
        self, request_id: str, action: Action, *, base_version: int, actor: str, at: datetime | None = None
    ) -> PendingAction:
        """Append an action durably (written and fsynced before this returns)."""
        return self.record_checked(request_id, action, actor=actor, prepare=lambda _: base_version, at=at)

    def record_checked(
        self,
        request_id: str,
        action: Action,
        *,
        actor: str,
        prepare: Callable[[list[PendingAction]], int],
        at: datetime | None = None,
    ) -> PendingAction:
        """Like `record`, with the base version computed under the lock.

        `prepare` gets the actions pending on the request as the file holds them now (other
        processes' included) and returns the base version, or raises to record nothing.
        """

        def change(tables: Tables) -> PendingAction:
            base_version = prepare(list(self._by_request.get(request_id, ())))
            return self._queue(tables, request_id, action, base_version, actor, at or now_utc())

        return self._mutate(change)

    def record_batch(
        self,
        items: Sequence[tuple[str, Action]],
        *,
        actor: str,
        prepare: Callable[[str, Action, list[PendingAction]], int],
        at: datetime | None = None,
    ) -> tuple[list[PendingAction], list[tuple[int, Refusal]]]:
        """Append many actions in one durable write: all of those `prepare` accepts, or none if
        the write fails. `prepare(request_id, action, pending)` gets the actions pending on the
        request (the batch's earlier ones included) and returns the base version, or raises
        `TransitionRefused` to leave that item out. Returns (recorded, [(item index, why)])."""

        def change(tables: Tables) -> tuple[list[PendingAction], list[tuple[int, Refusal]]]:
            recorded: list[PendingAction] = []
            refused: list[tuple[int, Refusal]] = []
            batch: dict[str, list[PendingAction]] = {}
            when = at or now_utc()
            for index, (request_id, action) in enumerate(items):
                before = [*self._by_request.get(request_id, ()), *batch.get(request_id, ())]
                try:
                    base_version = prepare(request_id, action, before)
                except TransitionRefused as exc:
                    refused.append((index, Refusal(str(exc), exc.code, exc.params)))
                    continue
                pending = self._queue(tables, request_id, action, base_version, actor, when)
                batch.setdefault(request_id, []).append(pending)
                recorded.append(pending)
            return recorded, refused

        return self._mutate(change)

    def record_intake(
        self,
        intake: Intake,
        then: Sequence[Action],
        elsewhere: Sequence[tuple[str, Action]],
        *,
        actor: str,
        prepare: Callable[[str, Action, list[PendingAction]], int],
        at: datetime | None = None,
    ) -> list[PendingAction]:
        """Queue a call taken in under a new temporary id, the actions `then` on it and the
        actions `elsewhere` (request id, action) behind it, in one durable write: all or, when
        `prepare` (as in `record_batch`) raises, nothing. Returns them in order, the intake first."""

        def change(tables: Tables) -> list[PendingAction]:
            when = at or now_utc()
            taken = {*self._by_request, *(c.action.request_id for c in self._conflicts), *tables.renamed()}
            temporary = new_temporary_id(taken)
            recorded = [self._queue(tables, temporary, intake, 0, actor, when)]
            batch: dict[str, list[PendingAction]] = {temporary: list(recorded)}
            for request_id, action in [*((temporary, a) for a in then), *elsewhere]:
                before = [*self._by_request.get(request_id, ()), *batch.get(request_id, ())]
                base_version = prepare(request_id, action, before)
                pending = self._queue(tables, request_id, action, base_version, actor, when)
                batch.setdefault(request_id, []).append(pending)
                recorded.append(pending)
            return recorded

        return self._mutate(change)

    def confirm_intake(self, key: str, server: Request) -> str | None:
        """The server took the intake `key` in as `server`: in one durable write, forget the
        intake, rename its temporary id to the server's everywhere (`Tables.rename`) and keep
        `server` as a `ConfirmedCopy`. Returns the temporary id (None: the key was gone)."""

        def change(tables: Tables) -> str | None:
            doc_id = tables.find(tables.actions, "key", key)
            if doc_id is None:
                return None
            temporary = PendingAction.model_validate(tables.actions.pop(doc_id)).request_id
            tables.rename(temporary, server.id, server.version - 1)
            if newer(server, self._confirmed.get(server.id)):
                tables.keep_copy(ConfirmedCopy(key=key, request=server, at=now_utc()))
            return temporary

        return self._mutate(change)

    def renamed(self, temporary: str) -> str | None:
        """The server's id of a temporary id it has taken in (None: not taken in, or long ago)."""
        with self._lock:
            self._refresh()
            return self._renamed.get(temporary)

    def confirm(self, key: str, *, server: Request | None = None) -> None:
        """The server applied the action: forget it, keeping `server` (its answer) as a
        `ConfirmedCopy` until `forget_confirmed`. A key already gone is not an error."""

        def change(tables: Tables) -> None:
            doc_id = tables.find(tables.actions, "key", key)
            if doc_id is not None:
                del tables.actions[doc_id]
                tables.touched = True
            if server is not None and newer(server, self._confirmed.get(server.id)):
                tables.keep_copy(ConfirmedCopy(key=key, request=server, at=now_utc()))

        self._mutate(change)

    def confirm_many(self, confirmed: Sequence[tuple[str, Request]]) -> None:
        """`confirm` for many actions in one durable write: (key, the server's answer) each."""

        def change(tables: Tables) -> None:
            newest: dict[str, Request] = {}
            for key, server in confirmed:
                doc_id = tables.find(tables.actions, "key", key)
                if doc_id is not None:
                    del tables.actions[doc_id]
                    tables.touched = True
                known = newest.get(server.id) or self._confirmed.get(server.id)
                if newer(server, known):
                    newest[server.id] = server
                    tables.keep_copy(ConfirmedCopy(key=key, request=server, at=now_utc()))

        if confirmed:
            self._mutate(change)

    def confirmed_copy(self, request_id: str) -> Request | None:
        """The newest server copy of a request kept by `confirm`, if any."""
        with self._lock:
            self._refresh()
            return self._confirmed.get(request_id)

    def confirmed_copies(self) -> dict[str, Request]:
        """Every confirmed copy kept, by request id."""
        with self._lock:
            self._refresh()
            return dict(self._confirmed)

    def forget_confirmed(self, saved: Callable[[Request], bool]) -> int:
        """Drop the confirmed copies for which `saved(copy)` holds (the request cache on disk
        has it, or newer); returns how many. No write when there is nothing to drop."""
        with self._lock:
            self._refresh()
            if not any(saved(copy) for copy in self._confirmed.values()):
                return 0

        def change(tables: Tables) -> int:
            gone = [k for k, copy in self._memo_confirmed.models.items() if saved(copy.request)]
            for doc_id in gone:
                tables.confirmed.pop(doc_id, None)
            tables.touched = bool(gone)
            return len(gone)

        return self._mutate(change)

    def note_failure(self, key: str, message: str) -> None:
        """A send failed and will be retried: count it and keep the reason."""

        self._mutate(lambda tables: tables.note_failure(key, message))

    def to_conflict(
        self,
        key: str,
        *,
        kind: Literal["stale", "refused"],
        message: str,
        local: Request | None,
        server: Request | None,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> ConflictRecord:
        """Move an action from the queue to the conflicts, in one write; `code` and `params` are
        the server's error."""

        def change(tables: Tables) -> ConflictRecord:
            doc_id = tables.find(tables.actions, "key", key)
            if doc_id is None:
                raise UnknownAction(f"the outbox holds no pending action {key}")
            record = ConflictRecord(
                id=str(uuid.uuid4()),
                action=PendingAction.model_validate(tables.actions.pop(doc_id)),
                kind=kind,
                message=message,
                code=code,
                params=dict(params or {}),
                local=local,
                server=server,
                at=now_utc(),
            )
            tables.conflicts[tables.next_doc(tables.conflicts)] = record.model_dump(mode="json")
            tables.touched = True
            return record

        return self._mutate(change)

    def retry_conflict(self, conflict_id: str, *, base_version: int) -> PendingAction:
        """Queue a conflict's action again (new key, `base_version`, last in order); one write.

        The actions recorded after it on the same request, held back by the conflict, move
        behind it, their base versions following on (base_version + 1, + 2, ...): a request's
        actions still reach the server in the order the dispatcher took them.
        """

        def change(tables: Tables) -> PendingAction:
            record = self._pop_conflict(tables, conflict_id)
            pending = record.action.model_copy(
                update={
                    "key": str(uuid.uuid4()),
                    "base_version": base_version,
                    "taken": record.action.taken_order,
                    "order": tables.next_order(),
                    "attempts": 0,
                    "last_error": "",
                }
            )
            tables.actions[str(pending.order)] = pending.model_dump(mode="json")
            tables.move_behind(record.action, pending)
            return pending

        return self._mutate(change)

    def drop_conflict(self, conflict_id: str) -> ConflictRecord:
        """Forget a conflict: the dispatcher gave up that action. A call taken in that is given up
        takes the actions waiting behind it on its temporary id with it."""

        def change(tables: Tables) -> ConflictRecord:
            record = self._pop_conflict(tables, conflict_id)
            if record.action.intake is not None:
                for doc_id, doc in list(tables.actions.items()):
                    if doc.get("request_id") == record.action.request_id:
                        del tables.actions[doc_id]
            return record

        return self._mutate(change)

    def close(self) -> None:
        self._storage.close()

    # ----- inside --------------------------------------------------------------------------

    def _queue(
        self, tables: Tables, request_id: str, action: Queued, base_version: int, actor: str, at: datetime
    ) -> PendingAction:
        pending = PendingAction(
            key=str(uuid.uuid4()),
            request_id=request_id,
            action=action,
            base_version=base_version,
            actor=actor,
            recorded_at=at,
            order=tables.next_order(),
        )
        tables.actions[str(pending.order)] = pending.model_dump(mode="json")
        tables.touched = True
        return pending

    def _pop_conflict(self, tables: Tables, conflict_id: str) -> ConflictRecord:
        doc_id = tables.find(tables.conflicts, "id", conflict_id)
        if doc_id is None:
            raise UnknownAction(f"the outbox holds no conflict {conflict_id}")
        tables.touched = True
        return ConflictRecord.model_validate(tables.conflicts.pop(doc_id))

    def _mutate(self, change: Callable[[Tables], T]) -> T:
        with self._lock, FileLock(self.path, timeout=self.lock_timeout):
            data = self._storage.read()
            self._parse(data)
            tables = Tables.of(data)
            result = change(tables)
            if tables.touched:
                self._storage.write(tables.dump())
                self._parse(self._storage.read())
            return result

    def _refresh(self) -> None:
        self._parse(self._storage.read())

    def _parse(self, data: Document | None) -> None:
        """Rebuild the parsed view when the storage holds new data. A document unchanged since
        the last parse (the same object, or an equal one) keeps its model: after one of our own
        writes only the new record is validated."""
        if self._storage.generation == self._parsed:
            return
        actions_table, conflicts_table, confirmed_table, meta = check_shape(data, self.path)
        check_schema(meta, self.path)
        invalid: list[str] = []
        self._memo_actions.update(actions_table, invalid)
        self._memo_conflicts.update(conflicts_table, invalid)
        self._memo_confirmed.update(confirmed_table, invalid)
        self._actions = sorted(self._memo_actions.models.values(), key=attrgetter("order"))
        self._conflicts = sorted(self._memo_conflicts.models.values(), key=attrgetter("action.order"))
        self._by_request = {}
        for action in self._actions:
            self._by_request.setdefault(action.request_id, []).append(action)
        self._renamed = renamed_in(meta)
        self._confirmed = {}
        for copy in self._memo_confirmed.models.values():
            if newer(copy.request, self._confirmed.get(copy.request.id)):
                self._confirmed[copy.request.id] = copy.request
        self._invalid = invalid
        self._parsed = self._storage.generation

    def _open(self) -> None:
        try:
            self._refresh()
        except CorruptCache:
            self._recover_corrupt()
        if self._invalid:
            self._salvage()

    def _recover_corrupt(self) -> None:
        with self._lock, FileLock(self.path, timeout=self.lock_timeout):
            try:  # another process may have recovered it meanwhile
                self._refresh()
                return
            except CorruptCache as exc:
                reason = str(exc)
            aside = move_aside(self.path, "corrupt")
            self._refresh()
        self.messages.append(
            f"{reason}. It was moved to {aside} and kept: actions recorded in it have NOT been sent."
            " hotline continues with an empty outbox; keep that file and tell your supervisor."
        )

    def _salvage(self) -> None:
        """Some records could not be read: keep a copy of the file, continue with the others."""
        with self._lock, FileLock(self.path, timeout=self.lock_timeout):
            self._refresh()
            if not self._invalid:
                return
            found = read_file(self.path)
            if found is None:
                return
            raw, _key, fd = found
            os.close(fd)
            copy = copy_aside(self.path, "corrupt", raw)
            tables = Tables.of(self._storage.read())
            bad = list(self._invalid)
            for ref in bad:
                table_name, doc_id = ref.split("/", 1)
                tables.table(table_name).pop(doc_id, None)
            self._storage.write(tables.dump())
            self._refresh()
        self.messages.append(
            f"{len(bad)} record(s) of the outbox {self.path} could not be read ({', '.join(bad)}) and"
            f" were set aside; a copy of the whole file was kept at {copy}. The other actions are"
            " queued as before; tell your supervisor."
        )
