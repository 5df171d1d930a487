"""The street office's reference data and the demo data generator."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api_client.actions import Accept, Dispatch, LogCallback, Merge, Return
from api_client.domain.lifecycle import ALLOWED_FROM, apply_action
from api_client.models import Channel, Satisfaction, State, Tier, UnitKind
from central_api import catalogue
from central_api.catalogue import (
    CATEGORIES,
    CATEGORY_DETAILS,
    COMMUNITIES,
    COMMUNITY_CENTRES,
    FALLBACK_UNIT,
    UNITS,
    category_by_code,
    community_by_id,
    suggested_units,
    unit_by_id,
)
from central_api.seed import BEIJING, DemoRequest, demo_requests, initial_request, replay, seed_store

SUMMER = datetime(2024, 7, 31, 6, 30, tzinfo=UTC)
WINTER = datetime(2025, 1, 15, 2, 0, tzinfo=UTC)

# The ids are a promise: caches, tests and seeded databases rely on them. Only ever add.
COMMUNITY_IDS = [f"c{i:02d}" for i in range(1, 21)]
UNIT_IDS = [
    *[f"cc{i:02d}" for i in range(1, 21)],
    "pm01",
    "pm02",
    "pm03",
    "hm01",
    "ut-water",
    "ut-power",
    "ut-gas",
    "ut-heat",
    "dc01",
    "st-enforce",
    "st-safety",
    "st-city",
    "st-commdev",
    "st-welfare",
]
CATEGORY_CODES = [
    "waterlogging",
    "gas_leak",
    "building_safety",
    "tree_hazard",
    "manhole",
    "roof_leak",
    "water_outage",
    "power_outage",
    "gas",
    "heating",
    "sewer",
    "elevator",
    "door_access",
    "noise",
    "parking",
    "property_mgmt",
    "sanitation",
    "tree",
    "road_damage",
    "street_light",
    "pest",
    "street_vendor",
    "policy_enquiry",
    "illegal_construction",
    "neighbour_dispute",
    "old_renovation",
]
CJK = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------- catalogue


def test_ids_are_stable() -> None:
    assert [c.id for c in COMMUNITIES] == COMMUNITY_IDS
    assert [u.id for u in UNITS] == UNIT_IDS
    assert [c.code for c in CATEGORIES] == CATEGORY_CODES


def test_twenty_communities_with_streets() -> None:
    assert catalogue.STREET_OFFICE == "德胜街道"
    assert len(COMMUNITIES) == 20
    assert len({c.name for c in COMMUNITIES}) == 20
    for community in COMMUNITIES:
        assert community.name.endswith("社区") and CJK.search(community.name)
        assert 2 <= len(community.streets) <= 5
        assert community.id in COMMUNITY_CENTRES
        lat, long = COMMUNITY_CENTRES[community.id]
        assert 39.94 < lat < 39.98 and 116.36 < long < 116.40  # between the 2nd and 3rd ring roads


def test_units() -> None:
    assert 25 <= len(UNITS) <= 40
    assert len({u.id for u in UNITS}) == len(UNITS)
    kinds = {k.value for k in UnitKind}
    assert not kinds & {u.id for u in UNITS}, "a unit id must never read as a unit kind"
    by_kind = Counter(u.kind for u in UNITS)
    assert by_kind[UnitKind.community] == 20
    assert by_kind[UnitKind.property] >= 3
    assert by_kind[UnitKind.housing] >= 1
    assert by_kind[UnitKind.utility] == 4
    assert by_kind[UnitKind.street] >= 4
    codes = {c.code for c in CATEGORIES}
    community_ids = {c.id for c in COMMUNITIES}
    for unit in UNITS:
        assert CJK.search(unit.name)
        assert set(unit.categories) <= codes, unit.id
        assert set(unit.communities) <= community_ids, unit.id
    offices = [u for u in UNITS if u.kind is UnitKind.community]
    assert sorted(c for u in offices for c in u.communities) == sorted(community_ids)
    assert sum(u.on_duty for u in UNITS) >= len(UNITS) - 2
    fallback = unit_by_id(FALLBACK_UNIT)
    assert fallback is not None and fallback.kind is UnitKind.district
    assert fallback.categories == [] and fallback.communities == []


def test_categories() -> None:
    assert 20 <= len(CATEGORIES) <= 30
    unit_ids = {u.id for u in UNITS}
    tiers = Counter(c.tier for c in CATEGORIES)
    assert all(tiers[t] >= 1 for t in Tier)
    for code, tier in [
        ("gas_leak", Tier.h2),
        ("waterlogging", Tier.h2),
        ("water_outage", Tier.h24),
        ("power_outage", Tier.h24),
        ("gas", Tier.h24),
        ("heating", Tier.h24),
        ("noise", Tier.d7),
        ("illegal_construction", Tier.d15),
    ]:
        found = category_by_code(code)
        assert found is not None and found.tier is tier, code
    for category in CATEGORIES:
        assert CJK.search(category.name)
        assert category.default_units, category.code
        assert set(category.default_units) <= unit_ids, category.code
        assert category.code in CATEGORY_DETAILS


def test_every_category_has_an_on_duty_owner_in_every_community() -> None:
    for category in CATEGORIES:
        for community in COMMUNITIES:
            suggested = suggested_units(category.code, community.id)
            assert suggested[-1] == FALLBACK_UNIT
            owners = [u for u in suggested if u != FALLBACK_UNIT and unit_by_id(u).on_duty]  # type: ignore[union-attr]
            assert owners, (category.code, community.id)
            for unit_id in suggested:
                unit = unit_by_id(unit_id)
                assert unit is not None
                assert not unit.categories or category.code in unit.categories
                assert not unit.communities or community.id in unit.communities


def test_suggested_units_order() -> None:
    # roof leak in 德胜里 (pm01's area): the property company leads, then the housing authority
    assert suggested_units("roof_leak", "c01")[:2] == ["pm01", "hm01"]
    assert suggested_units("roof_leak", "c01")[2:] == ["cc01", FALLBACK_UNIT]
    # 六铺炕 has no property company: the housing authority leads
    assert suggested_units("roof_leak", "c07")[0] == "hm01"
    assert suggested_units("power_outage", "c10") == ["ut-power", FALLBACK_UNIT]
    # an unknown community: only units covering every community
    assert "cc01" not in suggested_units("noise", "")
    assert suggested_units("noise", "")[0] == "st-enforce"
    assert suggested_units("no_such_category", "c01") == [FALLBACK_UNIT]


def test_lookups() -> None:
    assert community_by_id("c05") is not None and community_by_id("c05").name == "裕中东里社区"  # type: ignore[union-attr]
    assert community_by_id("c99") is None
    assert category_by_code("nope") is None
    assert catalogue.community_office("c07") == "cc07"
    assert catalogue.community_office("x") is None


# --------------------------------------------------------------------------- demo data


@pytest.fixture(scope="module")
def summer() -> list[DemoRequest]:
    return demo_requests(12345, 2000, SUMMER)


def test_deterministic() -> None:
    first = demo_requests(42, 300, SUMMER)
    assert first == demo_requests(42, 300, SUMMER)
    assert [d.new.model_dump_json() for d in first] == [
        d.new.model_dump_json() for d in demo_requests(42, 300, SUMMER)
    ]
    assert first != demo_requests(43, 300, SUMMER)
    assert demo_requests(42, 0, SUMMER) == []
    with pytest.raises(ValueError):
        demo_requests(42, 10, datetime(2024, 7, 31))  # naive


def test_every_step_is_allowed_by_the_state_machine(summer: list[DemoRequest]) -> None:
    """Replay all 2,000 histories with the real `apply_action`, step by step."""
    known = {u.id for u in UNITS}
    refs = [d.ref for d in summer]
    for index, demo in enumerate(summer):
        request = initial_request(demo.new, demo.ref)
        previous = demo.new.received_at
        assert previous is not None
        for step in demo.steps:
            assert previous <= step.at <= SUMMER, demo.ref
            assert request.state in ALLOWED_FROM[step.action.action], (demo.ref, step.action.action)
            if isinstance(step.action, Merge):  # always into an earlier request that is not merged itself
                parent = refs.index(step.action.parent_id)
                assert parent < index
                assert not any(isinstance(s.action, Merge) for s in summer[parent].steps)
            request = apply_action(request, step.action, actor=step.actor, now=step.at, known_units=known)
            previous = step.at
        assert request == replay(demo)


def test_winter_histories_replay_too() -> None:
    demos = demo_requests(7, 800, WINTER)
    finals = [replay(d) for d in demos]
    categories = Counter(d.new.category for d in demos)
    assert categories.most_common(1)[0][0] == "heating"  # the cold wave
    assert Counter(r.state for r in finals)[State.closed] > 500


def test_intake_looks_like_a_hotline(summer: list[DemoRequest]) -> None:
    news = [d.new for d in summer]
    assert len(news) == 2000
    received = [n.received_at for n in news]
    assert all(r is not None for r in received)
    times = [r for r in received if r is not None]
    assert times == sorted(times)
    assert all(SUMMER - timedelta(days=31) <= r < SUMMER for r in times)
    hours = Counter(r.astimezone(BEIJING).hour for r in times)
    peak = sum(hours[h] for h in (9, 10, 14, 15))
    night = sum(hours[h] for h in (1, 2, 3, 4))
    assert peak > 5 * night
    channels = Counter(n.channel for n in news)
    assert 0.85 <= channels[Channel.phone] / 2000 <= 0.95
    assert 0.05 <= sum(n.vulnerable for n in news) / 2000 <= 0.11
    assert {n.location.community for n in news} == set(COMMUNITY_IDS)
    assert len({n.category for n in news}) >= 20
    assert Counter(n.category for n in news).most_common(1)[0][0] == "roof_leak"  # the summer storm
    for n in news:
        assert CJK.search(n.description) and len(n.description) >= 10
        assert "{" not in n.description and "}" not in n.description
        assert re.fullmatch(r"1[3-9]\d{9}", n.caller.phone), n.caller.phone
        assert n.caller.name == "" or re.fullmatch(r"[\u4e00-\u9fff](女士|先生|阿姨|大爷)", n.caller.name)
        assert n.location.address and n.location.lat is not None and n.location.long is not None
    assert len({n.description for n in news}) > 1500


def test_histories_reach_a_realistic_mix(summer: list[DemoRequest]) -> None:
    finals = [replay(d) for d in summer]
    states = Counter(r.state for r in finals)
    assert states[State.closed] / 2000 > 0.75
    assert states[State.accepted] > 50
    assert states[State.new] + states[State.dispatched] >= 2
    assert 10 <= states[State.merged] <= 120
    actions = Counter(s.action.action for d in summer for s in d.steps)
    for name in (
        "dispatch",
        "accept",
        "return",
        "extend",
        "resolve",
        "callback",
        "close",
        "reopen",
        "merge",
        "note",
    ):
        assert actions[name] > 0, name
    # older requests are mostly closed, the last day's mostly not
    old = [r for r in finals if SUMMER - r.received_at > timedelta(days=14)]
    recent = [r for r in finals if SUMMER - r.received_at < timedelta(days=1)]
    assert sum(r.state in (State.closed, State.merged) for r in old) / len(old) > 0.95
    assert sum(r.state in (State.closed, State.merged) for r in recent) / len(recent) < 0.5
    # the rates on the latest valid callback of each request
    latest = [
        [c for c in r.callbacks if c.reached][-1] for r in finals if any(c.reached for c in r.callbacks)
    ]
    solved = sum(bool(c.solved) for c in latest) / len(latest)
    satisfied = sum(c.satisfaction is Satisfaction.satisfied for c in latest) / len(latest)
    assert 0.95 <= solved <= 0.99, solved
    assert 0.98 <= satisfied <= 1.0, satisfied
    assert any(not c.reached for r in finals for c in r.callbacks)


def test_dispatch_goes_to_suggested_units(summer: list[DemoRequest]) -> None:
    co_dispatches = 0
    for demo in summer:
        suggested = suggested_units(demo.new.category, demo.new.location.community)
        for i, step in enumerate(demo.steps):
            if not isinstance(step.action, Dispatch):
                continue
            later = demo.steps[i + 1 :]
            returned = any(isinstance(s.action, Return) for s in later)
            # a dispatch to the wrong owner is handed back (退单), unless `now` came first
            cut_off = all(isinstance(s.action, Accept) for s in later)
            if not returned:
                assert step.action.lead_unit in suggested or cut_off, demo.ref
                assert set(step.action.co_units) <= set(suggested) | {f"cc{demo.new.location.community[1:]}"}
                co_dispatches += bool(step.action.co_units)
    assert co_dispatches > 30


def test_callbacks_follow_resolution(summer: list[DemoRequest]) -> None:
    for demo in summer:
        names = [s.action.action for s in demo.steps]
        for i, step in enumerate(demo.steps):
            if isinstance(step.action, LogCallback):
                assert "resolve" in names[:i]
                assert step.actor.startswith("回访-")


# --------------------------------------------------------------------------- seeding a store


def test_seed_store_writes_real_histories(tmp_path: Path) -> None:
    from central_api.sql_store import SqlStore
    from central_api.store import RequestFilter

    store = SqlStore(tmp_path / "seed.db")
    clock = store.clock
    try:
        assert seed_store(store, seed=3, count=150, now=SUMMER) == 150
        assert store.clock is clock
        demos = demo_requests(3, 150, SUMMER)
        stored = sorted(store.list_requests(RequestFilter(limit=1000)), key=lambda r: r.id)  # intake order
        assert len(stored) == 150
        with_parent = 0  # merged requests resolved with their parent: a change of their own each
        for demo, request in zip(demos, stored, strict=True):
            expected = replay(demo)
            if expected.state is State.merged and request.state is State.resolved:
                # resolved with its parent, or at once if merged into a parent already handled
                last = store.audit(request.id)[-1]
                assert last.action == "resolve" and last.detail == {"with_parent": request.merged_into}
                assert request.resolved_at == last.at
                assert store.get_request(request.merged_into or "").resolved_at is not None
                expected = expected.model_copy(
                    update={"state": State.resolved, "version": expected.version + 1}
                )
                with_parent += 1
            assert request.state is expected.state
            assert request.version == expected.version
            assert request.received_at == expected.received_at
            # backdated: the state timestamps are the demo history's, not the time of seeding
            assert request.dispatched_at == expected.dispatched_at
            assert request.closed_at == expected.closed_at
            if expected.merged_into is not None:
                parent = next(d for d in demos if d.ref == expected.merged_into)
                assert store.get_request(request.merged_into or "").received_at == parent.new.received_at
        assert with_parent > 0
        assert store.head() == 150 + sum(len(d.steps) for d in demos) + with_parent
        audit = store.audit(stored[0].id)
        assert [e.action for e in audit] == ["intake", *(s.action.action for s in demos[0].steps)]
        assert audit[0].at == demos[0].new.received_at
    finally:
        store.close()
