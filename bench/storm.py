"""A storm drill: one dispatcher clears 5,000 storm requests in the real app, by keys alone.

    python bench/storm.py [--count 5000] [--seed 2023] [--naive 100] [--moves 200] [--rate 100]

The central API is a real `LiveServer` over a temp SQLite file, run in a child process (this
script with `--serve-child`), as it runs on another machine in a centre: sharing this process's
GIL with the app would measure the bench, not the app (in-process, intake alone slowed from 2.4
to 25 ms and the feeder could not reach 100 requests a second). This process writes into the
same SQLite file through its own `SqlStore` (tokens, intake batches, the final check); the
server's notifier sees those writes by polling the head. The real `HotlineApp` runs headless
here (`App.run_test()` at 160x50, Chinese interface), synced against the server over HTTP and
SSE, driven by Pilot. Every key the script presses goes through one counting wrapper
(`Keys.press`).

1. The supervisor's storm plan (not dispatcher keys): through `HotlineClient` with a supervisor
   token, one routing rule per storm category (`*`: every community) to its usual district-wide
   unit (`PLAN`), then auto-dispatch switched on (`set_auto_dispatch`) for the categories whose
   unit is not in doubt in a storm (`AUTO`: waterlogging and fallen trees to the street office's
   city management, power cuts to the power company).
2. The storm: `storm_requests(seed, start=now - 3h, hours=3, count)` with the generator's received
   times kept, written into the server's store in one intake batch *before the app starts*
   (simulated time: the 3 hours have already passed). Auto-dispatch happens at intake (0 keys).
3. The app starts and syncs every request. The dispatcher then presses:
   - `D` (likely duplicates), `M` (merge every cluster into its parent), `y`; `escape` twice
     when the bulk screen says every merge was answered;
   - per group while the new queue is not empty (the largest category first): `/`, the
     category's pinyin initials (`fwly` = 房屋漏雨; its full pinyin if the initials would also
     find another category's rows), `enter`, `*` (mark all shown), `d`, `enter` (picks the first
     suggestion: the routing rule's unit), `ctrl+s`, `escape` (out of the bulk screen once every
     dispatch was answered), `escape` (clear the search).
   `keystrokes_per_request` = every key pressed / `count`. The server's store is then read:
   `cleared` = storm requests dispatched (by the dispatcher or a rule) or merged, `left` = the
   rest.
4. Naive, in the same run: `--naive` more storm requests (another seed, categories without
   auto-dispatch) arrive; for each, with the cursor on it: `d`, a unit query typed a letter at a
   time (the shortest run of the unit's pinyin initials no other unit's name contains: what a
   dispatcher who knows the units types), `enter`, `ctrl+s`. A dispatched request leaves the
   new queue and the cursor lands on the next one by itself, so moving costs no key.
5. Cursor moves under load: a feeder thread beside the server (in the child) creates `--rate`
   storm requests per second through `SqlStore.create_request` (one intake transaction each,
   received now) while the app syncs them live. In the new queue, `--moves` presses of `j`/`k`
   (blocks of ten each way), each 50 ms after the previous one's frame, timed as bench/queue.py
   times them: from the key event posted to the app to the first frame (`App._display`, a
   private hook, bench only) composed after the table painted a line (`QueueTable.render_line`,
   wrapped) with its cursor already moved.

Prints one JSON object (one line). Targets: keystrokes_per_request <= 0.5, cursor_move_p99_ms
<= 50.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder holds queue.py, which would shadow the standard library's `queue` for every
# import below: keep the folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from api_client.client import HotlineClient
from api_client.models import Role, RoutingRuleIn, State, now_utc
from central_api.server import LiveServer
from central_api.sql_store import SqlStore
from central_api.storm import StormCall, storm_requests
from tui.core.i18n import Strings
from tui.core.pinyin import spellings
from tui.core.queue.filters import NO_FILTER
from tui.core.queue.kinds import QueueKind
from tui.core.queue.sorts import Sort
from tui.core.session import Session
from tui.ui.app import HotlineApp
from tui.ui.screens.bulk import BulkScreen
from tui.ui.screens.queues import QueuesScreen

SIZE = (160, 50)
#: The supervisor's storm plan: category -> the unit a rule sends it to (every community).
PLAN: dict[str, str] = {
    "roof_leak": "hm01",  # 房管所
    "waterlogging": "st-city",
    "sewer": "ut-water",
    "power_outage": "ut-power",
    "tree_hazard": "st-city",
    "elevator": "st-commdev",
    "building_safety": "hm01",
    "property_mgmt": "st-commdev",
    "policy_enquiry": "st-welfare",
    "noise": "st-enforce",
    "door_access": "st-safety",
    "parking": "st-enforce",
    "street_light": "st-city",
    "gas": "ut-gas",
    "sanitation": "st-city",
    "pest": "st-city",
    "water_outage": "ut-water",
    "tree": "st-city",
}
#: Categories the supervisor lets the server dispatch by itself for the surge.
AUTO = ("waterlogging", "tree_hazard", "power_outage")
#: Pause before each measured cursor move (as bench/queue.py: a dispatcher is not a key repeat).
PACE = 0.05
#: How long one measured move may take before it counts as lost.
MOVE_TIMEOUT = 5.0


# --------------------------------------------------------------------------- helpers


class Keys:
    """Pilot's `press`, counting every key, by step."""

    def __init__(self, pilot: Any) -> None:
        self.pilot = pilot
        self.by_step: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.by_step.values())

    async def press(self, step: str, *keys: str) -> None:
        self.by_step[step] += len(keys)
        await self.pilot.press(*keys)


async def until(pilot: Any, check: Callable[[], object], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or check}")
        await pilot.pause(0.05)


def synced(app: HotlineApp, count: int = 0) -> bool:
    status = app.last_status
    ready = app.loaded and status is not None and status.online and status.pending == 0
    return ready and len(app.model) >= count


def named(app: HotlineApp) -> bool:
    """The directory has arrived and every row shows its category's name (the model is rebuilt
    in a thread once the directory comes)."""
    names = app.session.names.categories
    return bool(names) and all(row.category_name == names.get(row.category) for row in app.model.rows())


def screen_named(app: HotlineApp, name: str) -> bool:
    return type(app.screen).__name__ == name


def showing(queues: QueuesScreen, size: int) -> Callable[[], bool]:
    """A search is shown: `size` rows, the filter set."""
    return lambda: queues.table.row_count == size and not queues.filter.is_empty


def answered(bulk: BulkScreen) -> Callable[[], bool]:
    return lambda: bulk.done


def moved_on(app: HotlineApp, queues: QueuesScreen, request_id: str | None) -> Callable[[], bool]:
    """Back on the queues with the cursor on another request."""
    return lambda: app.screen is queues and queues.current_request_id() != request_id


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def bench_app_class() -> type[HotlineApp]:
    """HotlineApp that notes when each frame is composed, and a QueueTable that notes when it
    paints a line and where its cursor was then (private hooks, bench only)."""
    from tui.ui.widgets.queue_table import QueueTable

    original = QueueTable.render_line

    def render_line(self: Any, y: int) -> Any:
        self.bench_paint = (time.perf_counter(), self.cursor_id)
        return original(self, y)

    QueueTable.render_line = render_line  # type: ignore[method-assign]

    class BenchApp(HotlineApp):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.frames: list[float] = []
            self.frame_event = asyncio.Event()

        def _display(self, screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.frames.append(time.perf_counter())
                self.frame_event.set()
            super()._display(screen, renderable)

    return BenchApp


class Feeder(threading.Thread):
    """Creates `calls` in the store at `rate` per second, each received when it is created."""

    def __init__(self, store: Any, calls: list[StormCall], rate: float) -> None:
        super().__init__(name="storm-feeder", daemon=True)
        self.store, self.calls, self.rate = store, calls, rate
        self.created = 0
        self.halt = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        for i, call in enumerate(self.calls):
            if self.halt.wait(max(0.0, start + i / self.rate - time.monotonic())):
                return
            new = call.new.model_copy(update={"received_at": now_utc()})
            self.store.create_request(new, actor=call.actor, idempotency_key=None)
            self.created += 1


def search_word(app: HotlineApp, category: str, name: str) -> str:
    """What the dispatcher types to see one category's new requests: the name's pinyin initials,
    else its full pinyin, else the name, whichever shows that category's rows and no other."""
    spelled, initials = spellings(name)
    now = app.clock()
    wanted = {r.id for r in app.model.apply(QueueKind.new, NO_FILTER, Sort.urgency, now=now)}
    wanted = {i for i in wanted if (row := app.model.get(i)) is not None and row.category == category}
    for word in (initials, spelled, name):
        shown = app.model.apply(QueueKind.new, replace(NO_FILTER, text=word), Sort.urgency, now=now)
        if {r.id for r in shown} == wanted:
            return word
    raise RuntimeError(f"no search word shows exactly the new requests of {category} ({name})")


def unit_query(units: Sequence[Any], unit_id: str) -> str:
    """The shortest run of a unit's pinyin initials (2 letters or more) that no other unit's
    name, initials or full pinyin contains."""
    others = [u for u in units if u.id != unit_id]
    target = next(u for u in units if u.id == unit_id)
    _, initials = spellings(target.name)
    for length in range(2, len(initials) + 1):
        for start in range(len(initials) - length + 1):
            word = initials[start : start + length]
            if not any(word in text for u in others for text in (u.name, *spellings(u.name))):
                return word
    return initials


# --------------------------------------------------------------------------- the run


async def set_plan(url: str, token: str) -> list[dict[str, object]]:
    """The supervisor's rules, through the API (not dispatcher keys)."""
    rules: list[dict[str, object]] = []
    async with HotlineClient(url, token) as client:
        for category, unit in PLAN.items():
            plan = RoutingRuleIn(category=category, lead_unit=unit)
            await client.put_routing_rule(f"storm-{category}", plan)
        for category in AUTO:
            await client.set_auto_dispatch(category, True)
        for rule in await client.routing_rules():
            rules.append({"category": rule.category, "unit": rule.lead_unit, "auto": rule.auto_dispatch})
    return rules


def serve_child(db: str) -> None:
    """The child process: a LiveServer over `db`, and a feeder run on command (JSON lines on
    stdin: `{"feed": [seed, count, rate]}` starts it, `{"created": 0}` asks how many it has
    created, `{"stop": 0}` stops it; each is answered with one JSON line). EOF ends it."""
    server = LiveServer(db).start()
    print(json.dumps({"url": server.url}), flush=True)
    feeder: Feeder | None = None
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if "feed" in command:
                seed, count, rate = command["feed"]
                calls = storm_requests(seed, start=datetime.now(UTC), hours=1, count=count)
                feeder = Feeder(server.store, calls, rate)
                feeder.start()
            elif "stop" in command and feeder is not None:
                feeder.halt.set()
                feeder.join(10)
            print(json.dumps({"created": feeder.created if feeder else 0}), flush=True)
    finally:
        if feeder is not None:
            feeder.halt.set()
            feeder.join(10)
        server.stop()


class Child:
    """The server's process, seen from here."""

    def __init__(self, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve-child", str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = str(self._answer()["url"])

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the server's process ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def ask(self, command: dict[str, object]) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = await asyncio.to_thread(self._answer)
        return int(answer["created"])

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def drill(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    began = time.perf_counter()
    db = workdir / "central.db"
    server = Child(db)
    store = SqlStore.open(str(db))
    try:
        supervisor = store.create_token("值班长", Role.supervisor)
        rules = await set_plan(server.url, supervisor)
        start = datetime.now(UTC) - timedelta(hours=args.hours)
        calls = storm_requests(args.seed, start=start, hours=args.hours, count=args.count)
        created = store.create_requests([c.new for c in calls], actor=calls[0].actor)
        storm_ids = [r.id for r in created]
        token = store.create_token("张敏", Role.dispatcher)
        session = Session.open(workdir / "cache", api_url=server.url, dispatcher="张敏", token=token)
        app = bench_app_class()(session, strings=Strings("zh"))
        result: dict[str, object] = {"requests": len(storm_ids), "seed": args.seed}
        result["rules"] = len(rules)
        result["auto_dispatch_categories"] = list(AUTO)
        try:
            async with app.run_test(size=SIZE) as pilot:
                keys = Keys(pilot)
                await until(pilot, lambda: synced(app, len(storm_ids)) and named(app), timeout=120,
                            what="the first sync")  # fmt: skip
                drill_began = time.perf_counter()
                result.update(await clear_queue(app, pilot, keys))
                result["drill_s"] = round(time.perf_counter() - drill_began, 1)
                result["keys"] = keys.total
                result["keys_by_step"] = dict(keys.by_step)
                result["keystrokes_per_request"] = round(keys.total / len(storm_ids), 4)
                result.update(verify(store, storm_ids))
                result.update(await naive(app, pilot, store, args))
                result.update(await cursor_moves(app, pilot, server, args))
        finally:
            session.close()
    finally:
        store.close()
        server.stop()
    result["elapsed_s"] = round(time.perf_counter() - began, 1)
    result["load"] = [round(x, 2) for x in os.getloadavg()]
    return result


async def clear_queue(app: HotlineApp, pilot: Any, keys: Keys) -> dict[str, object]:
    from tui.ui.screens.dispatch import DispatchDialog
    from tui.ui.screens.duplicates import DuplicatesScreen

    queues = app.screen
    assert isinstance(queues, QueuesScreen)
    out: dict[str, object] = {}

    # duplicates: D, M, y — then out of the bulk screen and the duplicates screen
    await keys.press("merge", "D")
    await until(pilot, lambda: isinstance(app.screen, DuplicatesScreen) and bool(app.screen.clusters))
    duplicates = app.screen
    assert isinstance(duplicates, DuplicatesScreen)
    out["clusters_merged"] = len(duplicates.clusters)
    await keys.press("merge", "M")
    await until(pilot, lambda: screen_named(app, "ConfirmDialog"))
    await keys.press("merge", "y")
    await until(pilot, lambda: isinstance(app.screen, BulkScreen))
    merging = app.screen
    assert isinstance(merging, BulkScreen)
    await until(pilot, lambda: merging.done, timeout=600, what="every merge answered")
    out["merged"] = len(merging.keys)
    out["merge_refused"] = len(merging.refused)
    await keys.press("merge", "escape", "escape")
    await until(pilot, lambda: app.screen is queues)

    # one group per category: / initials enter * d enter ctrl+s escape escape
    groups: list[dict[str, object]] = []
    session = app.session
    while queues.table.row_count:
        shown = Counter(row.category for row in queues.table.rows)
        category, size = shown.most_common(1)[0]
        name = session.names.categories.get(category, category)
        word = search_word(app, category, name)
        await keys.press("groups", "slash", *word, "enter")
        await until(pilot, showing(queues, size))
        assert {row.category for row in queues.table.rows} == {category}
        await keys.press("groups", "asterisk")
        assert len(queues.marked) == size
        await keys.press("groups", "d")
        await until(pilot, lambda: isinstance(app.screen, DispatchDialog) and bool(app.screen.matches))
        dialog = app.screen
        assert isinstance(dialog, DispatchDialog)
        first = dialog.matches[0].unit.id
        await keys.press("groups", "enter")
        lead = dialog.lead
        await keys.press("groups", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, BulkScreen))
        bulk = app.screen
        assert isinstance(bulk, BulkScreen)
        await until(pilot, answered(bulk), timeout=600, what=f"the dispatch of {category}")
        groups.append(
            {"category": category, "word": word, "requests": size, "unit": lead,
             "rule_first": first == PLAN.get(category), "refused": len(bulk.refused)}
        )  # fmt: skip
        await keys.press("groups", "escape")
        await until(pilot, lambda: app.screen is queues)
        await keys.press("groups", "escape")
        await until(pilot, lambda: queues.filter.is_empty)
        if len(groups) > 100:
            raise RuntimeError("the new queue does not empty")
    await until(pilot, lambda: synced(app), timeout=120, what="every action sent")
    out["groups"] = len(groups)
    out["group_detail"] = groups
    return out


def verify(store: SqlStore, ids: list[str]) -> dict[str, object]:
    """From the server's store: how many storm requests were dispatched, merged, auto-dispatched."""
    states: Counter[str] = Counter()
    auto = 0
    for request_id in ids:
        request = store.get_request(request_id)
        if request.merged_into:
            states["merged"] += 1
        elif request.state is State.dispatched:
            states["dispatched"] += 1
        else:
            states[request.state.value] += 1
        events = store.audit(request_id)
        auto += any(e.action == "dispatch" and e.actor.startswith("auto:") for e in events)
    cleared = states["merged"] + states["dispatched"]
    left = len(ids) - cleared
    return {"cleared": cleared, "left": left, "server_states": dict(states), "auto_dispatched": auto}


async def naive(app: HotlineApp, pilot: Any, store: SqlStore, args: argparse.Namespace) -> dict[str, object]:
    """One request at a time: d, a unit query, enter, ctrl+s."""
    from tui.ui.screens.dispatch import DispatchDialog

    if args.naive <= 0:
        return {"naive_requests": 0}
    queues = app.screen
    assert isinstance(queues, QueuesScreen)
    start = datetime.now(UTC) - timedelta(minutes=30)
    calls = [c for c in storm_requests(args.seed + 1, start=start, hours=0.5, count=args.naive * 3)
             if c.new.category not in AUTO][: args.naive]  # fmt: skip
    store.create_requests([c.new for c in calls], actor=calls[0].actor)
    await until(pilot, lambda: synced(app) and queues.table.row_count == len(calls), timeout=60)
    keys = Keys(pilot)
    units = app.session.units
    typed: list[int] = []
    done = 0
    while queues.table.row_count:
        request_id = queues.current_request_id()
        row = app.model.get(request_id) if request_id else None
        assert row is not None and row.state is State.new
        wanted = PLAN[row.category]
        word = unit_query(units, wanted)
        await keys.press("naive", "d")
        await until(pilot, lambda: isinstance(app.screen, DispatchDialog))
        dialog = app.screen
        assert isinstance(dialog, DispatchDialog)
        await keys.press("naive", *word, "enter")
        typed.append(len(word))
        assert dialog.lead == wanted, (dialog.lead, wanted)
        await keys.press("naive", "ctrl+s")
        await until(pilot, moved_on(app, queues, request_id))
        done += 1
    await until(pilot, lambda: synced(app), timeout=60, what="the naive dispatches sent")
    return {
        "naive_requests": done,
        "naive_keys": keys.total,
        "naive_keystrokes_per_request": round(keys.total / done, 2),
        "naive_query_letters": round(sum(typed) / len(typed), 2),
    }


async def cursor_moves(
    app: HotlineApp, pilot: Any, server: Child, args: argparse.Namespace
) -> dict[str, object]:
    """j/k in the new queue while `args.rate` requests a second arrive and sync live."""
    from textual import events

    queues = app.screen
    assert isinstance(queues, QueuesScreen)
    table = queues.table
    frames: list[float] = app.frames  # type: ignore[attr-defined]
    frame_event: asyncio.Event = app.frame_event  # type: ignore[attr-defined]
    seconds = args.moves * 0.2 + 30  # enough requests for the slowest measurement
    await server.ask({"feed": [args.seed + 2, int(args.rate * seconds), args.rate]})
    try:
        await until(pilot, lambda: table.row_count >= 30, timeout=60, what="arrivals in the queue")
        for _ in range(5):  # off the first row, so that `k` always moves
            table.action_cursor_down()
        await pilot.pause(0.2)
        arrived0, began = await server.ask({"created": 0}), time.perf_counter()
        moves: list[float] = []
        lost = 0
        for n in range(args.moves):
            key = "j" if (n // 10) % 2 == 0 else "k"
            before = table.cursor_id
            await asyncio.sleep(PACE)
            t0 = time.perf_counter()
            app.post_message(events.Key(key, key))
            deadline = t0 + MOVE_TIMEOUT
            while True:
                frame_event.clear()
                try:
                    await asyncio.wait_for(frame_event.wait(), max(0.01, deadline - time.perf_counter()))
                except TimeoutError:
                    lost += 1
                    break
                painted_at, painted_cursor = getattr(table, "bench_paint", (0.0, None))
                if painted_at >= t0 and painted_cursor != before:
                    moves.append((frames[-1] - t0) * 1000)
                    break
        measured = time.perf_counter() - began
        arrived = await server.ask({"created": 0}) - arrived0
    finally:
        await server.ask({"stop": 0})
    return {
        "cursor_moves": len(moves),
        "cursor_moves_lost": lost,
        "cursor_move_p50_ms": round(percentile(moves, 0.5), 2),
        "cursor_move_p99_ms": round(percentile(moves, 0.99), 2),
        "cursor_move_max_ms": round(max(moves), 2),
        "arrived_during_moves": arrived,
        "arrivals_per_s": round(arrived / measured, 1),
        "queue_rows_after_moves": table.row_count,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=5000, help="storm requests to clear")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--hours", type=float, default=3.0, help="the storm's window, ending now")
    parser.add_argument("--naive", type=int, default=100, help="requests dispatched one by one")
    parser.add_argument("--moves", type=int, default=200, help="measured cursor moves")
    parser.add_argument("--rate", type=float, default=100.0, help="arrivals per second while moving")
    parser.add_argument("--serve-child", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_child:
        serve_child(args.serve_child)
        return 0
    with tempfile.TemporaryDirectory(prefix="hotline-storm-") as tmp:
        result = asyncio.run(drill(args, Path(tmp)))
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
