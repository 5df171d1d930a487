"""The exceptions of the local cache: each message is written for the dispatcher to read.

`CacheError` is the base of everything this package raises on purpose; its message says what
happened and what to do (which file, which command to run).
"""

from __future__ import annotations


class CacheError(Exception):
    """The local cache cannot do what was asked; the message says why and what to do."""


class UnsafePermissions(CacheError):
    """A cache directory or file that other users could read, or that another user owns."""


class NewerCacheVersion(CacheError):
    """A cache file written by a newer hotline than this one."""


class CorruptCache(CacheError):
    """A cache file that is not valid JSON, or not shaped as this version writes it."""


class UnknownRequest(CacheError, KeyError):
    """A request id that is not in the local cache."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownAction(CacheError, KeyError):
    """An outbox key or conflict id that the outbox does not hold (any more)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CacheBusy(CacheError):
    """A lock on a cache file could not be taken in time: another hotline process holds it."""
