"""The storm generator: deterministic, labels consistent, the storm's mix, near-misses."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from central_api.catalogue import category_by_code, community_by_id
from central_api.storm import StormCall, incident_sizes, storm_requests

START = datetime(2023, 7, 31, 15, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture(scope="module")
def calls() -> list[StormCall]:
    return storm_requests(11, start=START, hours=3, count=2000)


def test_same_seed_same_calls_other_seed_other_calls(calls: list[StormCall]) -> None:
    again = storm_requests(11, start=START, hours=3, count=2000)
    assert [c.model_dump() for c in (x.new for x in again)] == [c.new.model_dump() for c in calls]
    assert [c.incident for c in again] == [c.incident for c in calls]
    other = storm_requests(12, start=START, hours=3, count=2000)
    assert [c.new.description for c in other] != [c.new.description for c in calls]


def test_count_window_order_and_valid_references(calls: list[StormCall]) -> None:
    assert len(calls) == 2000
    times = [c.new.received_at for c in calls]
    assert all(t is not None and START <= t < START + timedelta(hours=3) for t in times)
    assert times == sorted(times)  # type: ignore[type-var]
    for call in calls:
        assert category_by_code(call.new.category) is not None
        assert community_by_id(call.new.location.community) is not None
        assert call.new.caller.phone and call.actor.startswith("话务-")
    assert storm_requests(1, start=START, hours=1, count=0) == []
    with pytest.raises(ValueError):
        storm_requests(1, start=datetime(2023, 7, 31, 15), hours=1, count=5)


def test_bursts_not_a_flat_rate(calls: list[StormCall]) -> None:
    per_10_min = Counter(int((c.new.received_at - START).total_seconds() // 600) for c in calls)  # type: ignore[operator]
    assert max(per_10_min.values()) > 1.5 * min(per_10_min.values())


def test_incident_labels_are_consistent(calls: list[StormCall]) -> None:
    sizes = incident_sizes(calls)
    assert sizes and min(sizes.values()) >= 2  # a label is shared, else it is None
    assert max(sizes.values()) >= 8  # a flooded underpass draws many calls
    by_incident: dict[str, list[StormCall]] = {}
    for call in calls:
        if call.incident is not None:
            by_incident.setdefault(call.incident, []).append(call)
    for members in by_incident.values():
        # one incident: one kind of problem, reported within a few hours
        groups = {call.new.category for call in members}
        assert len(groups) <= 3
        first, last = members[0].new.received_at, members[-1].new.received_at
        assert first is not None and last is not None and last - first <= timedelta(hours=3)
    # callers word it their own way: the calls of a big incident are not one text repeated
    big = max(by_incident.values(), key=len)
    assert len({c.new.description for c in big}) > len(big) // 2
    assert len({c.new.caller.phone for c in big}) >= len(big) // 2


def test_the_storm_mix(calls: list[StormCall]) -> None:
    share = Counter(c.new.category for c in calls)
    leaks = (share["roof_leak"] + share["building_safety"]) / len(calls)
    water = (share["waterlogging"] + share["sewer"]) / len(calls)
    assert 0.4 <= leaks <= 0.6
    assert 0.2 <= water <= 0.4
    for category in ("power_outage", "tree_hazard", "elevator"):
        assert share[category] > 0
    ordinary = sum(
        n for cat, n in share.items() if cat in ("noise", "parking", "policy_enquiry", "property_mgmt")
    )
    assert ordinary > 0.02 * len(calls)


def test_address_spellings_vary(calls: list[StormCall]) -> None:
    addresses = [c.new.location.address for c in calls]
    assert any(any("０" <= ch <= "９" for ch in a) for a in addresses)  # full-width digits
    assert any("小区" in a for a in addresses)
    assert any("门" in a and "号楼" in a for a in addresses)  # 3号楼2门
    assert any(a.count("-") == 2 for a in addresses)  # 3-2-602


def test_near_misses_are_present_and_not_duplicates(calls: list[StormCall]) -> None:
    near = [c for c in calls if c.near_miss_of is not None]
    assert len(near) >= 10
    incidents = {c.incident for c in calls}
    assert all(c.incident != c.near_miss_of for c in near)
    assert any(c.near_miss_of in incidents for c in near)
    # the same caller reporting a second, different problem
    by_phone: dict[str, set[str | None]] = {}
    for call in calls:
        by_phone.setdefault(call.new.caller.phone, set()).add(call.incident)
    assert any(len(labels) >= 2 for labels in by_phone.values())


def test_received_at_is_aware_utc_comparable() -> None:
    calls = storm_requests(3, start=datetime(2024, 7, 1, tzinfo=UTC), hours=0.5, count=50)
    assert len(calls) == 50
