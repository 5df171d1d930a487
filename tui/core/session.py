"""`Session`: what one running app works on — the dispatcher's local store, the directory of
units, categories and communities, the saved queues, and how to reach the server.

No Textual here: the app calls these methods from worker threads (they read and write files)
and posts what they return to the UI as messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from api_client.actions import Action, Merge
from api_client.domain.unit_rules import is_with
from api_client.models import Category, Community, Identity, NewRequest, Request, State, Tier, Unit
from local_cache.directory import Directory, DirectoryFile, default_path, suggested_units
from local_cache.errors import CacheError
from local_cache.knowledge_file import KnowledgeCache, KnowledgeFile
from local_cache.knowledge_file import default_path as knowledge_path
from local_cache.local_store import LocalStore
from local_cache.outbox import ConflictRecord, PendingAction, Refusal
from tui.core.collector import paused
from tui.core.identity_file import IDENTITY_FILE, IdentityFile
from tui.core.places.coverage import Coverage, coverage_of
from tui.core.queue.rows import Names, QueueRow, row_from_request
from tui.core.saved_queues import QUEUES_FILE, SavedQueues
from tui.core.unit_login import own_unit

__all__ = ["INTAKE_FALLBACK_TIER", "BatchRecord", "OutboxState", "RequestDetail", "RowBatch", "Session"]

#: The tier a call taken in shows until the server decides, when the directory does not know its
#: category (the server refuses an unknown one: the call then waits as a conflict).
INTAKE_FALLBACK_TIER = Tier.d7


@dataclass(slots=True)
class RowBatch:
    """Rows built for some requests, the ids that are no longer in the cache, and the names
    (from the directory of the time) the rows were built with."""

    rows: list[QueueRow] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    names: Names = field(default_factory=Names)


@dataclass(slots=True)
class BatchRecord:
    """A bulk write by item index: the outbox key of each recorded item, the reason of each
    refused one."""

    keys: dict[int, str] = field(default_factory=dict)
    refused: dict[int, Refusal] = field(default_factory=dict)


@dataclass(slots=True)
class OutboxState:
    """The keys of the actions still waiting to be sent; each conflict by its action's key."""

    pending: set[str]
    conflicts: dict[str, ConflictRecord]


@dataclass(slots=True)
class RequestDetail:
    """One request as the dispatcher sees it (None: not cached), its unsent actions, its conflicts."""

    request: Request | None
    pending: list[PendingAction]
    conflicts: list[ConflictRecord]
    #: The requests merged into it (repeat calls: their callers are called back with it).
    merged: list[Request] = field(default_factory=list)
    #: The title of the knowledge-base entry it was answered with directly, when cached.
    answered_title: str | None = None


class Session:
    """One dispatcher's working set on one server (see the module docstring)."""

    def __init__(
        self,
        store: LocalStore,
        *,
        api_url: str,
        token: str | None,
        directory_file: DirectoryFile,
        saved_queues: SavedQueues,
        identity_file: IdentityFile | None = None,
        knowledge_file: KnowledgeFile | None = None,
    ) -> None:
        self.store = store
        self.api_url = api_url
        self.token = token
        self.directory_file = directory_file
        self.saved_queues = saved_queues
        self.directory: Directory | None = directory_file.load()
        self._names = _names_of(self.directory)
        #: Notices for the dispatcher gathered while opening (a file moved aside, ...).
        self.messages: list[str] = [*store.messages, *directory_file.messages, *saved_queues.messages]
        self.identity_file = identity_file
        #: Who the token belongs to, as the server last said (None: not known yet).
        self.identity: Identity | None = identity_file.load() if identity_file is not None else None
        if identity_file is not None:
            self.messages.extend(identity_file.messages)
        self.knowledge_file = knowledge_file
        #: The knowledge base as last fetched (None: never fetched), for search and answers offline.
        self.knowledge: KnowledgeCache | None = knowledge_file.load() if knowledge_file is not None else None
        if knowledge_file is not None:
            self.messages.extend(knowledge_file.messages)

    @classmethod
    def open(cls, directory: Path, *, api_url: str, dispatcher: str, token: str | None) -> Session:
        """Open the dispatcher's cache directory (see `LocalStore.open`) with its directory file
        and saved queues. CacheError when it cannot be used."""
        with paused():  # opening makes many objects and no cycles: nothing for the collector
            store = LocalStore.open(directory, server_url=api_url, dispatcher=dispatcher)
        try:
            return cls(
                store,
                api_url=api_url,
                token=token,
                directory_file=DirectoryFile(default_path(directory)),
                saved_queues=SavedQueues(directory / QUEUES_FILE),
                identity_file=IdentityFile(directory / IDENTITY_FILE),
                knowledge_file=KnowledgeFile(knowledge_path(directory)),
            )
        except BaseException:
            store.close()
            raise

    @property
    def dispatcher(self) -> str:
        return self.store.dispatcher

    @property
    def can_sync(self) -> bool:
        return self.token is not None

    # ----- who the token belongs to --------------------------------------------------------

    @property
    def own_unit(self) -> str | None:
        """The unit of a unit's login (its rows and queues are the unit's); None: the centre's."""
        return own_unit(self.identity)

    def set_identity(self, identity: Identity) -> bool:
        """Take who the server says the token belongs to, and keep it for offline starts; whether
        it changed."""
        if identity == self.identity:
            return False
        if self.identity_file is not None:
            self.identity_file.save(identity)
        self.identity = identity
        # Rows built before were built for the other login: a new names object makes the app
        # build them again, as it does after a new directory (`RowBatch.names`).
        self._names = Names(*self._names)
        return True

    # ----- the knowledge base ------------------------------------------------------------

    def set_knowledge(self, knowledge: KnowledgeCache) -> None:
        """Take the knowledge base fetched from the server, and keep it on disk for offline use."""
        if self.knowledge_file is not None:
            self.knowledge_file.save(knowledge)
        self.knowledge = knowledge

    # ----- the directory -------------------------------------------------------------------

    def set_directory(self, directory: Directory) -> None:
        """Take a directory fetched from the server, and keep it on disk for offline starts."""
        self.directory_file.save(directory)
        self.directory = directory
        self._names = _names_of(directory)

    @property
    def names(self) -> Names:
        return self._names

    @property
    def units(self) -> list[Unit]:
        return list(self.directory.units) if self.directory else []

    @property
    def categories(self) -> list[Category]:
        return list(self.directory.categories) if self.directory else []

    @property
    def communities(self) -> list[Community]:
        return list(self.directory.communities) if self.directory else []

    def suggested_units(self, request: Request) -> list[str]:
        if self.directory is None:
            return []
        place = self.coverage(request).place
        return suggested_units(
            self.directory, request.category, request.location.community, place.id if place else None
        )

    def coverage(self, request: Request) -> Coverage:
        """The request's place in the street's gazetteer and the units covering it."""
        if self.directory is None:
            return Coverage()
        known = {unit.id for unit in self.directory.units}
        return coverage_of(self.directory.places, request.location, known)

    # ----- rows ----------------------------------------------------------------------------

    def all_rows(self) -> RowBatch:
        """A row for every cached request (slow for a large cache: call it from a worker)."""
        return self.rows_for(self.store.view_ids())

    def rows_for(self, request_ids: Iterable[str]) -> RowBatch:
        """The rows of these requests as the dispatcher sees them now (pending actions applied,
        outbox marks set). A request the cache no longer holds, or holds damaged, is `removed`; so
        is one no longer with the unit of a unit's login (`unit_rules.is_with`)."""
        # Unsent means an action still waits in the outbox (a confirmed one, whose answer the
        # cache file has not taken in yet, is sent).
        pending = self.store.outbox.pending_request_ids()
        conflicts = {record.action.request_id for record in self.store.conflicts()}
        names = self._names
        unit = self.own_unit
        batch = RowBatch(names=names)
        for request_id in dict.fromkeys(request_ids):
            try:
                view = self.store.view(request_id)
            except (CacheError, ValidationError):
                view = None
            if view is None or (unit is not None and not is_with(view, unit)):
                batch.removed.append(request_id)
                continue
            batch.rows.append(
                row_from_request(
                    view,
                    unsent=request_id in pending,
                    conflict=request_id in conflicts,
                    names=names,
                    own_unit=unit,
                )
            )
        return batch

    def view(self, request_id: str) -> Request | None:
        return self.store.view(request_id)

    # ----- actions -------------------------------------------------------------------------

    def record(self, request_id: str, action: Action) -> PendingAction:
        """Record an action durably (on disk when this returns). TransitionRefused or a
        CacheError propagate; nothing is recorded then."""
        return self.store.record(request_id, action, actor=self.dispatcher)

    def record_batch(self, items: Sequence[tuple[str, Action]]) -> BatchRecord:
        """Record many actions in one durable write (see `LocalStore.record_batch`): all the
        accepted ones or, when a CacheError propagates, none."""
        recorded, refused = self.store.record_batch(items, actor=self.dispatcher)
        result = BatchRecord(refused=dict(refused))
        taken = iter(recorded)
        for index in range(len(items)):
            if index not in result.refused:
                result.keys[index] = next(taken).key
        return result

    def take_in(
        self, new: NewRequest, then: Sequence[Action] = (), elsewhere: Sequence[tuple[str, Action]] = ()
    ) -> str:
        """Record a call taken in, the actions `then` on it and `elsewhere` on other requests, in
        one durable write (see `LocalStore.record_intake`); returns its temporary id.
        TransitionRefused or a CacheError propagate; nothing is recorded then."""
        recorded = self.store.record_intake(
            new, tier=self.intake_tier(new), then=then, elsewhere=elsewhere, actor=self.dispatcher
        )
        return recorded[0].request_id

    def intake_tier(self, new: NewRequest) -> Tier:
        """The tier a call taken in shows until the server decides: its own, or its category's."""
        if new.tier is not None:
            return new.tier
        category = self.directory.category(new.category) if self.directory else None
        return category.tier if category is not None else INTAKE_FALLBACK_TIER

    def resolve(self, request_id: str) -> str:
        """The id a request goes by now: the server's, for a call it has taken in since."""
        return self.store.resolve(request_id)

    def outbox_state(self) -> OutboxState:
        return OutboxState(
            pending={action.key for action in self.store.pending()},
            conflicts={record.action.key: record for record in self.store.conflicts()},
        )

    def detail(self, request_id: str) -> RequestDetail:
        request = self.store.view(request_id)
        entry_id = request.answered_with if request is not None else None
        entry = self.knowledge.entry(entry_id) if entry_id and self.knowledge is not None else None
        return RequestDetail(
            request=request,
            pending=self.store.outbox.pending_for(request_id),
            conflicts=[c for c in self.store.conflicts() if c.action.request_id == request_id],
            merged=self.merged_into(request_id),
            answered_title=entry.title if entry is not None else None,
        )

    def merged_into(self, request_id: str) -> list[Request]:
        """The requests merged into `request_id` as the dispatcher sees them (a repeat call whose
        merge waits in the outbox too), oldest first. Reads only the merged requests that name it."""
        pending = [
            a.request_id
            for a in self.store.pending()
            if isinstance(a.action, Merge) and a.action.parent_id == request_id
        ]
        cache = self.store.cache
        found: list[Request] = []
        for child in dict.fromkeys([*cache.by_state(State.merged), *pending]):
            try:
                raw = cache.raw(child)
                if raw is not None and raw.get("merged_into") != request_id and child not in pending:
                    continue
                view = self.store.view(child)
            except (CacheError, ValidationError):
                continue
            if view is not None and view.merged_into == request_id:
                found.append(view)
        return sorted(found, key=lambda r: (r.received_at, r.id))

    # ----- conflicts -----------------------------------------------------------------------

    def conflicts(self) -> list[ConflictRecord]:
        return self.store.conflicts()

    def retry_conflict(self, conflict_id: str) -> None:
        """Queue a conflict's action again (see `LocalStore.retry_conflict`); TransitionRefused
        when it no longer applies, a CacheError when the conflict is gone or the write failed."""
        self.store.retry_conflict(conflict_id)

    def drop_conflict(self, conflict_id: str) -> None:
        self.store.drop_conflict(conflict_id)

    def close(self) -> None:
        self.store.close()


def _names_of(directory: Directory | None) -> Names:
    if directory is None:
        return Names()
    return Names(
        categories={c.code: c.name for c in directory.categories},
        communities={c.id: c.name for c in directory.communities},
        units={u.id: u.name for u in directory.units},
    )
