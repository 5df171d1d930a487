"""Benchmark of the dispatcher's queue: `QueueModel` + `QueueTable` against Textual's `DataTable`.

    python bench/queue.py [--sizes 1000,10000,100000] [--samples 64] [--datatable-samples 3]
                          [--no-datatable] [--no-pty]

Prints one JSON object per line, one per size. Synthetic rows: Chinese descriptions built from
the reference catalogue (20 communities, 26 categories, their units), every state, a fixed `now`.
- `build_rows_s`, `build_model_s`, `prepare_sorts_s`: making the `QueueRow`s, the model (sorted
  by urgency), and the two other sort orders (`QueueModel.prepare`, done before measuring);
- `first_paint_s`: a headless `App.run_test(size=(160, 50))` whose table is given the rows at
  construction, from entering `run_test` to the first frame that shows them (frames timed in
  `App._display`, a private hook, bench only);
- `refilter_p50_ms`, `refilter_p99_ms`: `QueueModel.apply` + `QueueTable.set_rows` + the frame
  that shows the new rows, over `filter_series()` (queue switches, searches typed a character at a
  time, pasted words, category/community/unit/channel/tier picks, another sort); each change
  starts 50 ms after the previous frame (`PACE`); when the rows on screen stay the same the table
  paints nothing, and the change ends with `set_rows`. `apply_p99_ms`: `QueueModel.apply` alone;
- `cursor_move_p99_ms`: a `j`/`k` key event posted to the app until the frame that shows it;
- `bytes_per_cursor_move`: in a child process under a real pty (`TERM=xterm-256color`, 160x50,
  mouse off), the median bytes the app writes per `j` once the first paint has settled, the
  cursor staying within the page (`_max` the largest); `bytes_per_scroll_move`: a `j` at the
  bottom edge, which scrolls every row by one line; `bytes_initial_paint`: the first paint;
- `rss_mb`: the maximum RSS of that child (rows, model with every sort order, app);
- `datatable_first_paint_s`, `datatable_refilter_p99_ms`: the same rows in a `DataTable` in the
  same run (refilter = `clear` + `add_rows`, shown once the new cells are measured); 3 refilters
  at 100,000 (`--datatable-samples`), 10 below.
Targets at 100,000: first_paint_s <= 0.5, refilter_p99_ms <= 50, bytes_per_cursor_move <= 2048,
rss_mb <= 200.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's directory comes first on sys.path, and this file would stand in
# for the standard library's `queue` (which asyncio and Textual import). Drop that directory.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse
import asyncio
import json
import pty
import random
import select
import statistics
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from api_client.models import Channel, State, Tier
from central_api.catalogue import CATEGORIES, CATEGORY_DETAILS, COMMUNITIES, UNITS, suggested_units
from tui.core.queue.filters import Filter
from tui.core.queue.kinds import QueueKind
from tui.core.queue.model import QueueModel
from tui.core.queue.rows import Names, QueueRow, make_row
from tui.core.queue.sorts import Sort

SIZE = (160, 50)
NOW = 1_767_225_600.0  # 2026-01-01 00:00 UTC: a fixed "now" so every run sees the same queues

# --------------------------------------------------------------------------- synthetic rows

_STATE_WEIGHTS = [
    (State.new, 6),
    (State.dispatched, 8),
    (State.accepted, 14),
    (State.returned, 1),
    (State.extended, 2),
    (State.resolved, 6),
    (State.callback_logged, 2),
    (State.closed, 58),
    (State.reopened, 1),
    (State.merged, 2),
]
_CHANNELS = [(Channel.phone, 90), (Channel.wechat, 5), (Channel.app, 3), (Channel.web, 2)]
_OPENINGS = ["", "", "您好，", "你好，", "我是{community}的居民，", "喂，您好，我反映个事儿，"]
_BODIES = [
    "{addr}{detail}，已经{days}了。",
    "{addr}附近{detail}，{time}开始的，一直没人管。",
    "反映{addr}的问题：{detail}，希望有关部门尽快处理。",
    "{time}发现{addr}{keyword}问题比较严重，{detail}。",
]
_CLOSINGS = [
    "",
    "",
    "麻烦尽快派人来看看。",
    "希望尽快解决。",
    "家里有老人孩子，比较着急。",
    "请给我回个电话。",
]
_DAYS = ["两天", "三天", "四五天", "一个星期", "好几天", "半个多月"]
_TIMES = ["昨天晚上", "今天早上六点多", "今天上午", "中午", "夜里十一点多", "凌晨两点"]
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_TITLES = ["先生", "女士", "大爷", "阿姨", "师傅"]
_VULNERABLE = ["我是独居老人，子女不在身边。", "家里有残疾人，行动不便。", ""]


def names() -> Names:
    """Display names from the reference catalogue."""
    return Names(
        categories={c.code: c.name for c in CATEGORIES},
        communities={c.id: c.name for c in COMMUNITIES},
        units={u.id: u.name for u in UNITS},
    )


def synthetic_rows(size: int, *, seed: int = 12345, now: float = NOW) -> list[QueueRow]:
    """`size` realistic rows: Chinese descriptions, 20 communities, 26 categories, every state."""
    rng = random.Random(seed)
    lookups = names()
    states = [s for s, _ in _STATE_WEIGHTS]
    state_weights = [w for _, w in _STATE_WEIGHTS]
    channels = [c for c, _ in _CHANNELS]
    channel_weights = [w for _, w in _CHANNELS]
    leads = {(c.code, m.id): suggested_units(c.code, m.id)[:3] for c in CATEGORIES for m in COMMUNITIES}
    rows: list[QueueRow] = []
    picked_states = rng.choices(states, state_weights, k=size)
    picked_channels = rng.choices(channels, channel_weights, k=size)
    for i in range(size):
        category = rng.choice(CATEGORIES)
        community = rng.choice(COMMUNITIES)
        detail = CATEGORY_DETAILS[category.code]
        street = rng.choice(community.streets)
        address = f"{street}{rng.randint(1, 120)}号院{rng.randint(1, 12)}号楼{rng.randint(1, 6)}单元"
        state = picked_states[i]
        open_state = state not in (State.closed, State.merged)
        age = rng.uniform(0, 2 * 86400) if open_state else rng.uniform(0, 30 * 86400)
        received = now - age
        due = received + category.tier.duration.total_seconds()
        if state is State.extended:
            due += 3 * 86400
        vulnerable = rng.random() < 0.04
        description = (
            rng.choice(_OPENINGS).format(community=community.name)
            + rng.choice(_BODIES).format(
                addr=address,
                detail=detail.description,
                keyword=rng.choice(detail.keywords) if detail.keywords else category.name,
                days=rng.choice(_DAYS),
                time=rng.choice(_TIMES),
            )
            + (rng.choice(_VULNERABLE) if vulnerable else "")
            + rng.choice(_CLOSINGS)
        )
        dispatched = state not in (State.new,)
        candidates = leads[(category.code, community.id)]
        lead = candidates[0] if dispatched and candidates else None
        co = candidates[1:2] if lead and rng.random() < 0.15 else []
        rows.append(
            make_row(
                id=f"R-{i + 1:06d}",
                state=state,
                category=category.code,
                community=community.id,
                tier=category.tier,
                due_at=due,
                received_at=received,
                description=description,
                address=address,
                caller=rng.choice(_SURNAMES) + rng.choice(_TITLES),
                lead_unit=lead,
                co_units=co,
                channel=picked_channels[i],
                vulnerable=vulnerable,
                unsent=rng.random() < 0.002,
                conflict=rng.random() < 0.0005,
                names=lookups,
            )
        )
    return rows


@dataclass(frozen=True)
class Change:
    """One refilter step: what the dispatcher switched to."""

    kind: QueueKind
    filter: Filter
    sort: Sort = Sort.urgency


def _typed(kind: QueueKind, text: str) -> list[Change]:
    """Typing `text` into the search box: one refilter per character (spaces included)."""
    return [Change(kind, Filter(text=text[:n])) for n in range(1, len(text) + 1) if text[n - 1] != " "]


def filter_series() -> list[Change]:
    """What a dispatcher does in a minute: switches queues, types searches a character at a time
    (each keystroke refilters), pastes a word, picks categories, communities, units, channels and
    tiers, sorts. 18 distinct search words: more than the model remembers (8), so a second pass
    through the series searches cold again."""
    return [
        Change(QueueKind.new, Filter()),
        Change(QueueKind.due, Filter()),
        Change(QueueKind.in_progress, Filter()),
        *_typed(QueueKind.all, "漏雨 老人"),
        *_typed(QueueKind.all, "德胜 电梯"),
        Change(QueueKind.all, Filter(categories=frozenset({"roof_leak", "waterlogging"}))),
        Change(QueueKind.in_progress, Filter(communities=frozenset({"c03", "c07", "c11"}))),
        Change(QueueKind.all, Filter(units=frozenset({"pm01"}))),
        Change(QueueKind.new, Filter(tiers=frozenset({Tier.h2, Tier.h24}))),
        Change(QueueKind.all, Filter(channels=frozenset({Channel.wechat}))),
        *_typed(QueueKind.callback, "物业"),
        Change(QueueKind.all, Filter(), Sort.newest),
        Change(QueueKind.attention, Filter()),
        *_typed(QueueKind.all, "r-0012"),
        Change(QueueKind.all, Filter(text="停车")),  # pasted: a cold two-character search
        Change(QueueKind.due, Filter(text="积水")),
        Change(QueueKind.all, Filter()),
    ]


def percentile(samples: Sequence[float], q: float) -> float:
    """The `q` quantile (0..1) of `samples`, nearest rank."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


# --------------------------------------------------------------------------- headless runs

#: Pause between two measured changes: a dispatcher does not refilter 60 times a second, and a
#: change made right after a frame would always wait a whole frame period for the next one.
PACE = 0.05


class _Painted:
    """Mixed into a table: remembers when it first and last painted a line showing its rows."""

    first_paint = 0.0
    last_paint = 0.0

    def _painted(self) -> None:
        self.last_paint = time.perf_counter()
        if not self.first_paint:
            self.first_paint = self.last_paint


def _frame_app(table_factory: Any) -> Any:
    """An app that records when each frame is composed (headless: composed, never written)."""
    from textual.app import App, ComposeResult

    class FrameApp(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.frames: list[float] = []
            self.frame_event = asyncio.Event()

        def compose(self) -> ComposeResult:
            yield table_factory()

        def _display(self, screen: Any, renderable: Any) -> None:
            # Private hook, bench only: the compositor has just produced a frame.
            if renderable is not None:
                self.frames.append(time.perf_counter())
                self.frame_event.set()
            super()._display(screen, renderable)

        async def shown(self, table: _Painted, since: float) -> float:
            """The time of the next frame in which `table` painted its rows after `since`."""
            while True:
                self.frame_event.clear()
                await self.frame_event.wait()
                if table.last_paint >= since:
                    return self.frames[-1]

        def first_shown(self, table: _Painted) -> float:
            """The time of the first frame that showed `table`'s rows."""
            return min(f for f in self.frames if f >= table.first_paint)

    return FrameApp()


async def bench_queue_table(model: QueueModel, samples: int) -> dict[str, float]:
    """First paint, refilter and cursor latency of `QueueTable` (headless)."""
    from textual import events
    from textual.strip import Strip

    from tui.ui.widgets.queue_table import QueueTable

    class Table(_Painted, QueueTable):
        def render_line(self, y: int) -> Strip:
            self._painted()
            return super().render_line(y)

    rows = model.apply(QueueKind.all, now=NOW)
    app = _frame_app(lambda: Table(rows, clock=lambda: NOW))
    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(Table)
        while not table.first_paint or app.frames[-1] < table.first_paint:
            await pilot.pause()
        first_paint = app.first_shown(table) - start

        series = filter_series()
        refilter: list[float] = []
        apply: list[float] = []
        for n in range(samples):
            change = series[n % len(series)]
            await asyncio.sleep(PACE)
            t0 = time.perf_counter()
            shown = model.apply(change.kind, change.filter, change.sort, now=NOW)
            apply.append((time.perf_counter() - t0) * 1000)
            if table.set_rows(shown):
                refilter.append((await app.shown(table, t0) - t0) * 1000)
            else:  # the rows on screen are the same: nothing to paint
                refilter.append((time.perf_counter() - t0) * 1000)
        table.set_rows(model.apply(QueueKind.all, now=NOW))
        await pilot.pause()

        moves: list[float] = []
        for n in range(samples):
            key = "j" if (n // 10) % 2 == 0 else "k"
            await asyncio.sleep(PACE)
            t0 = time.perf_counter()
            app.post_message(events.Key(key, key))
            moves.append((await app.shown(table, t0) - t0) * 1000)
    return {
        "first_paint_s": round(first_paint, 4),
        "refilter_p50_ms": round(percentile(refilter, 0.5), 2),
        "refilter_p99_ms": round(percentile(refilter, 0.99), 2),
        "apply_p99_ms": round(percentile(apply, 0.99), 2),
        "cursor_move_p99_ms": round(percentile(moves, 0.99), 2),
    }


def _datatable_rows(rows: Sequence[QueueRow]) -> list[tuple[object, ...]]:
    from tui.ui.text import literal

    return [
        (r.id, f"{(r.due_at - NOW) / 3600:.1f}h", r.tier.value, "!" if r.vulnerable else "", r.state.value,
         r.category_name, r.community_name, literal(r.description))
        for r in rows
    ]  # fmt: skip


async def bench_datatable(model: QueueModel, samples: int) -> dict[str, float]:
    """The same rows in Textual's DataTable: first paint, and refilter as `clear` + `add_rows`
    (DataTable has no filter); a frame counts once the new rows' cells have been measured."""
    from textual.geometry import Size
    from textual.strip import Strip
    from textual.widgets import DataTable

    class Table(_Painted, DataTable[object]):
        measured = False  # the cells measured since `clear`: DataTable then sets `virtual_size`

        def clear(self, columns: bool = False) -> Table:
            self.virtual_size = Size(0, 0)  # so that measuring the new rows changes it
            return super().clear(columns)

        def watch_virtual_size(self, size: Size) -> None:
            self.measured = bool(size)

        def render_line(self, y: int) -> Strip:
            if self.measured:
                self._painted()
            return super().render_line(y)

    rows = model.apply(QueueKind.all, now=NOW)

    def make() -> Table:
        table = Table(cursor_type="row")
        table.add_columns("id", "due", "tier", "!", "state", "category", "community", "description")
        table.add_rows(_datatable_rows(rows))
        return table

    app = _frame_app(make)
    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(Table)
        while not table.first_paint or app.frames[-1] < table.first_paint:
            await pilot.pause()
        first_paint = app.first_shown(table) - start
        series = filter_series()
        refilter: list[float] = []
        for n in range(samples):
            change = series[n % len(series)]
            await asyncio.sleep(PACE)
            t0 = time.perf_counter()
            table.clear()
            table.add_rows(_datatable_rows(model.apply(change.kind, change.filter, change.sort, now=NOW)))
            while True:
                shown = await app.shown(table, t0)
                if table.measured:
                    break
            refilter.append((shown - t0) * 1000)
    return {
        "datatable_first_paint_s": round(first_paint, 4),
        "datatable_refilter_p99_ms": round(percentile(refilter, 0.99), 2),
    }


# --------------------------------------------------------------------------- under a real pty

CHILD = "--pty-child"


def run_child(size: int) -> None:
    """The app under the pty: `size` rows in a model and a table, mouse off, until `q`."""
    from textual.app import App, ComposeResult
    from textual.binding import Binding, BindingType

    from tui.ui.widgets.queue_table import QueueTable

    model = QueueModel(synthetic_rows(size))
    model.prepare()
    rows = model.apply(QueueKind.all, now=NOW)

    class PtyApp(App[None]):
        BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

        def compose(self) -> ComposeResult:
            yield QueueTable(rows, clock=lambda: NOW)

    PtyApp().run(mouse=False)


def _read_until_quiet(fd: int, quiet: float, limit: float = 10.0) -> bytes:
    """Everything `fd` yields until it has been silent for `quiet` seconds (or `limit` passes)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], quiet)
        if not ready:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def bench_pty(size: int, moves: int = 20) -> dict[str, float]:
    """Bytes written per cursor move at 160x50 under a real pty, and the child's max RSS."""
    import fcntl
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.environ.update(TERM="xterm-256color", COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]))
        os.environ.pop("NO_COLOR", None)
        os.execv(sys.executable, [sys.executable, __file__, CHILD, str(size)])
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        select.select([fd], [], [], 300)  # building the rows, then Textual starts writing
        initial = len(_read_until_quiet(fd, quiet=1.0, limit=60))  # the first paint, settled
        per_move: list[int] = []
        for _ in range(moves):
            os.write(fd, b"j")
            per_move.append(len(_read_until_quiet(fd, quiet=0.25)))
        visible = SIZE[1] - 1  # the header takes a line
        for _ in range(visible - moves - 1):  # walk to the last visible row
            os.write(fd, b"j")
            _read_until_quiet(fd, quiet=0.1)
        scroll: list[int] = []
        for _ in range(5):
            os.write(fd, b"j")
            scroll.append(len(_read_until_quiet(fd, quiet=0.25)))
        os.write(fd, b"q")
        _read_until_quiet(fd, quiet=0.5, limit=10)
    finally:
        _, _, usage = os.wait4(pid, 0)
        os.close(fd)
    return {
        "bytes_initial_paint": initial,
        "bytes_per_cursor_move": int(statistics.median(per_move)),
        "bytes_per_cursor_move_max": max(per_move),
        "bytes_per_scroll_move": int(statistics.median(scroll)),
        "rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


# --------------------------------------------------------------------------- main


def bench_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    rows = synthetic_rows(size)
    t1 = time.perf_counter()
    model = QueueModel(rows)
    t2 = time.perf_counter()
    model.prepare()  # the other sort orders, as an app would when idle after its first paint
    t3 = time.perf_counter()
    del rows  # the model holds its own copies
    result: dict[str, Any] = {
        "size": size,
        "build_rows_s": round(t1 - t0, 3),
        "build_model_s": round(t2 - t1, 3),
        "prepare_sorts_s": round(t3 - t2, 3),
    }
    result.update(asyncio.run(bench_queue_table(model, args.samples)))
    if not args.no_pty:
        result.update(bench_pty(size))
    if not args.no_datatable:
        dt_samples = args.datatable_samples if size >= 50_000 else max(args.datatable_samples, 10)
        result.update(asyncio.run(bench_datatable(model, dt_samples)))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--samples", type=int, default=64, help="refilter and cursor samples per size")
    parser.add_argument("--datatable-samples", type=int, default=3, help="DataTable refilters at 100k")
    parser.add_argument("--no-datatable", action="store_true")
    parser.add_argument("--no-pty", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    # With no rows the table paints nothing and the first-paint wait would never end.
    if min(sizes) < 1 or args.samples < 1 or args.datatable_samples < 1:
        parser.error("--sizes, --samples and --datatable-samples must be at least 1")
    for size in sizes:
        print(json.dumps(bench_size(size, args)), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == CHILD:
        run_child(int(sys.argv[2]))
        raise SystemExit(0)
    raise SystemExit(main())
