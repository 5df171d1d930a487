"""How well `tui.core.clustering` finds the requests of one incident in a labelled rainstorm.

    python bench/duplicates.py [--count 5000] [--hours 3] [--seeds 2023,7]

For each seed, `central_api.storm.storm_requests` makes `count` requests over `hours`, each
labelled with the incident it reports (None for a request nothing else reports). The clustering
runs on them as the app would (all are open and unmerged) with each text method:

- `ngram`: character bigrams, Dice coefficient (`tui.core.clustering.text`; what the app uses);
- `jieba`: jieba word tokens compared with rapidfuzz's `token_set_ratio` (needs the `bench`
  extra: `pip install -e '.[bench]'`; reported as missing otherwise).

Pairwise scores, over unordered pairs of distinct requests:
- predicted pairs P = pairs whose two requests are in one cluster;
- true pairs T = pairs whose two requests carry the same (non-None) incident label;
- `precision` = |P ∩ T| / |P|, `recall` = |P ∩ T| / |T|;
- `elapsed_s` = wall time of `find_clusters` alone (text preparation included; jieba's
  dictionary is loaded before timing), the best of `--repeat` runs, with every run in `runs_s`
  and the machine's load average in `load` (the machine may be shared: compare like with like).
The first seed is the one the weights were tuned on; the others are held out.
Prints one JSON object. Targets for the app's method: precision >= 0.9, recall >= 0.8.

`--errors N` adds where the app's method goes wrong: the N most common false pairs (in one
cluster, not one incident) and missed pairs (one incident, not in one cluster), counted by the
two categories, the two problems `tui.core.clustering.problems.problem_of` reads, and whether the two
addresses name one compound or road (`same base`); a false pair says whether one of the two was
made as a near-miss of the other's incident.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder holds queue.py, which would shadow the standard library's `queue` for every
# import below: keep the folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from itertools import combinations
from typing import Any

from api_client.models import State
from central_api.storm import StormCall, storm_requests
from tui.core.clustering.clusters import Cluster, find_clusters
from tui.core.clustering.items import Item
from tui.core.clustering.places import parse_place
from tui.core.clustering.problems import problem_of
from tui.core.clustering.text import NGRAM, TextMethod

#: The storm of 31 July 2023, 15:00 Beijing time.
START = datetime(2023, 7, 31, 15, 0, tzinfo=timezone(timedelta(hours=8)))
APP_METHOD = NGRAM.name


class JiebaText:
    """jieba words, rapidfuzz token_set_ratio."""

    name = "jieba"

    def __init__(self) -> None:
        import logging

        import jieba  # type: ignore[import-untyped]
        from rapidfuzz import fuzz

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        self._cut = jieba.lcut
        self._ratio = fuzz.token_set_ratio

    def prepare(self, text: str) -> object:
        return " ".join(w for w in self._cut(text) if w.strip() and w not in "，。、！？,.!?：:；;")

    def similarity(self, a: object, b: object) -> float:
        assert isinstance(a, str) and isinstance(b, str)
        return float(self._ratio(a, b)) / 100


def pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for group in groups:
        out.update(combinations(sorted(group), 2))
    return out


def evaluate(
    calls: list[StormCall], method: TextMethod, *, repeat: int = 1, errors: int = 0
) -> dict[str, Any]:
    items = []
    truth: dict[str, list[str]] = defaultdict(list)
    for i, call in enumerate(calls):
        rid = f"r{i:05d}"
        new = call.new
        assert new.received_at is not None
        items.append(
            Item(
                rid,
                State.new,
                new.category,
                new.location.community,
                new.location.address,
                new.description,
                new.received_at.timestamp(),
            )
        )
        if call.incident is not None:
            truth[call.incident].append(rid)
    runs = []
    clusters: list[Cluster] = []
    for _ in range(max(1, repeat)):
        began = time.perf_counter()
        clusters = find_clusters(items, text=method)
        runs.append(time.perf_counter() - began)
    predicted = pairs([list(c.member_ids) for c in clusters])
    true = pairs(list(truth.values()))
    hits = len(predicted & true)
    result: dict[str, Any] = {
        "precision": round(hits / len(predicted), 4) if predicted else 1.0,
        "recall": round(hits / len(true), 4) if true else 1.0,
        "elapsed_s": round(min(runs), 3),
        "runs_s": [round(r, 3) for r in runs],
        "load": [round(x, 2) for x in os.getloadavg()],
        "clusters": len(clusters),
        "incidents": len(truth),
    }
    if errors:
        by_id = {item.id: (item, call) for item, call in zip(items, calls, strict=True)}
        result["false_pairs"] = breakdown(predicted - true, by_id, errors, near=True)
        result["missed_pairs"] = breakdown(true - predicted, by_id, errors, near=False)
    return result


def breakdown(
    wrong: set[tuple[str, str]], by_id: dict[str, tuple[Item, StormCall]], top: int, *, near: bool
) -> list[str]:
    """The most common kinds of wrong pair, with how many there are."""
    counted: Counter[str] = Counter()
    for a, b in wrong:
        (ia, ca), (ib, cb) = by_id[a], by_id[b]
        base = parse_place(ia.address, ia.description).base == parse_place(ib.address, ib.description).base
        kind = (
            f"{ia.category}/{ib.category}, {problem_of(ia.category, ia.description) or '-'}/"
            f"{problem_of(ib.category, ib.description) or '-'}, {'same' if base else 'other'} base"
        )
        if near and any(
            x.near_miss_of is not None and x.near_miss_of == y.incident for x, y in ((ca, cb), (cb, ca))
        ):
            kind += ", near-miss"
        counted[kind] += 1
    return [f"{n} {kind}" for kind, n in counted.most_common(top)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--seeds", default="2023,7", help="the tuning seed, then held-out seeds")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per method (the best counts)")
    parser.add_argument("--errors", type=int, default=0, help="show the N commonest wrong pairs")
    args = parser.parse_args()
    methods: list[TextMethod] = [NGRAM]
    missing: dict[str, str] = {}
    try:
        methods.append(JiebaText())
    except ImportError as exc:
        missing["jieba"] = f"not measured: {exc.name} is not installed (pip install -e '.[bench]')"
    seeds = [int(s) for s in args.seeds.split(",")]
    report: dict[str, Any] = {"count": args.count, "hours": args.hours, "app_method": APP_METHOD}
    for n, seed in enumerate(seeds):
        calls = storm_requests(seed, start=START, hours=args.hours, count=args.count)
        label = f"seed {seed}" + (" (tuned on)" if n == 0 else " (held out)")
        results: dict[str, Any] = {
            m.name: evaluate(calls, m, repeat=args.repeat, errors=args.errors if m.name == APP_METHOD else 0)
            for m in methods
        }
        results.update(missing)
        report[label] = results
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
