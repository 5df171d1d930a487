"""tui.core.queue: queue kinds, counts, urgency order, search, filters and live updates."""

from __future__ import annotations

import gc
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from api_client.domain.deadlines import DeadlineStatus, deadline_status
from api_client.models import Caller, Channel, Location, Request, RequestType, State, Tier
from tui.core.queue.filters import NO_FILTER, Filter
from tui.core.queue.kinds import QueueKind
from tui.core.queue.masks import indices
from tui.core.queue.model import QueueModel
from tui.core.queue.rows import Names, QueueRow, make_row, row_from_request
from tui.core.queue.sorts import Sort, urgency_key

NOW = 1_767_225_600.0  # 2026-01-01 00:00 UTC
HOUR = 3600.0
NAMES = Names(
    categories={"roof_leak": "房屋漏雨", "noise": "噪音扰民", "elevator": "电梯故障"},
    communities={"c01": "德胜里社区", "c02": "新康社区"},
    units={"pm01": "北京德胜物业管理有限公司", "cc01": "德胜里社区居委会"},
)


def row(n: int, **fields: Any) -> QueueRow:
    """A row with plain defaults: a new 24 h roof leak in c01, received an hour ago."""
    values: dict[str, Any] = {
        "id": f"R-{n:06d}",
        "state": State.new,
        "category": "roof_leak",
        "community": "c01",
        "tier": Tier.h24,
        "due_at": NOW + 23 * HOUR,
        "received_at": NOW - HOUR,
        "description": f"第{n}号：顶楼漏雨",
        "names": NAMES,
    }
    values.update(fields)
    return make_row(**values)


def ids(rows: list[QueueRow]) -> list[str]:
    return [r.id for r in rows]


# --------------------------------------------------------------------------- rows


def test_make_row_cleans_text_and_resolves_names() -> None:
    r = row(
        1, description="漏雨\n\x1b[2J  厉害", address="德胜里\t3号楼", caller="王\u202e女士", lead_unit="pm01"
    )
    assert r.description == "漏雨 ␛[2J 厉害"
    assert r.address == "德胜里 3号楼"
    assert r.caller == "王\ufffd女士"
    assert (r.category_name, r.community_name, r.lead_unit_name) == (
        "房屋漏雨",
        "德胜里社区",
        "北京德胜物业管理有限公司",
    )
    assert row(2, category="unknown").category_name == "unknown"
    assert "北京德胜物业" in r.haystack and "r-000001" in r.haystack


def test_row_from_request() -> None:
    received = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    request = Request(
        id="R-000042",
        received_at=received,
        channel=Channel.wechat,
        type=RequestType.help,
        category="noise",
        description="夜里施工\n噪音很大",
        location=Location(street="德胜街道", community="c02", address="新康街5号"),
        caller=Caller(name="李先生", phone="13800000000"),
        vulnerable=True,
        tier=Tier.d7,
        due_at=received + timedelta(days=7),
        state=State.dispatched,
        lead_unit="cc01",
        co_units=["pm01"],
        version=3,
        change_seq=9,
    )
    r = row_from_request(request, unsent=True, names=NAMES)
    assert r.id == "R-000042" and r.state is State.dispatched and r.tier is Tier.d7
    assert r.description == "夜里施工 噪音很大"
    assert (r.channel, r.co_units, r.vulnerable, r.unsent, r.conflict) == (
        "wechat",
        ("pm01",),
        True,
        True,
        False,
    )
    assert r.due_at == (received + timedelta(days=7)).timestamp()
    assert r.community_name == "新康社区"


def test_with_flags_moves_a_row_in_and_out_of_attention() -> None:
    model = QueueModel([row(1)])
    assert model.counts(NOW)[QueueKind.attention] == 0
    model.upsert([model.get("R-000001").with_flags(unsent=True, conflict=False)])  # type: ignore[union-attr]
    assert ids(model.apply(QueueKind.attention, now=NOW)) == ["R-000001"]
    model.upsert([model.get("R-000001").with_flags(unsent=False, conflict=False)])  # type: ignore[union-attr]
    assert model.apply(QueueKind.attention, now=NOW) == []


# --------------------------------------------------------------------------- queues


def test_each_state_is_in_its_queue() -> None:
    states = list(State)
    model = QueueModel([row(n, state=s) for n, s in enumerate(states)])
    queued = {kind: {r.state for r in model.apply(kind, now=NOW)} for kind in QueueKind}
    assert queued[QueueKind.new] == {State.new, State.returned, State.reopened}
    assert queued[QueueKind.in_progress] == {State.dispatched, State.accepted, State.extended}
    assert queued[QueueKind.callback] == {State.resolved, State.callback_logged}
    assert queued[QueueKind.all] == set(State)
    assert queued[QueueKind.attention] == set()


def test_attention_holds_conflicts_and_unsent_actions_whatever_the_state() -> None:
    model = QueueModel(
        [
            row(1, unsent=True),
            row(2, conflict=True, state=State.closed),
            row(3),
        ]
    )
    assert ids(model.apply(QueueKind.attention, now=NOW)) == ["R-000001", "R-000002"]


def test_due_holds_overdue_and_soon_due_requests_that_a_unit_still_handles() -> None:
    model = QueueModel(
        [
            row(1, due_at=NOW - 5 * HOUR),  # overdue
            row(2, due_at=NOW + 1.5 * HOUR, state=State.accepted),  # due soon
            row(3, due_at=NOW + 2 * HOUR),  # exactly at the edge of the window
            row(4, due_at=NOW + 3 * HOUR),  # in time
            row(5, due_at=NOW - HOUR, state=State.resolved),  # resolved: waits for a callback
            row(6, due_at=NOW - HOUR, state=State.closed),
        ]
    )
    assert ids(model.apply(QueueKind.due, now=NOW)) == ["R-000001", "R-000002", "R-000003"]
    assert model.counts(NOW)[QueueKind.due] == 3
    wide = QueueModel(model.rows(), due_window=4 * HOUR)
    assert ids(wide.apply(QueueKind.due, now=NOW)) == ["R-000001", "R-000002", "R-000003", "R-000004"]
    assert ids(model.apply(QueueKind.due, now=NOW + 2 * HOUR)) == [
        "R-000001",
        "R-000002",
        "R-000003",
        "R-000004",
    ]


def test_deadline_status() -> None:
    assert deadline_status(State.new, NOW - 1, NOW) is DeadlineStatus.overdue
    assert deadline_status(State.new, NOW, NOW) is DeadlineStatus.due_soon
    assert deadline_status(State.new, NOW + 2 * HOUR, NOW) is DeadlineStatus.due_soon
    assert deadline_status(State.new, NOW + 2 * HOUR + 1, NOW) is DeadlineStatus.in_time
    assert deadline_status(State.resolved, NOW - 1, NOW) is DeadlineStatus.none


def _random_rows(count: int, seed: int) -> list[QueueRow]:
    rng = random.Random(seed)
    words = ["漏雨", "积水", "电梯", "噪音", "停车", "老人", "德胜", "物业", "井盖"]
    rows = []
    for n in range(count):
        received = NOW - rng.uniform(0, 3 * 86400)
        tier = rng.choice(list(Tier))
        rows.append(
            row(
                n,
                state=rng.choice(list(State)),
                category=rng.choice(["roof_leak", "noise", "elevator", "gas"]),
                community=rng.choice(["c01", "c02", "c03"]),
                tier=tier,
                due_at=received + tier.duration.total_seconds() + rng.choice([0, 0, -30, 45]),
                received_at=received,
                description="".join(rng.sample(words, 3)),
                lead_unit=rng.choice([None, "pm01", "cc01", "st-city"]),
                co_units=rng.choice([(), (), ("pm01",), ("cc01", "st-city")]),
                channel=rng.choice(list(Channel)),
                vulnerable=rng.random() < 0.2,
                unsent=rng.random() < 0.05,
                conflict=rng.random() < 0.02,
            )
        )
    return rows


def test_counts_are_the_lengths_of_the_queues() -> None:
    model = QueueModel(_random_rows(400, seed=1))
    for now in (NOW, NOW + 5 * HOUR):
        assert model.counts(now) == {kind: len(model.apply(kind, now=now)) for kind in QueueKind}
        narrow = Filter(text="漏雨", communities=frozenset({"c01", "c02"}))
        assert model.counts(now, narrow) == {
            kind: len(model.apply(kind, narrow, now=now)) for kind in QueueKind
        }


# --------------------------------------------------------------------------- urgency


def test_urgency_order() -> None:
    rows = [
        row(1, due_at=NOW + 3 * HOUR, received_at=NOW - 2 * HOUR),
        row(2, due_at=NOW - 2 * HOUR),  # most overdue
        row(3, due_at=NOW - HOUR),
        row(4, due_at=NOW + 3 * HOUR + 20, vulnerable=True),  # same minute as 1: vulnerable first
        row(5, due_at=NOW + 3 * HOUR + 10, received_at=NOW - 3 * HOUR),  # same minute, older than 1
        row(6, due_at=NOW - 3 * HOUR, state=State.closed),  # no deadline runs: after the others
        row(7, due_at=NOW + HOUR, state=State.resolved),
    ]
    model = QueueModel(rows)
    assert ids(model.apply(now=NOW)) == [f"R-00000{n}" for n in (2, 3, 4, 5, 1, 6, 7)]
    assert ids(model.apply(now=NOW)) == ids(sorted(rows, key=partial(urgency_key, now=NOW)))


def test_overdue_first_within_the_current_minute() -> None:
    # Due 10 s ago (overdue) and 10 s from now, in the same minute; the later one is vulnerable,
    # which would put it first were it not for the overdue rule.
    now = NOW + 30
    rows = [row(1, due_at=now + 10, vulnerable=True), row(2, due_at=now - 10)]
    assert ids(QueueModel(rows).apply(now=now)) == ["R-000002", "R-000001"]
    assert ids(sorted(rows, key=partial(urgency_key, now=now))) == ["R-000002", "R-000001"]


def test_sorts_by_reception() -> None:
    rows = [row(n, received_at=NOW - n * HOUR) for n in range(1, 5)]
    model = QueueModel(rows)
    assert ids(model.apply(sort=Sort.newest, now=NOW)) == ["R-000001", "R-000002", "R-000003", "R-000004"]
    assert ids(model.apply(sort=Sort.oldest, now=NOW)) == ["R-000004", "R-000003", "R-000002", "R-000001"]


# --------------------------------------------------------------------------- search and filters


def test_chinese_substring_search() -> None:
    model = QueueModel(
        [
            row(1, description="顶楼漏雨，墙面渗水", category="noise", due_at=NOW + HOUR),
            row(2, description="楼下积水", category="noise"),
            row(3, description="电梯困人", category="elevator"),
            row(4, description="老人家里漏水", community="c02", category="noise"),
        ]
    )
    search = partial(model.apply, QueueKind.all, now=NOW)
    assert ids(search(Filter(text="漏"))) == ["R-000001", "R-000004"]
    assert ids(search(Filter(text="漏雨"))) == ["R-000001"]
    assert ids(search(Filter(text="漏 老人"))) == ["R-000004"]  # every word must occur
    assert ids(search(Filter(text="电梯故障"))) == ["R-000003"]  # the category's name
    assert ids(search(Filter(text="新康"))) == ["R-000004"]  # the community's name
    assert ids(search(Filter(text="r-000002"))) == ["R-000002"]  # ids, case-insensitive
    assert search(Filter(text="不存在")) == []


def test_latin_letters_find_names_by_pinyin_initials_or_full_pinyin() -> None:
    model = QueueModel(
        [
            row(1, community="c02", description="楼道灯坏了"),  # 新康社区
            row(2, category="elevator", description="电梯停了"),  # 电梯故障, 德胜里社区
            row(3, category="noise", lead_unit="pm01", description="夜间施工"),  # 北京德胜物业…
            row(4, category="noise", description="路灯不亮 abc"),  # 德胜里社区
        ]
    )
    search = partial(model.apply, QueueKind.all, now=NOW)
    assert ids(search(Filter(text="xk"))) == ["R-000001"]  # 新康 by its initials
    assert ids(search(Filter(text="xinkang"))) == ["R-000001"]  # and by its full pinyin
    assert ids(search(Filter(text="DTGZ"))) == ["R-000002"]  # 电梯故障, in any case
    assert ids(search(Filter(text="bjds"))) == ["R-000003"]  # the lead unit's name
    assert ids(search(Filter(text="dsl nosy"))) == []  # every word must still match
    assert ids(search(Filter(text="dsl zyrm"))) == ["R-000003", "R-000004"]
    assert ids(search(Filter(text="abc"))) == ["R-000004"]  # plain text still matches as text
    assert search(Filter(text="x")) == []  # one letter is too little to mean a name


def test_search_folds_full_width_letters_and_digits() -> None:
    model = QueueModel([row(1, address="裕中西里12号楼", description="ABC单元")])
    assert len(model.apply(filter=Filter(text="１２号楼"), now=NOW)) == 1
    assert len(model.apply(filter=Filter(text="ａｂｃ"), now=NOW)) == 1


def test_filters_by_category_community_unit_channel_and_tier() -> None:
    model = QueueModel(
        [
            row(1, category="noise", channel="phone"),
            row(2, community="c02", lead_unit="pm01", tier=Tier.h2),
            row(3, lead_unit="cc01", co_units=("pm01",), channel="wechat"),
            row(4, lead_unit="st-city"),
        ]
    )

    def pick(**fields: Any) -> list[str]:
        return ids(model.apply(QueueKind.all, Filter(**fields), now=NOW))

    assert pick(categories=frozenset({"noise"})) == ["R-000001"]
    assert pick(communities=frozenset({"c02"})) == ["R-000002"]
    assert pick(units=frozenset({"pm01"})) == ["R-000002", "R-000003"]  # lead or co-unit
    assert pick(units=frozenset({"st-city", "cc01"})) == ["R-000003", "R-000004"]
    assert pick(channels=frozenset({Channel.wechat})) == ["R-000003"]
    assert pick(tiers=frozenset({Tier.h2})) == ["R-000002"]
    assert pick(tiers=frozenset({"2h"})) == ["R-000002"]
    assert pick(units=frozenset({"pm01"}), text="3号") == ["R-000003"]
    assert Filter().is_empty and NO_FILTER.is_empty and not Filter(text=" x ").is_empty
    assert Filter(text="  漏雨   漏雨 老人").words == ("漏雨", "老人")


def _reference(
    rows: list[QueueRow], kind: QueueKind, f: Filter, sort: Sort, now: float, window: float
) -> list[str]:
    """The queue as plain Python says it should be."""

    def in_queue(r: QueueRow) -> bool:
        handling = r.state in {State.new, State.returned, State.reopened, State.dispatched}
        handling = handling or r.state in {State.accepted, State.extended}
        match kind:
            case QueueKind.new:
                return r.state in {State.new, State.returned, State.reopened}
            case QueueKind.in_progress:
                return r.state in {State.dispatched, State.accepted, State.extended}
            case QueueKind.callback:
                return r.state in {State.resolved, State.callback_logged}
            case QueueKind.attention:
                return r.unsent or r.conflict
            case QueueKind.due:
                return handling and r.due_at <= now + window
            case QueueKind.to_sign:  # the centre's rows: as if its unit led each
                return r.state in {State.dispatched, State.reopened}
            case QueueKind.in_hand:
                return r.state in {State.accepted, State.extended}
            case QueueKind.back:
                chased = r.chases and r.state in {State.dispatched, State.accepted, State.extended}
                return r.state is State.reopened or bool(chased)
        return True

    keys: dict[Sort, Callable[[QueueRow], Any]] = {
        Sort.urgency: partial(urgency_key, now=now),
        Sort.newest: lambda r: (-int(r.received_at // 1), r.id),
        Sort.oldest: lambda r: (int(r.received_at // 1), r.id),
    }
    return ids(sorted((r for r in rows if in_queue(r) and f.matches(r)), key=keys[sort]))


FILTERS = [
    Filter(),
    Filter(text="漏雨"),
    Filter(text="漏雨 老人"),
    Filter(text="德胜 r-0001"),
    Filter(categories=frozenset({"noise", "gas"})),
    Filter(communities=frozenset({"c03"}), text="电梯"),
    Filter(units=frozenset({"pm01"})),
    Filter(channels=frozenset({"wechat", "app"}), tiers=frozenset({"2h", "24h"})),
]


@pytest.mark.parametrize("sort", list(Sort))
def test_every_queue_filter_and_sort_matches_the_plain_python_rule(sort: Sort) -> None:
    rows = _random_rows(600, seed=7)
    model = QueueModel(rows)
    for now in (NOW, NOW + 6 * HOUR):
        for kind in QueueKind:
            for f in FILTERS:
                assert ids(model.apply(kind, f, sort, now=now)) == _reference(
                    rows, kind, f, sort, now, 2 * HOUR
                )


def test_an_upsert_moves_the_row_to_its_new_place_and_a_search_sees_the_new_text() -> None:
    model = QueueModel([row(n, due_at=NOW + n * HOUR) for n in range(1, 6)])
    assert model.apply(filter=Filter(text="积水"), now=NOW) == []
    model.upsert([row(4, due_at=NOW - HOUR, description="小区积水")])
    assert ids(model.apply(now=NOW)) == ["R-000004", "R-000001", "R-000002", "R-000003", "R-000005"]
    assert ids(model.apply(filter=Filter(text="积水"), now=NOW)) == ["R-000004"]
    model.upsert([row(0, due_at=NOW + 2.5 * HOUR)])  # a new request
    assert ids(model.apply(now=NOW))[:4] == ["R-000004", "R-000001", "R-000002", "R-000000"]
    model.remove(["R-000004"])
    assert model.apply(filter=Filter(text="积水"), now=NOW) == []
    assert model.get("R-000004") is None and "R-000004" not in model


def test_a_batch_may_name_a_request_twice() -> None:
    model = QueueModel([row(1), row(2)])
    model.upsert([row(1, due_at=NOW - HOUR), row(1, due_at=NOW + 30 * HOUR, description="积水"), row(3)])
    assert ids(model.apply(now=NOW)) == ["R-000002", "R-000003", "R-000001"]
    assert model.counts(NOW)[QueueKind.new] == 3
    assert ids(model.apply(filter=Filter(text="积水"), now=NOW)) == ["R-000001"]


def test_a_big_batch_forgets_remembered_searches() -> None:
    model = QueueModel([row(n, description="漏雨") for n in range(600)])
    assert len(model.apply(filter=Filter(text="漏雨"), now=NOW)) == 600
    model.upsert([row(n, description="积水", category="noise") for n in range(600)])  # sorted afresh
    assert model.apply(filter=Filter(text="漏雨"), now=NOW) == []
    assert len(model.apply(filter=Filter(text="积水"), now=NOW)) == 600


def test_a_big_batch_gives_the_same_result_as_small_ones() -> None:
    rows = _random_rows(2000, seed=5)
    one_by_one, batched = QueueModel(rows[:100]), QueueModel(rows[:100])
    for r in rows[100:]:
        one_by_one.upsert([r])
    batched.upsert(rows[100:])  # above the threshold: sorted afresh
    for f in FILTERS[:4]:
        assert ids(one_by_one.apply(filter=f, now=NOW)) == ids(batched.apply(filter=f, now=NOW))


def test_many_distinct_values_of_one_attribute() -> None:
    # More than 256 categories: the byte columns need their high byte.
    rows = [row(n, category=f"cat{n % 300}") for n in range(900)]
    model = QueueModel(rows)
    wanted = frozenset({"cat7", "cat299", "cat256"})
    assert ids(model.apply(filter=Filter(categories=wanted), now=NOW)) == ids(
        [r for r in sorted(rows, key=partial(urgency_key, now=NOW)) if r.category in wanted]
    )
    assert len(model.apply(filter=Filter(categories=wanted), now=NOW)) == 9


def test_a_queue_list_finds_a_request_by_bisection() -> None:
    rows = _random_rows(500, seed=9)
    now = NOW + 1800 + 30  # mid-minute: some rows due in this minute are overdue, some not
    rows += [row(1000 + n, due_at=now + d, vulnerable=n % 2 == 0) for n, d in enumerate((-20, -5, 5, 20))]
    model = QueueModel(rows)
    model.prepare()
    for sort in Sort:
        for f in (NO_FILTER, Filter(text="漏雨")):
            shown = model.apply(QueueKind.all, f, sort, now=now)
            for index, r in enumerate(shown):
                assert shown.position(r) == index
            hidden = [r for r in rows if r.id not in {s.id for s in shown}]
            assert all(shown.position(r) == -1 for r in hidden)
    shown = model.apply(now=now)
    old = shown[10]
    model.upsert([old._replace(description="改过了")])  # another version of the same request
    assert shown.position(old._replace(description="改过了")) == 10


def test_prepare_builds_every_order_up_front() -> None:
    model = QueueModel(_random_rows(100, seed=2), freeze=False)
    model.prepare(Sort.newest)
    assert ids(model.apply(sort=Sort.newest, now=NOW)) == ids(model.rows(Sort.newest))
    model.prepare()
    assert len(model.rows(Sort.oldest)) == 100


def test_empty_model() -> None:
    model = QueueModel()
    assert model.apply(QueueKind.due, Filter(text="x"), now=NOW) == []
    assert set(model.counts(NOW).values()) == {0}
    model.upsert([row(1)])
    assert ids(model.apply(sort=Sort.newest, now=NOW)) == ["R-000001"]


@pytest.mark.parametrize(
    "flags",
    [b"", b"\x00", b"\x01", b"\x00" * 50, b"\x01" * 50, b"\x01" + b"\x00" * 98 + b"\x01", b"\x00\x01" * 40],
)
def test_positions_of_a_mask_sparse_or_dense(flags: bytes) -> None:
    assert indices(flags) == [i for i, flag in enumerate(flags) if flag]


def test_positions_of_random_masks() -> None:
    rng = random.Random(3)
    for density in (0.001, 0.05, 0.5):
        flags = bytes(rng.random() < density for _ in range(5_000))
        assert indices(flags) == [i for i, flag in enumerate(flags) if flag]


def test_a_narrowed_search_and_a_sparse_queue_match_the_plain_python_rule() -> None:
    """Enough rows that small queues and a word narrowed from a remembered one take the paths
    for few rows (positions found by splitting the mask)."""
    rows = _random_rows(3_000, seed=11)
    model = QueueModel(rows)
    for text in ("漏", "漏雨", "漏雨 老", "漏雨 老人", "r-0", "r-00", "r-001", "r-0012"):
        for kind in (QueueKind.all, QueueKind.attention, QueueKind.callback):
            f = Filter(text=text)
            assert ids(model.apply(kind, f, now=NOW)) == _reference(
                rows, kind, f, Sort.urgency, NOW, 2 * HOUR
            )


def test_building_a_model_gives_the_collector_back_as_it_was() -> None:
    was_enabled = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            model = QueueModel(_random_rows(50, seed=4), freeze=False)
            model.prepare()
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was_enabled else gc.disable)()
