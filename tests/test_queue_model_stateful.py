"""tui.core.queue.model under random live updates, against a plain-Python oracle (hypothesis).

The machine upserts rows (single ones, flag changes, batches big enough to be sorted afresh),
removes ids and builds sort orders at random; after every step it asks for every queue of the view
on screen (a filter chosen or typed a character at a time, a sort, the clock), and counts under
random filters. The oracle is a dict of the rows by id, filtered and sorted from the rows' fields by the
rules written out below, not by the model's helpers; only the pinyin spelling of a name
(`tui.core.pinyin.matches`) is shared.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from api_client.models import Channel, State, Tier
from tui.core.pinyin import matches as pinyin_matches
from tui.core.queue.filters import Filter
from tui.core.queue.kinds import QueueKind
from tui.core.queue.model import QueueModel
from tui.core.queue.rows import Names, QueueRow, make_row
from tui.core.queue.sorts import Sort

BASE = 1_767_225_600.0  # 2026-01-01 00:00 UTC
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

NEW = frozenset({State.new, State.returned, State.reopened})
IN_PROGRESS = frozenset({State.dispatched, State.accepted, State.extended})
CALLBACK = frozenset({State.resolved, State.callback_logged})
HANDLING = NEW | IN_PROGRESS
#: A unit's queues, seen by the login of the first unit.
TO_SIGN = frozenset({State.dispatched, State.reopened})
IN_HAND = frozenset({State.accepted, State.extended})
CHASED = TO_SIGN | IN_HAND

NAMES = Names(
    categories={"roof_leak": "房屋漏雨", "noise": "噪音扰民", "elevator": "电梯故障"},
    communities={"c01": "德胜里社区", "c02": "新康社区"},
    units={"pm01": "北京德胜物业管理有限公司", "cc01": "德胜里社区居委会"},
)
CATEGORIES = ["roof_leak", "noise", "elevator", "gas"]
COMMUNITIES = ["c01", "c02", "c03"]
UNITS = ["pm01", "cc01", "st-city"]
CHANNELS = [channel.value for channel in Channel]
WORDS = ["漏雨", "积水", "电梯", "噪音", "老人", "德胜", "物业", "井盖", "ＡＢ１２", "Xin"]
SEARCHES = ["漏", "漏雨", "漏雨 老人", "积水 电梯", "r-0000", "r-00001", "德胜", "ab", "ＡＢ", "１２", "12"]
SEARCHES += ["dsl", "xk", "xinkang", "bjds", "DTGZ", "zyrm", "xin", "x", "不存在"]
#: Searches as they are typed, a character or a word at a time.
TYPING = [
    ["漏", "漏雨", "漏雨 老人"],
    ["r", "r-0", "r-0000", "r-00001"],
    ["x", "xi", "xin", "xinkang"],
    ["德", "德胜", "德胜 物业"],
    ["１", "１２", "１２ ab"],
]
ID_POOL = 24

# Times cluster so that rows share deadline minutes and reception seconds with each other and
# with the clock: half of the deadlines fall in the clock's usual two minutes (some overdue,
# some not, in the clock's own minute), the others near a few anchors (the due window's edge).
ANCHORS = [-2 * DAY, -5 * HOUR, -2 * HOUR, -HOUR, 0.0, HOUR, 2 * HOUR, 3 * HOUR, DAY]
FRACTIONS = st.sampled_from([0.0, 0.25, 0.75])


def anchored(seconds: st.SearchStrategy[int]) -> st.SearchStrategy[float]:
    return st.builds(
        lambda anchor, offset, fraction: BASE + anchor + offset + fraction,
        st.sampled_from(ANCHORS),
        seconds,
        FRACTIONS,
    )


deadlines = st.one_of(
    st.builds(lambda offset, fraction: BASE + offset + fraction, st.integers(-20, 100), FRACTIONS),
    anchored(st.integers(-90, 90)),
)
clocks = st.one_of(
    st.builds(lambda offset, fraction: BASE + offset + fraction, st.integers(0, 119), FRACTIONS),
    anchored(st.integers(-90, 90)),
)
received = st.builds(
    lambda steps, fraction: BASE - steps * 600 + fraction, st.integers(0, 30), st.sampled_from([0.0, 0.4])
)
request_ids = st.integers(0, ID_POOL - 1).map(lambda n: f"R-{n:06d}")


@st.composite
def rows(draw: st.DrawFn, request_id: st.SearchStrategy[str] = request_ids) -> QueueRow:
    return make_row(
        id=draw(request_id),
        state=draw(st.sampled_from(list(State))),
        category=draw(st.sampled_from(CATEGORIES)),
        community=draw(st.sampled_from(COMMUNITIES)),
        tier=draw(st.sampled_from(list(Tier))),
        due_at=draw(deadlines),
        received_at=draw(received),
        description="".join(draw(st.lists(st.sampled_from(WORDS), max_size=3))),
        address=draw(st.sampled_from(["", "德胜里3号楼", "新康街5号", "漏雨的楼"])),
        caller=draw(st.sampled_from(["", "王女士", "李老人"])),
        lead_unit=draw(st.sampled_from([None, *UNITS])),
        co_units=draw(st.lists(st.sampled_from(UNITS), max_size=2, unique=True)),
        channel=draw(st.sampled_from(CHANNELS)),
        vulnerable=draw(st.booleans()),
        unsent=draw(st.booleans()),
        conflict=draw(st.integers(0, 3)) == 0,
        chases=draw(st.integers(0, 3)) // 2,
        names=NAMES,
        own_unit=UNITS[0],
    )


def subsets(values: list[Any]) -> st.SearchStrategy[frozenset[Any]]:
    return st.frozensets(st.sampled_from(values), max_size=2)


filters = st.builds(
    Filter,
    text=st.one_of(st.just(""), st.sampled_from(SEARCHES)),
    categories=subsets(CATEGORIES),
    communities=subsets(COMMUNITIES),
    units=subsets(UNITS),
    channels=subsets(CHANNELS),
    tiers=subsets([tier.value for tier in Tier]),
)
# Mostly one narrowing at a time, as a dispatcher types: all of them at once rarely leaves a row.
some_filters = st.one_of(
    st.just(Filter()),
    st.sampled_from(SEARCHES).map(lambda text: Filter(text=text)),
    subsets(UNITS).map(lambda units: Filter(units=units)),
    filters,
)


# --------------------------------------------------------------------------- the oracle


def fold(text: str) -> str:
    """Search compares lower case, full-width letters and digits as ASCII (NFKC does that for the
    characters used here)."""
    return unicodedata.normalize("NFKC", text).lower()


def word_found(word: str, row: QueueRow) -> bool:
    texts = (row.id, row.description, row.address, row.caller)
    names = (row.category_name, row.community_name, row.lead_unit_name)
    if any(word in fold(text) for text in (*texts, *names)):
        return True
    spelled = len(word) >= 2 and word.isascii() and word.isalpha()
    return spelled and any(pinyin_matches(word, name) for name in names)


def passes(f: Filter, row: QueueRow) -> bool:
    if f.categories and row.category not in f.categories:
        return False
    if f.communities and row.community not in f.communities:
        return False
    if f.channels and row.channel not in f.channels:
        return False
    if f.tiers and row.tier.value not in {str(tier) for tier in f.tiers}:
        return False
    if f.units and row.lead_unit not in f.units and not set(row.co_units) & f.units:
        return False
    return all(word_found(word, row) for word in fold(f.text).split())


def in_queue(kind: QueueKind, row: QueueRow, now: float, window: float) -> bool:
    match kind:
        case QueueKind.new:
            return row.state in NEW
        case QueueKind.in_progress:
            return row.state in IN_PROGRESS
        case QueueKind.callback:
            return row.state in CALLBACK
        case QueueKind.attention:
            return row.unsent or row.conflict
        case QueueKind.due:
            return row.state in HANDLING and row.due_at <= now + window
        case QueueKind.all:
            return True
        case QueueKind.to_sign:
            return row.state in TO_SIGN and row.lead_unit == UNITS[0]
        case QueueKind.in_hand:
            return row.state in IN_HAND or (row.state in TO_SIGN and row.lead_unit != UNITS[0])
        case QueueKind.back:
            return row.state is State.reopened or (row.chases > 0 and row.state in CHASED)


def sort_key(sort: Sort, row: QueueRow, now: float) -> tuple[Any, ...]:
    """Urgency: handled requests first, overdue ones first among them, then by deadline minute,
    vulnerable callers first, oldest reception (to the second), id. Newest/oldest: by reception
    second, then id."""
    second = math.floor(row.received_at)
    if sort is Sort.newest:
        return (-second, row.id)
    if sort is Sort.oldest:
        return (second, row.id)
    handling = row.state in HANDLING
    overdue = handling and row.due_at < now
    return (not handling, not overdue, math.floor(row.due_at / MINUTE), not row.vulnerable, second, row.id)


def expected(
    rows: dict[str, QueueRow], kind: QueueKind, f: Filter, sort: Sort, now: float, window: float
) -> list[str]:
    shown = [row for row in rows.values() if in_queue(kind, row, now, window) and passes(f, row)]
    return [row.id for row in sorted(shown, key=lambda row: sort_key(sort, row, now))]


# --------------------------------------------------------------------------- the machine


class QueueModelMachine(RuleBasedStateMachine):
    """Live updates arrive while a dispatcher looks at a queue: after every step the view on
    screen (a filter, a sort, the clock) is asked for again, as the app does after each change."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, QueueRow] = {}
        self.window = 2 * HOUR
        self.model = QueueModel(freeze=False)
        self.view = (Filter(), Sort.urgency, BASE + 30.25)

    @initialize(start=st.lists(rows(), max_size=20), window=st.sampled_from([2 * HOUR, 4 * HOUR]))
    def start(self, start: list[QueueRow], window: float) -> None:
        self.window = window
        self.rows = {row.id: row for row in start}
        self.model = QueueModel(start, due_window=window, freeze=False)

    # -- live updates

    @rule(batch=st.lists(rows(), min_size=1, max_size=4))
    def upsert(self, batch: list[QueueRow]) -> None:
        self.model.upsert(batch)
        self.rows.update((row.id, row) for row in batch)

    @rule(request_id=request_ids, unsent=st.booleans(), conflict=st.booleans())
    def change_flags(self, request_id: str, unsent: bool, conflict: bool) -> None:
        old = self.rows.get(request_id)
        if old is None:
            return
        new = old.with_flags(unsent=unsent, conflict=conflict)
        self.model.upsert([new])
        self.rows[request_id] = new

    @rule(batch=st.lists(rows(), min_size=1, max_size=6), size=st.integers(513, 530))
    def upsert_big_batch(self, batch: list[QueueRow], size: int) -> None:
        """More rows than the model updates one by one (it sorts afresh), naming few requests."""
        repeated = [batch[n % len(batch)] for n in range(size)]
        self.model.upsert(repeated)
        self.rows.update((row.id, row) for row in repeated)

    @rule(ids=st.lists(st.one_of(request_ids, st.just("R-999999")), min_size=1, max_size=3))
    def remove(self, ids: list[str]) -> None:
        self.model.remove(ids)
        for request_id in ids:
            self.rows.pop(request_id, None)

    @rule(sort=st.sampled_from(list(Sort)))
    def prepare(self, sort: Sort) -> None:
        self.model.prepare(sort)

    # -- what the dispatcher looks at

    @rule(f=some_filters, sort=st.sampled_from(list(Sort)), now=clocks)
    def show(self, f: Filter, sort: Sort, now: float) -> None:
        self.view = (f, sort, now)

    @rule(chain=st.sampled_from(TYPING))
    def type_search(self, chain: list[str]) -> None:
        """Type one more character or word of a search (the model narrows from the last one)."""
        f, sort, now = self.view
        step = chain.index(f.text) + 1 if f.text in chain[:-1] else 0
        self.view = (replace(f, text=chain[step]), sort, now)

    @rule(now=clocks)
    def tick(self, now: float) -> None:
        f, sort, _ = self.view
        self.view = (f, sort, now)

    @rule(f=some_filters, now=clocks)
    def counts(self, f: Filter, now: float) -> None:
        wanted = {
            kind: len(expected(self.rows, kind, f, Sort.urgency, now, self.window)) for kind in QueueKind
        }
        assert self.model.counts(now, f) == wanted

    @invariant()
    def the_view_agrees(self) -> None:
        f, sort, now = self.view
        for kind in QueueKind:
            shown = self.model.apply(kind, f, sort, now=now)
            assert [row.id for row in shown] == expected(self.rows, kind, f, sort, now, self.window), kind
            assert all(shown.position(row) == index for index, row in enumerate(shown))
            hidden = self.rows.keys() - {row.id for row in shown}
            assert all(shown.position(self.rows[request_id]) == -1 for request_id in hidden)

    @invariant()
    def counts_agree(self) -> None:
        for now in (BASE, BASE + 2 * HOUR + 30):
            counts = self.model.counts(now)
            wanted = {
                kind: sum(in_queue(kind, row, now, self.window) for row in self.rows.values())
                for kind in QueueKind
            }
            assert counts == wanted, now

    @invariant()
    def lookups_agree(self) -> None:
        assert len(self.model) == len(self.rows)
        for n in range(ID_POOL):
            request_id = f"R-{n:06d}"
            assert self.model.get(request_id) == self.rows.get(request_id)
            assert (request_id in self.model) == (request_id in self.rows)
        for sort in (Sort.newest, Sort.oldest):
            order = [row.id for row in self.model.rows(sort)]
            assert order == [
                row.id for row in sorted(self.rows.values(), key=lambda r: sort_key(sort, r, BASE))
            ]


QueueModelMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    database=None,  # no example database written into the working tree
    suppress_health_check=[HealthCheck.too_slow],
)
test_queue_model_matches_the_oracle = QueueModelMachine.TestCase
