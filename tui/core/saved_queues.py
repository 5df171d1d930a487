"""Named queues: a queue, a filter and a sort order saved under a name the dispatcher chose.

Kept in `queues.json` in the dispatcher's private cache directory (0600, written atomically),
so each dispatcher on each server has their own. A damaged file is moved aside with a message;
the app then starts with no saved queues rather than refusing to start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import orjson
from pydantic import BaseModel, Field, ValidationError

from local_cache.errors import CacheError
from local_cache.storage import atomic_write_bytes, move_aside
from tui.core.queue.filters import Filter
from tui.core.queue.kinds import QueueKind
from tui.core.queue.sorts import Sort

__all__ = ["QUEUES_FILE", "SavedQueue", "SavedQueues"]

QUEUES_FILE = "queues.json"
_SCHEMA = 1


class SavedQueue(BaseModel):
    """A named view: which queue, which filter, which order."""

    name: str = Field(min_length=1, max_length=60)
    kind: QueueKind = QueueKind.all
    sort: Sort = Sort.urgency
    text: str = ""
    categories: list[str] = Field(default_factory=list)
    communities: list[str] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, name: str, kind: QueueKind, filter: Filter, sort: Sort) -> SavedQueue:
        return cls(
            name=name.strip(),
            kind=kind,
            sort=sort,
            text=filter.text,
            categories=sorted(filter.categories),
            communities=sorted(filter.communities),
            units=sorted(filter.units),
            channels=sorted(filter.channels),
            tiers=sorted(filter.tiers),
        )

    @property
    def filter(self) -> Filter:
        return Filter(
            text=self.text,
            categories=frozenset(self.categories),
            communities=frozenset(self.communities),
            units=frozenset(self.units),
            channels=frozenset(self.channels),
            tiers=frozenset(self.tiers),
        )


class _File(BaseModel):
    schema_version: int = _SCHEMA
    queues: list[SavedQueue] = Field(default_factory=list)


class SavedQueues:
    """The saved queues of one dispatcher, in the order they were saved."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.messages: list[str] = []
        self._queues: list[SavedQueue] = self._load()

    def __iter__(self) -> Iterator[SavedQueue]:
        return iter(list(self._queues))

    def __len__(self) -> int:
        return len(self._queues)

    def get(self, name: str) -> SavedQueue | None:
        return next((q for q in self._queues if q.name == name), None)

    def save(self, queue: SavedQueue) -> None:
        """Add `queue`, replacing one of the same name; durable when this returns."""
        queues = [q for q in self._queues if q.name != queue.name]
        queues.append(queue)
        self._write(queues)

    def _write(self, queues: list[SavedQueue]) -> None:
        data = orjson.dumps(_File(queues=queues).model_dump(mode="json"), option=orjson.OPT_INDENT_2)
        _key, fd = atomic_write_bytes(self.path, data)
        os.close(fd)
        self._queues = queues

    def _load(self) -> list[SavedQueue]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise CacheError(f"cannot read the saved queues {self.path}: {exc.strerror or exc}") from exc
        try:
            saved = _File.model_validate(orjson.loads(data))
            if saved.schema_version > _SCHEMA:
                raise ValueError(f"written by a newer hotline (schema {saved.schema_version})")
        except (orjson.JSONDecodeError, ValidationError, ValueError) as exc:
            aside = move_aside(self.path, "damaged")
            reason = str(exc).splitlines()[0]
            self.messages.append(
                f"the saved queues in {self.path} could not be read ({reason}); moved to {aside}"
            )
            return []
        return saved.queues
