"""Who the app's token belongs to (`GET /v1/me`: name, role, and the unit of a unit's login), kept
in `identity.json` in the private cache directory (0600, written atomically) so that an offline
start opens the same way (a unit's login on its unit's queues). A damaged or newer file is moved
aside with a message; the app then opens as the centre's until the server tells it again.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from pydantic import BaseModel, ValidationError

from api_client.models import Identity
from local_cache.errors import CacheError
from local_cache.storage import atomic_write_bytes, move_aside

__all__ = ["IDENTITY_FILE", "IdentityFile"]

IDENTITY_FILE = "identity.json"
_SCHEMA = 1


class _File(BaseModel):
    schema_version: int = _SCHEMA
    identity: Identity


class IdentityFile:
    """The saved identity at `path`: `load()` once at start, `save()` when the server tells it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: What went wrong with the file, for the person to read (a bad file moved aside).
        self.messages: list[str] = []

    def load(self) -> Identity | None:
        """The saved identity; None when there is none or it cannot be used (see `.messages`).
        A file that cannot be read at all raises CacheError."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CacheError(f"cannot read the saved identity {self.path}: {exc.strerror or exc}") from exc
        try:
            saved = _File.model_validate(orjson.loads(data))
            if saved.schema_version > _SCHEMA:
                raise ValueError(f"written by a newer hotline (schema {saved.schema_version})")
        except (orjson.JSONDecodeError, ValidationError, ValueError) as exc:
            aside = move_aside(self.path, "damaged")
            reason = str(exc).splitlines()[0]
            self.messages.append(
                f"the saved identity in {self.path} could not be read ({reason}); moved to {aside}"
            )
            return None
        return saved.identity

    def save(self, identity: Identity) -> None:
        """Replace the file (durable when this returns)."""
        data = orjson.dumps(_File(identity=identity).model_dump(mode="json"))
        _key, fd = atomic_write_bytes(self.path, data)
        os.close(fd)
