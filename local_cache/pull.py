"""Pulling the change feed into the local cache, page by page from the cache's cursor.

Each page (`HotlineClient.pull_page`: each request checked only for its id, state, version and
change_seq, kept as the JSON the server sent, and validated in full when first read) is checked
(its seqs ascend, lie after the cursor and end at ``next_since``) before it is applied; the next
page is fetched while one is applied. The cache is flushed in a worker thread at most every
`flush_interval` seconds (and never more than a fifth of the time), and a flush writes the
cursor together with the data it belongs to. A bad page stops the pull with a clear error; the
cursor stays at the last good page.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import itertools
import time
from collections.abc import Callable
from typing import Any

from api_client.client import HotlineClient
from api_client.errors import InvalidResponse
from api_client.models import ChangesPage, PulledPage
from local_cache.local_store import LocalStore


class PageError(InvalidResponse):
    """A change-feed page that breaks the feed's rules (the pull stops before applying it)."""


def check_page(page: ChangesPage | PulledPage, since: int) -> None:
    """Raise PageError unless `page` is a well-formed page of the feed after `since`.

    Its seqs must strictly ascend, all after `since`, the last one being `next_since`; an empty
    page keeps `next_since` at `since` and says there is no more; the head is never before
    either (a head before the cursor means the server's database was replaced).
    """
    what = f"the central API sent a malformed change page (since {since})"
    if page.head < since:
        raise PageError(
            f"the central API's change feed ends at {page.head}, before this cache's cursor {since}:"
            " its database was replaced or restored. Nothing was changed here; ask the administrator"
            " (pending actions stay queued)",
            field="head",
        )
    seqs = page.seqs if isinstance(page, PulledPage) else [change.seq for change in page.changes]
    if not seqs:
        if page.next_since != since or page.has_more:
            raise PageError(f"{what}: an empty page must end at {since} with has_more false", field="changes")
        return
    if seqs[0] <= since:
        raise PageError(f"{what}: change {seqs[0]} is not after {since}", field="changes.0.seq")
    for index, (before, after) in enumerate(itertools.pairwise(seqs), start=1):
        if after <= before:
            raise PageError(f"{what}: change {after} follows {before}", field=f"changes.{index}.seq")
    if page.next_since != seqs[-1]:
        raise PageError(
            f"{what}: next_since {page.next_since} is not the last change {seqs[-1]}", field="next_since"
        )
    if page.head < page.next_since:
        raise PageError(f"{what}: head {page.head} is before change {page.next_since}", field="head")


def page_after(page: PulledPage, since: int) -> PulledPage:
    """The changes of a checked `page` that come after `since` (it ends where `page` ends)."""
    first = bisect.bisect_right(page.seqs, since)
    if first == 0:
        return page
    return dataclasses.replace(
        page, seqs=page.seqs[first:], stamps=page.stamps[first:], requests=page.requests[first:]
    )


async def pull_pages(
    store: LocalStore,
    client: HotlineClient,
    *,
    page_size: int,
    flush_interval: float,
    applied: Callable[[PulledPage], None],
) -> int:
    """Apply every change after the cache's cursor; return how many changes were applied.
    `applied(page)` is called after each page is applied.

    Raises a HotlineError (after waiting for a flush under way) when a page cannot be fetched
    or is malformed: the cursor then stays at the last good page. The last pages are left for
    the caller to flush.
    """
    since = store.cache.cursor
    pulled = 0
    last_flush, flush_cost = time.monotonic(), 0.0
    flushing: asyncio.Future[float] | None = None
    fetch = asyncio.ensure_future(client.pull_page(since, page_size))
    try:
        while True:
            page = await fetch
            check_page(page, since)
            if page.has_more:  # fetch the next page while this one is applied
                fetch = asyncio.ensure_future(client.pull_page(page.next_since, page_size))
            store.apply_page(page)
            applied(page)
            pulled += len(page.seqs)
            since = page.next_since
            if not page.has_more:
                break  # the last page is flushed by the caller, with the cursor
            # A flush rewrites the whole cache: it runs in a thread while the next pages are
            # fetched and applied, and never takes more than a fifth of the time.
            if (flushing is None or flushing.done()) and time.monotonic() - last_flush >= max(
                flush_interval, 4 * flush_cost
            ):
                if flushing is not None:
                    await flushing  # a failed flush raises here
                flushing = asyncio.ensure_future(_timed_flush(store))
                last_flush = time.monotonic()
            if flushing is not None and flushing.done():
                flush_cost = await flushing
                flushing = None
    finally:
        if not fetch.done():  # a prefetch nobody will read: cancel it, and retrieve its outcome
            fetch.cancel()
            fetch.add_done_callback(_discard)
        if flushing is not None:
            await flushing
    return pulled


async def _timed_flush(store: LocalStore) -> float:
    """Flush the cache in a worker thread; returns how long it took."""
    started = time.monotonic()
    await asyncio.to_thread(store.flush)
    return time.monotonic() - started


def _discard(future: asyncio.Future[Any]) -> None:
    """Retrieve a dropped future's outcome so asyncio does not report it as never retrieved."""
    if not future.cancelled():
        future.exception()
