"""Surge detection over arrivals in 15-minute buckets: steady traffic is quiet, a threefold jump
is found by category and by community, small numbers are not surges, buckets follow the clock."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from api_client.models import State, Tier
from tui.core.queue.rows import make_row
from tui.core.surge import (
    BUCKET_SECONDS,
    Arrival,
    Surge,
    arrival_series,
    bucket_of,
    bucket_start,
    count_buckets,
    detect_surges,
)

#: 2026-03-02 10:00 in Beijing (02:00 UTC), on a bucket boundary.
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC).timestamp()
B = BUCKET_SECONDS


def steady(
    *, buckets: int, per_bucket: int, category: str = "roof_leak", community: str = "c01", end: float = T0
) -> list[Arrival]:
    """`per_bucket` arrivals spread evenly over each of the `buckets` buckets before `end`."""
    arrivals = []
    for b in range(buckets):
        start = end - (b + 1) * B
        arrivals += [
            Arrival(start + (i + 0.5) * B / per_bucket, category, community) for i in range(per_bucket)
        ]
    return arrivals


def burst(
    count: int, *, start: float, seconds: float = B, category: str = "roof_leak", community: str = "c01"
) -> list[Arrival]:
    return [Arrival(start + (i + 0.5) * seconds / count, category, community) for i in range(count)]


def test_buckets_are_aligned_to_fifteen_minutes() -> None:
    assert B == 15 * 60
    assert bucket_start(bucket_of(T0)) == T0
    assert bucket_of(T0 + B - 0.001) == bucket_of(T0)
    assert bucket_of(T0 + B) == bucket_of(T0) + 1
    assert bucket_of(T0 - 0.001) == bucket_of(T0) - 1
    at = datetime.fromtimestamp(bucket_start(bucket_of(T0 + 7 * 60 + 13)), UTC)
    assert (at.minute, at.second) == (0, 0)
    for minute in (0, 14, 15, 29, 44, 59):
        started = datetime.fromtimestamp(bucket_start(bucket_of(T0 + minute * 60 + 30)), UTC)
        assert started.minute == minute // 15 * 15 and started.second == 0


def test_counts_by_category_and_community_per_bucket() -> None:
    arrivals = [
        Arrival(T0 + 1, "roof_leak", "c01"),
        Arrival(T0 + B - 1, "roof_leak", "c02"),
        Arrival(T0 + B, "gas_leak", "c01"),
        Arrival(T0 + 2 * B, "gas_leak", ""),  # outside the range asked for
        Arrival(T0 - 1, "noise", "c01"),  # before it
    ]
    first = bucket_of(T0)
    counts = count_buckets(arrivals, first=first, last=first + 1)
    assert counts.by_category == {"roof_leak": {first: 2}, "gas_leak": {first + 1: 1}}
    assert counts.by_community == {"c01": {first: 1, first + 1: 1}, "c02": {first: 1}}


def test_steady_traffic_is_no_surge() -> None:
    arrivals = steady(buckets=12, per_bucket=6) + steady(
        buckets=12, per_bucket=4, category="gas", community="c02"
    )
    now = T0 + 10 * 60  # ten minutes into a bucket, with its share of arrivals so far
    arrivals += burst(4, start=T0, seconds=10 * 60) + burst(
        3, start=T0, seconds=10 * 60, category="gas", community="c02"
    )
    assert detect_surges(arrivals, now=now) == []


def test_a_threefold_jump_is_found_by_category_and_by_community() -> None:
    # Two hours of 4 roof leaks a quarter in c01, then 12 in the last complete quarter.
    arrivals = steady(buckets=8, per_bucket=4, end=T0 - B) + burst(12, start=T0 - B)
    # Background elsewhere, steady: not a surge.
    arrivals += steady(buckets=9, per_bucket=5, category="noise", community="c09")
    surges = detect_surges(arrivals, now=T0 + 60)
    found = {(s.kind, s.key): s for s in surges}
    assert set(found) == {("category", "roof_leak"), ("community", "c01")}
    by_category = found[("category", "roof_leak")]
    assert by_category == Surge(
        kind="category", key="roof_leak", rate=12, baseline=4, factor=3.0, partial=False, bucket_start=T0 - B
    )
    assert found[("community", "c01")].rate == 12


def test_a_jump_just_under_the_factor_is_not_a_surge() -> None:
    arrivals = steady(buckets=8, per_bucket=4, end=T0 - B) + burst(11, start=T0 - B)
    assert detect_surges(arrivals, now=T0 + 60) == []
    assert detect_surges(arrivals, now=T0 + 60, factor=2.5) != []


def test_the_current_bucket_counts_scaled() -> None:
    # Steady 4 a quarter, then 8 in the first five minutes of the current one: 24 a quarter.
    arrivals = steady(buckets=8, per_bucket=4) + burst(8, start=T0, seconds=5 * 60)
    [surge] = detect_surges(arrivals, now=T0 + 5 * 60, min_count=5)[:1]
    assert surge.partial and surge.bucket_start == T0
    assert surge.rate == pytest.approx(24) and surge.baseline == 4 and surge.factor == pytest.approx(6)


def test_small_numbers_are_not_surges() -> None:
    # 1 a quarter, then 3: three times as many, but only three requests.
    arrivals = steady(buckets=8, per_bucket=1, end=T0 - B) + burst(3, start=T0 - B)
    assert detect_surges(arrivals, now=T0 + 60) == []
    assert [s.key for s in detect_surges(arrivals, now=T0 + 60, min_count=3)] == ["roof_leak", "c01"]
    # A key that was silent needs `factor` requests (averages under one count as one) and min_count.
    quiet = burst(4, start=T0 - B, category="tree_hazard", community="c07")
    assert detect_surges(quiet, now=T0 + 60) == []
    loud = burst(6, start=T0 - B, category="tree_hazard", community="c07")
    [first, *_] = detect_surges(loud, now=T0 + 60)
    assert first.baseline == 0 and first.factor == 6


def test_surges_are_sorted_strongest_first() -> None:
    arrivals = steady(buckets=8, per_bucket=2, end=T0 - B, category="a", community="x")
    arrivals += burst(10, start=T0 - B, category="a", community="x")
    arrivals += burst(20, start=T0 - B, category="b", community="y")
    keys = [(s.kind, s.key) for s in detect_surges(arrivals, now=T0 + 60)]
    assert keys == [("category", "b"), ("community", "y"), ("category", "a"), ("community", "x")]


def test_arrivals_in_the_future_are_ignored() -> None:
    arrivals = burst(30, start=T0 + B)  # after the current bucket
    assert detect_surges(arrivals, now=T0 + 60) == []
    assert arrival_series(arrivals, now=T0 + 60, buckets=4) == [0, 0, 0, 0]


def test_arrival_series_for_a_chart() -> None:
    arrivals = steady(buckets=3, per_bucket=2) + burst(5, start=T0, seconds=60)
    arrivals += steady(buckets=2, per_bucket=1, category="gas", community="c02")
    assert arrival_series(arrivals, now=T0 + 120, buckets=5) == [0, 2, 3, 3, 5]
    assert arrival_series(arrivals, now=T0 + 120, buckets=4, kind="category", key="gas") == [0, 1, 1, 0]
    assert arrival_series(arrivals, now=T0 + 120, buckets=2, kind="community", key="c01") == [2, 5]
    assert arrival_series(arrivals, now=T0 + 120, buckets=0) == []
    with pytest.raises(ValueError, match="both"):
        arrival_series(arrivals, now=T0, kind="category")


def test_runs_on_the_apps_queue_rows() -> None:
    rng = random.Random(5)
    rows = [
        make_row(
            id=f"R-{i:06d}",
            state=State.new,
            category="roof_leak" if i % 2 else "noise",
            community=f"c{1 + i % 20:02d}",
            received_at=T0 - rng.random() * 30 * 86400,
            due_at=T0,
            tier=Tier.h24,
            description="",
        )
        for i in range(2000)
    ]
    rows += [
        make_row(
            id=f"S-{i}",
            state=State.new,
            category="waterlogging",
            community="c05",
            received_at=T0 - B + i,
            due_at=T0,
            tier=Tier.h2,
            description="",
        )
        for i in range(40)
    ]
    surges = detect_surges(rows, now=T0 + 60)
    assert {(s.kind, s.key) for s in surges} == {("category", "waterlogging"), ("community", "c05")}


def test_the_module_needs_no_textual() -> None:
    code = "import sys, tui.core.surge; sys.exit('textual' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
