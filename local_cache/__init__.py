"""The offline side of hotline: the local request cache, the durable outbox and (issue 3) the
sync engine.

- `paths`: where a cache lives (per user, server and dispatcher) and the 0700/0600 check;
- `storage`: `AtomicJSONStorage`, a TinyDB storage that writes atomically with orjson;
- `locking`: `FileLock` and `try_exclusive` between processes sharing a cache;
- `outbox`: `Outbox`, the pending actions and conflicts (`PendingAction`, `ConflictRecord`);
- `intakes`: a call taken in while it waits in the outbox (its temporary id, its view);
- `request_cache`: `RequestCache`, the cached requests and their in-memory index;
- `local_store`: `LocalStore`, both joined, with the optimistic view the UI shows;
- `errors`: the exceptions, each with a message for the dispatcher.
"""

from __future__ import annotations

from local_cache.errors import (
    CacheBusy,
    CacheError,
    CorruptCache,
    NewerCacheVersion,
    UnknownAction,
    UnknownRequest,
    UnsafePermissions,
)
from local_cache.local_store import LocalStore
from local_cache.locking import FileLock, try_exclusive
from local_cache.outbox import ConflictRecord, Outbox, PendingAction
from local_cache.paths import cache_dir, cache_root
from local_cache.request_cache import RequestCache
from local_cache.storage import AtomicJSONStorage

__all__ = [
    "AtomicJSONStorage",
    "CacheBusy",
    "CacheError",
    "ConflictRecord",
    "CorruptCache",
    "FileLock",
    "LocalStore",
    "NewerCacheVersion",
    "Outbox",
    "PendingAction",
    "RequestCache",
    "UnknownAction",
    "UnknownRequest",
    "UnsafePermissions",
    "cache_dir",
    "cache_root",
    "try_exclusive",
]
