"""The knowledge base kept on disk, so a call-taker can search it and answer offline.

- `KnowledgeCache`: the entries as the server listed them (withdrawn ones too) and when;
- `fetch_knowledge(client)`: the list now (None from a server without one, or for a token that
  may not read it);
- `KnowledgeFile(path)`: `load()` and `save()`; the file is `{"schema": 1, "knowledge": {...}}`,
  written atomically, 0600 in a 0700 directory. A missing file loads as None; a damaged, foreign or
  newer one too, after it is moved aside with a message in `.messages` (it is fetched again:
  nothing in it is irreplaceable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, PrivateAttr

from api_client.errors import Forbidden, NotFound
from api_client.knowledge import KnowledgeEntry
from api_client.models import now_utc
from local_cache.snapshot_file import SnapshotFile

#: The file format this version reads and writes; a larger one is a newer hotline's.
SCHEMA = 1
FILE_NAME = "knowledge.json"


class KnowledgeCache(BaseModel):
    """The knowledge base as the server listed it at `fetched_at`. Read-only."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    entries: list[KnowledgeEntry]
    fetched_at: AwareDatetime

    _by_id: dict[str, KnowledgeEntry] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        self._by_id = {entry.id: entry for entry in self.entries}

    def entry(self, entry_id: str) -> KnowledgeEntry | None:
        return self._by_id.get(entry_id)


class KnowledgeSource(Protocol):
    """What `fetch_knowledge` needs of a client (`api_client.HotlineClient` has it)."""

    async def knowledge(self) -> list[KnowledgeEntry]: ...


async def fetch_knowledge(client: KnowledgeSource) -> KnowledgeCache | None:
    """The server's knowledge base now; None when it keeps none (404) or the token may not read
    it (403). Raises the client's other errors (`api_client.HotlineError`)."""
    fetched_at = now_utc()
    try:
        entries = await client.knowledge()
    except (NotFound, Forbidden):  # a server without one, or a token that may not read it
        return None
    return KnowledgeCache(entries=entries, fetched_at=fetched_at)


class KnowledgeFile(SnapshotFile[KnowledgeCache]):
    """The knowledge base on disk at `path` (in a dispatcher's private cache dir, as `FILE_NAME`).

    `lock_timeout` bounds the wait for another hotline process saving or recovering the same file.
    """

    MODEL = KnowledgeCache
    KEY = "knowledge"
    SCHEMA = SCHEMA
    WHAT = "knowledge base"
    KIND = "a knowledge base"


def default_path(cache_directory: Path) -> Path:
    """Where a dispatcher's cache keeps the knowledge base."""
    return Path(cache_directory) / FILE_NAME


__all__ = [
    "FILE_NAME",
    "SCHEMA",
    "KnowledgeCache",
    "KnowledgeFile",
    "KnowledgeSource",
    "default_path",
    "fetch_knowledge",
]
