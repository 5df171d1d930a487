"""Surge detection: is a category or a community suddenly getting many more requests than usual?

Pure: no Textual, no IO. Arrivals are anything with `received_at` (epoch seconds), `category`
and `community` — `Arrival` here, or the app's `tui.core.queue.rows.QueueRow` — so the check runs
on the app's in-memory rows.

Time is cut into 15-minute buckets aligned to the clock (…:00, :15, :30, :45; the jurisdiction's
UTC+8 has whole hours, so local and UTC alignment agree); bucket `b` covers
`[b * 900, (b + 1) * 900)`. For each category and each community, `detect_surges` compares the
latest complete bucket, and the current partial bucket scaled to a whole one, with the average
of the `trailing` buckets before it. A key surges when that rate is at least `factor` times the
average *and* at least `min_count` requests actually arrived in the bucket, so a quiet key going
from 1 to 3 is not a surge. Averages below one request a bucket count as one, so a key that was
silent needs `factor` requests (and `min_count`) to surge.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from itertools import compress
from operator import attrgetter
from typing import Literal, NamedTuple, Protocol

__all__ = [
    "BUCKET_SECONDS",
    "Arrival",
    "ArrivalLike",
    "BucketCounts",
    "Surge",
    "SurgeKind",
    "arrival_series",
    "bucket_of",
    "bucket_start",
    "count_buckets",
    "detect_surges",
]

#: The length of a bucket: 15 minutes.
BUCKET_SECONDS = 900
#: Trailing buckets averaged for the baseline (two hours).
DEFAULT_TRAILING = 8
#: Fewest requests in a bucket that can make a surge.
DEFAULT_MIN_COUNT = 5

SurgeKind = Literal["category", "community"]


class ArrivalLike(Protocol):
    """What the detector reads of a request (`QueueRow` and `Arrival` have it)."""

    @property
    def received_at(self) -> float: ...

    @property
    def category(self) -> str: ...

    @property
    def community(self) -> str: ...


class Arrival(NamedTuple):
    """One request's arrival: when (epoch seconds), its category code and community id ("" when
    unknown)."""

    received_at: float
    category: str
    community: str = ""


@dataclass(frozen=True, slots=True)
class Surge:
    """`key` (a category code or community id) is getting `rate` requests a bucket against a
    usual `baseline` (the trailing average): `factor` = rate / max(baseline, 1). `partial`
    means the rate is the current, unfinished bucket scaled to 15 minutes; `bucket_start` is
    the epoch second the bucket began."""

    kind: SurgeKind
    key: str
    rate: float
    baseline: float
    factor: float
    partial: bool = False
    bucket_start: float = 0.0


@dataclass(frozen=True, slots=True)
class BucketCounts:
    """Arrivals per bucket index (`bucket_of`) for each category and each community, for the
    buckets `first` … `last` (inclusive)."""

    first: int
    last: int
    by_category: dict[str, Counter[int]]
    by_community: dict[str, Counter[int]]

    def of(self, kind: SurgeKind) -> dict[str, Counter[int]]:
        return self.by_category if kind == "category" else self.by_community


def bucket_of(epoch: float) -> int:
    """The index of the 15-minute bucket holding `epoch` (seconds)."""
    return int(epoch // BUCKET_SECONDS)


def bucket_start(bucket: int) -> float:
    """The epoch second bucket `bucket` begins."""
    return float(bucket * BUCKET_SECONDS)


def count_buckets(arrivals: Iterable[ArrivalLike], *, first: int, last: int) -> BucketCounts:
    """Arrivals in buckets `first` … `last` by category and by community (others skipped; an
    empty category or community is not counted under that kind).

    Runs over the rows with C-level iteration (map, compress, Counter) only: a pass over
    100,000 rows takes milliseconds."""
    window, offsets = _window(arrivals, first * BUCKET_SECONDS, (last + 1) * BUCKET_SECONDS)
    return BucketCounts(
        first=first,
        last=last,
        by_category=_by_key(Counter(zip(map(_CATEGORY, window), offsets, strict=True)), first),
        by_community=_by_key(Counter(zip(map(_COMMUNITY, window), offsets, strict=True)), first),
    )


_RECEIVED_AT = attrgetter("received_at")
_CATEGORY = attrgetter("category")
_COMMUNITY = attrgetter("community")


def _window(arrivals: Iterable[ArrivalLike], lo: int, hi: int) -> tuple[list[ArrivalLike], list[int]]:
    """The arrivals with `lo <= received_at < hi` (bucket bounds), and for each the number of
    its bucket counted from the one starting at `lo`."""
    window = [arrival for arrival in arrivals if lo <= arrival.received_at < hi]
    bounds = list(range(lo + BUCKET_SECONDS, hi, BUCKET_SECONDS))
    # bisect finds the bucket with a few C comparisons: cheaper than a float division per row.
    return window, list(map(partial(bisect_right, bounds), map(_RECEIVED_AT, window)))


def _by_key(pairs: Counter[tuple[str, int]], first: int) -> dict[str, Counter[int]]:
    by_key: dict[str, Counter[int]] = {}
    for (key, offset), count in pairs.items():
        if key:
            by_key.setdefault(key, Counter())[first + offset] = count
    return by_key


def detect_surges(
    arrivals: Iterable[ArrivalLike],
    *,
    now: float,
    factor: float = 3.0,
    trailing: int = DEFAULT_TRAILING,
    min_count: int = DEFAULT_MIN_COUNT,
) -> list[Surge]:
    """Categories and communities whose latest complete bucket, or the current partial one
    scaled to a whole bucket, is at least `factor` × the average of the `trailing` buckets
    before it, with at least `min_count` arrivals in it (see the module docstring). One surge
    per key (the stronger of the two buckets), strongest first (then by kind and key).

    `now` is epoch seconds; arrivals after the current bucket are ignored.
    """
    if trailing < 1:
        raise ValueError("trailing must be at least 1 bucket")
    if factor <= 0:
        raise ValueError("factor must be positive")
    current = bucket_of(now)
    elapsed = now - bucket_start(current)
    counts = count_buckets(arrivals, first=current - 1 - trailing, last=current)
    surges: list[Surge] = []
    kinds: tuple[SurgeKind, ...] = ("category", "community")
    for kind in kinds:
        for key, by_bucket in counts.of(kind).items():
            found = _check(kind, key, by_bucket, current - 1, 1.0, trailing, factor, min_count)
            if elapsed > 0:
                scale = BUCKET_SECONDS / elapsed
                partial = _check(kind, key, by_bucket, current, scale, trailing, factor, min_count)
                if partial is not None and (found is None or partial.factor > found.factor):
                    found = partial
            if found is not None:
                surges.append(found)
    surges.sort(key=lambda s: (-s.factor, s.kind, s.key))
    return surges


def _check(
    kind: SurgeKind,
    key: str,
    by_bucket: Counter[int],
    bucket: int,
    scale: float,
    trailing: int,
    factor: float,
    min_count: int,
) -> Surge | None:
    count = by_bucket.get(bucket, 0)
    if count < min_count:
        return None
    baseline = sum(by_bucket.get(b, 0) for b in range(bucket - trailing, bucket)) / trailing
    rate = count * scale
    ratio = rate / max(baseline, 1.0)
    if ratio < factor:
        return None
    return Surge(
        kind=kind,
        key=key,
        rate=rate,
        baseline=baseline,
        factor=ratio,
        partial=scale != 1.0,
        bucket_start=bucket_start(bucket),
    )


def arrival_series(
    arrivals: Iterable[ArrivalLike],
    *,
    now: float,
    buckets: int = 16,
    kind: SurgeKind | None = None,
    key: str | None = None,
) -> list[int]:
    """Arrivals per bucket for the last `buckets` buckets, oldest first, the last being the
    current (partial) one: of every request, or of one category or community (`kind` and
    `key`). For a terminal chart; bucket `i` starts at `bucket_start(bucket_of(now) -
    buckets + 1 + i)`."""
    if buckets < 1:
        return []
    if (kind is None) != (key is None):
        raise ValueError("give both kind and key, or neither")
    current = bucket_of(now)
    first = current - buckets + 1
    window, offsets = _window(arrivals, first * BUCKET_SECONDS, (current + 1) * BUCKET_SECONDS)
    if kind is not None and key is not None:
        keys = map(_CATEGORY if kind == "category" else _COMMUNITY, window)
        offsets = list(compress(offsets, map(key.__eq__, keys)))
    counted = Counter(offsets)
    return [counted.get(i, 0) for i in range(buckets)]
