"""A hotline cache user in its own process, for crash and contention tests (and synthetic data).

    python tests/cache_worker.py DIR SERVER_URL DISPATCHER MODE N

MODE
  actions  record N actions (AddNote with a unique text) round-robin on the cached requests,
           printing `ACK <key> <order> <time.monotonic()>` after each `record` returned (it is
           durable by then; `order` is its outbox order number)
  pages    apply N synthetic change pages (cached requests with a bumped change_seq and
           version), flushing after each and printing `FLUSHED <cursor>`
  mixed    alternate the two (an action first)
  seed     put N synthetic requests in the cache (R-000001...) and flush: `SEEDED <count>`
  intake   take N calls in (each dispatched to cc01, then noted), printing `TOOK <temporary id>
           <key> <description>` after each; then kill itself (SIGKILL) where CACHE_WORKER_DIE says:
           `recorded` (at once, before any sync), or while one sync pushes them (HOTLINE_TOKEN):
           `posted` (the server took the first call in; its answer not yet saved), `renaming`
           (inside the outbox write that renames it, before the new file replaces the old),
           `renamed` (that write done, nothing flushed or sent after it), `followed` (the server
           took the dispatch after it, not yet confirmed)

With CACHE_WORKER_START=PATH in the environment, the worker opens the cache, prints `READY` and
waits until PATH exists before it starts (a start barrier, so that several workers run together).
With CACHE_WORKER_PAUSE=SECONDS, it sleeps that long between two steps (as a person would).

Uses only the public API of `local_cache`. Also imported by the tests for its helpers
(`synthetic`, `page_of`, `seed`, `raw_rows`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import cycle
from pathlib import Path

from api_client.actions import Action, AddNote, Dispatch
from api_client.models import (
    Caller,
    CallerIn,
    Change,
    ChangesPage,
    Channel,
    Location,
    LocationIn,
    NewRequest,
    Request,
    RequestType,
    State,
    Tier,
)
from local_cache.local_store import OUTBOX_FILE, LocalStore

T0 = datetime(2026, 7, 30, 9, 0, tzinfo=UTC)
PAGE_ROWS = 20
SEED_PAGE = 1000

TEMPLATE = Request(
    id="R-000000",
    received_at=T0,
    channel=Channel.phone,
    type=RequestType.complaint,
    category="parking",
    description="六铺炕北里12号楼2单元楼下总有外来车辆乱停，把消防通道堵了，救护车都进不来。请给我回个电话。",
    location=Location(
        street="德胜街道", community="c16", address="六铺炕北里12号楼2单元204", lat=39.95, long=116.37
    ),
    caller=Caller(name="闫女士", phone="13080268170"),
    tier=Tier.d7,
    due_at=T0 + timedelta(days=7),
    state=State.new,
    version=1,
    change_seq=1,
)
STATES = (State.new, State.dispatched, State.accepted, State.resolved)


def synthetic(
    i: int, *, state: State | None = None, version: int = 1, change_seq: int | None = None
) -> Request:
    """Request R-<i> from the template (states cycle unless given); change_seq defaults to i."""
    return TEMPLATE.model_copy(
        update={
            "id": f"R-{i:06d}",
            "state": state or STATES[i % len(STATES)],
            "lead_unit": None if (state or STATES[i % len(STATES)]) is State.new else "u-property",
            "version": version,
            "change_seq": i if change_seq is None else change_seq,
        }
    )


def raw_rows(count: int) -> Iterator[dict[str, object]]:
    """`count` synthetic requests as JSON dicts, fast (one template dump, then dict copies)."""
    base = TEMPLATE.model_dump(mode="json")
    for i in range(1, count + 1):
        state = STATES[i % len(STATES)]
        yield {
            **base,
            "id": f"R-{i:06d}",
            "state": state.value,
            "lead_unit": None if state is State.new else "u-property",
            "change_seq": i,
        }


def page_of(requests: Sequence[Request], since: int, *, has_more: bool = False) -> ChangesPage:
    """A change page carrying `requests` as changes since+1, since+2, ... (their change_seq)."""
    changes = [Change(seq=r.change_seq, action="synthetic", request=r) for r in requests]
    next_since = max([since, *(r.change_seq for r in requests)])
    return ChangesPage(changes=changes, next_since=next_since, head=next_since, has_more=has_more)


def seed(store: LocalStore, count: int) -> None:
    """Put R-000001..R-<count> in the store's cache (change_seq = number) and flush."""
    for first in range(1, count + 1, SEED_PAGE):
        batch = [synthetic(i) for i in range(first, min(first + SEED_PAGE, count + 1))]
        store.apply_page(page_of(batch, store.cache.cursor))
    store.flush()


def bumped_page(store: LocalStore, ids: Iterator[str]) -> ChangesPage:
    """The next synthetic page: PAGE_ROWS cached requests with change_seq past the cursor."""
    since = store.cache.cursor
    requests: list[Request] = []
    for offset in range(1, PAGE_ROWS + 1):
        cached = store.cache.get(next(ids))
        if cached is None:
            continue
        update = {"change_seq": since + offset, "version": cached.version + 1}
        requests.append(cached.model_copy(update=update))
    return page_of(requests, since)


def run(store: LocalStore, mode: str, count: int) -> None:
    ids = store.view_ids()
    if not ids and mode != "seed":
        raise SystemExit("the cache is empty: seed it first (MODE seed)")
    action_ids, page_ids = cycle(ids), cycle(ids)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    pause = float(os.environ.get("CACHE_WORKER_PAUSE", "0"))
    for i in range(count):
        if pause and i:
            time.sleep(pause)
        kind = mode if mode != "mixed" else ("actions" if i % 2 == 0 else "pages")
        if kind == "actions":
            pending = store.record(next(action_ids), AddNote(text=f"worker {tag} note {i}"), actor="worker")
            print(f"ACK {pending.key} {pending.order} {time.monotonic():.6f}", flush=True)
        elif kind == "pages":
            store.apply_page(bumped_page(store, page_ids))
            store.flush()
            print(f"FLUSHED {store.cache.cursor}", flush=True)
        else:
            raise SystemExit(f"unknown MODE {mode!r}: actions, pages, mixed or seed")


def die() -> None:
    """End this process as a crash would: SIGKILL, nothing flushed or closed."""
    os.kill(os.getpid(), signal.SIGKILL)


def take_in(store: LocalStore, count: int, point: str) -> None:
    """Take `count` calls in, then die at `point` (see the module docstring)."""
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    for i in range(count):
        new = NewRequest(
            channel=Channel.phone,
            type=RequestType.help,
            category="roof_leak",
            description=f"worker {tag} call {i}",
            location=LocationIn(street="德胜里一区", community="c01", address=f"德胜里一区 3-2-{400 + i}"),
            caller=CallerIn(name="王秀英", phone="13812345678"),
        )
        then: list[Action] = [Dispatch(lead_unit="cc01"), AddNote(text=f"worker {tag} note {i}")]
        recorded = store.record_intake(new, tier=Tier.d7, then=then, actor=store.dispatcher)
        print(f"TOOK {recorded[0].request_id} {recorded[0].key} {new.description}", flush=True)
    if point == "recorded":
        die()
    asyncio.run(push_until(store, point))


async def push_until(store: LocalStore, point: str) -> None:
    """Sync once with the server, dying at `point` on the way."""
    from api_client.client import HotlineClient
    from local_cache.sync import SyncEngine

    async with HotlineClient(store.server_url, os.environ["HOTLINE_TOKEN"]) as client:
        outbox, armed = store.outbox, [False]
        intake, act, confirm_intake, replace = client.intake, client.act, outbox.confirm_intake, os.replace

        async def intake_then_die(*args: object, **options: object) -> object:
            answer = await intake(*args, **options)  # type: ignore[arg-type]
            if point == "posted":
                die()
            return answer

        async def act_then_die(*args: object, **options: object) -> object:
            answer = await act(*args, **options)  # type: ignore[arg-type]
            if point == "followed":
                die()
            return answer

        def confirm_then_die(*args: object, **options: object) -> object:
            armed[0] = point == "renaming"
            temporary = confirm_intake(*args, **options)  # type: ignore[arg-type]
            if point == "renamed":
                die()
            return temporary

        def replace_or_die(src: object, dst: object, *args: object, **options: object) -> None:
            if armed[0] and str(dst).endswith(OUTBOX_FILE):
                die()  # the new outbox is written and fsynced beside the old one, not yet in place
            replace(src, dst, *args, **options)  # type: ignore[arg-type]

        client.intake = intake_then_die  # type: ignore[method-assign,assignment]
        client.act = act_then_die  # type: ignore[method-assign,assignment]
        outbox.confirm_intake = confirm_then_die  # type: ignore[method-assign,assignment]
        os.replace = replace_or_die  # this process only
        await SyncEngine(store, client).sync_once()
    raise SystemExit(f"the sync ended without reaching {point!r}")


def wait_for_start(path: str) -> None:
    """Say READY, then wait until `path` exists (the start barrier)."""
    print("READY", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise SystemExit(f"no start signal: {path} never appeared")
        time.sleep(0.001)


def main(argv: Sequence[str]) -> int:
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    directory, server_url, dispatcher, mode, count = argv
    store = LocalStore.open(Path(directory), server_url=server_url, dispatcher=dispatcher)
    try:
        for message in store.messages:
            print(f"MESSAGE {message}", file=sys.stderr, flush=True)
        start = os.environ.get("CACHE_WORKER_START")
        if start:
            wait_for_start(start)
        if mode == "seed":
            seed(store, int(count))
            print(f"SEEDED {len(store.cache)}", flush=True)
        elif mode == "intake":
            take_in(store, int(count), os.environ.get("CACHE_WORKER_DIE", "recorded"))
        else:
            run(store, mode, int(count))
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
