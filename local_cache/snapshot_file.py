"""A copy of something the server lists, kept on disk so the app starts and works offline (the
directory, the knowledge base): `SnapshotFile`.

The file is `{"schema": N, "<key>": {...}}`, written atomically, 0600 in a 0700 directory. A
missing file loads as None; a damaged, foreign or newer one too, after it is moved aside with a
message in `.messages` (it is fetched again from the server: nothing in it is irreplaceable).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from local_cache.errors import CorruptCache
from local_cache.locking import FileLock
from local_cache.paths import ensure_private_dir
from local_cache.storage import atomic_write_bytes, move_aside, parse_document, read_file, remove_stale_temps

M = TypeVar("M", bound=BaseModel)


class _BadFile(Exception):
    """Why a file cannot be used (the message completes "could not be used: ...")."""


class SnapshotFile(Generic[M]):
    """The model `MODEL` on disk at `path`, under `KEY`, in format `SCHEMA` (a larger one is a
    newer hotline's). `WHAT` names it in the message about a bad file, `KIND` in the reason.

    `lock_timeout` bounds the wait for another hotline process saving or recovering the same file.
    """

    MODEL: ClassVar[type[BaseModel]]
    KEY: ClassVar[str]
    SCHEMA: ClassVar[int] = 1
    WHAT: ClassVar[str]
    KIND: ClassVar[str]

    def __init__(self, path: Path, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        #: What went wrong with the file, for the dispatcher to read (a bad file moved aside).
        self.messages: list[str] = []

    def load(self) -> M | None:
        """The saved copy; None when there is none or it cannot be used (see `.messages`).

        A file that cannot be read at all (no permission) raises CacheError."""
        try:
            return self._parse(self._read())
        except _BadFile:
            pass
        with FileLock(self.path, timeout=self.lock_timeout):
            try:  # another process may have saved a good one meanwhile
                return self._parse(self._read())
            except _BadFile as bad:
                reason = str(bad)
            try:
                aside = move_aside(self.path, "bad")
            except FileNotFoundError:
                return None
        self.messages.append(
            f"the saved {self.WHAT} in {self.path} could not be used: {reason}. The file was moved"
            f" to {aside}; it will be fetched again from the server when hotline is online."
        )
        return None

    def save(self, value: M) -> None:
        """Replace the file atomically (temp file, fsync, rename), 0600 in a private directory."""
        ensure_private_dir(self.path.parent)
        payload = orjson.dumps({"schema": self.SCHEMA, self.KEY: value.model_dump(mode="json")})
        with FileLock(self.path, timeout=self.lock_timeout):
            remove_stale_temps(self.path)
            _key, fd = atomic_write_bytes(self.path, payload)
            os.close(fd)

    def _read(self) -> bytes | None:
        found = read_file(self.path)
        if found is None:
            return None
        data, _key, fd = found
        os.close(fd)
        return data

    def _parse(self, data: bytes | None) -> M | None:
        """The copy in a file's bytes (None for no file); _BadFile when they are not one."""
        if data is None:
            return None
        try:
            document = parse_document(data, self.path)
        except CorruptCache:
            raise _BadFile("it is not valid JSON") from None
        if document is None:
            raise _BadFile("it is empty")
        schema = document.get("schema")
        if not isinstance(schema, int) or isinstance(schema, bool):
            raise _BadFile(f"its schema is {schema!r}")
        if schema > self.SCHEMA:
            raise _BadFile(
                f"it was written by a newer hotline (schema {schema}; this one reads {self.SCHEMA})"
            )
        if schema != self.SCHEMA:
            raise _BadFile(f"its schema is {schema!r}")
        try:
            return self.MODEL.model_validate(document.get(self.KEY))  # type: ignore[return-value]
        except ValidationError as exc:
            raise _BadFile(f"it is not {self.KIND} ({exc.error_count()} problem(s))") from None
