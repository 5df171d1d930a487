"""How well `tui.core.clustering` finds the requests of one incident in labelled peak events.

    python bench/duplicates.py [--count 5000] [--hours 3] [--seeds 2023,7] [--set NAME ...]
                               [--methods ngram,jieba] [--repeat 3] [--errors N]

For each seed, `central_api.storm.storm_requests` makes `count` requests over `hours`, each
labelled with the incident it reports (None for a request nothing else reports). Beside them, each
hand-written set `bench/handwritten/NAME.jsonl` (requests written by people in callers' words,
labelled by incident; see bench/handwritten/README.md) is read as it is. `--set NAME` (repeatable)
runs only those sets (and the seeds only when `--seeds` is given too). The clustering runs on each
as the app would (all are open and unmerged) with each text method (`--methods`):

- `ngram`: character bigrams, Dice coefficient (`tui.core.clustering.text`; what the app uses);
- `jieba`: jieba word tokens compared with rapidfuzz's `token_set_ratio` (needs the `bench`
  extra: `pip install -e '.[bench]'`; reported as missing otherwise).

Pairwise scores, over unordered pairs of distinct requests:
- predicted pairs P = pairs whose two requests are in one cluster;
- true pairs T = pairs whose two requests carry the same (non-None) incident label;
- `precision` = |P ∩ T| / |P|, `recall` = |P ∩ T| / |T|;
- `elapsed_s` = wall time of `find_clusters` alone (text preparation included; jieba's
  dictionary is loaded before timing; the addresses read by an earlier run forgotten), the best of
  `--repeat` runs, with every run in `runs_s`, the least processor time of the runs in `cpu_s`
  (about what it takes on an idle machine) and the machine's load average in `load` (the machine
  may be shared: compare like with like).
The first seed is the one the weights were tuned on; the others are held out.
Prints one JSON object. Targets for the app's method, on every seed and set: precision >= 0.95,
recall >= 0.85; 5,000 requests in under a second.

`--errors N` adds where the app's method goes wrong: the N most common false pairs (in one
cluster, not one incident) and missed pairs (one incident, not in one cluster), counted by the
two categories, the two problems `tui.core.clustering.problems.problem_of` reads, and whether the two
addresses name one compound or road (`same base`); a false pair says whether one of the two was
made as a near-miss of the other's incident (the generator) or is a hard negative and of which kind
(a hand-written set's `why`). For a hand-written set each kind also shows one pair as an example
(ids and addresses), and a false pair the reasons its cluster gives.
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
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import combinations
from typing import Any

from api_client.models import State
from central_api.storm import StormCall, storm_requests
from tui.core.clustering.clusters import Cluster, find_clusters
from tui.core.clustering.items import Item
from tui.core.clustering.places import clear_caches, parse_place
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


HANDWRITTEN = Path(__file__).resolve().parent / "handwritten"


@dataclass(frozen=True)
class Labelled:
    """One request of an evaluation set with the truth about it: its incident (None when nothing
    else reports it) and, for the error breakdown, what it was made to resemble."""

    item: Item
    incident: str | None
    near_miss: str = ""  # the generator: "near-miss" when made to resemble another's incident
    hard_negative: str = ""  # a hand-written set: the kind of hard negative it is, from `why`
    resembles: str | None = None


def from_storm(calls: list[StormCall]) -> list[Labelled]:
    out = []
    for i, call in enumerate(calls):
        new = call.new
        assert new.received_at is not None
        item = Item(
            f"r{i:05d}",
            State.new,
            new.category,
            new.location.community,
            new.location.address,
            new.description,
            new.received_at.timestamp(),
        )
        out.append(Labelled(item, call.incident, resembles=call.near_miss_of))
    return out


_HARD = re.compile(r"^hard negative(?: \((?P<kind>[^)]*)\))?:\s*(?P<note>[^;；,，(（]*)")


def _hard_negative(why: str) -> str:
    match = _HARD.match(why)
    if match is None:
        return ""
    return (match.group("kind") or match.group("note")).strip()[:40] or "hard negative"


def from_handwritten(path: Path) -> list[Labelled]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        item = Item(
            row["id"],
            State.new,
            row["category"],
            row["community"],
            row["address"],
            row["description"],
            datetime.fromisoformat(row["received_at"]).timestamp(),
        )
        out.append(Labelled(item, row["incident"], hard_negative=_hard_negative(row["why"])))
    return out


def pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for group in groups:
        out.update(combinations(sorted(group), 2))
    return out


def evaluate(
    labelled: list[Labelled], method: TextMethod, *, repeat: int = 1, errors: int = 0, examples: bool = False
) -> dict[str, Any]:
    items = [x.item for x in labelled]
    truth: dict[str, list[str]] = defaultdict(list)
    for x in labelled:
        if x.incident is not None:
            truth[x.incident].append(x.item.id)
    runs, cpu = [], []
    clusters: list[Cluster] = []
    for _ in range(max(1, repeat)):
        clear_caches()
        began, began_cpu = time.perf_counter(), time.process_time()
        clusters = find_clusters(items, text=method)
        runs.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    predicted = pairs([list(c.member_ids) for c in clusters])
    true = pairs(list(truth.values()))
    hits = len(predicted & true)
    result: dict[str, Any] = {
        "precision": round(hits / len(predicted), 4) if predicted else 1.0,
        "recall": round(hits / len(true), 4) if true else 1.0,
        "elapsed_s": round(min(runs), 3),
        "runs_s": [round(r, 3) for r in runs],
        "cpu_s": round(min(cpu), 3),
        "load": [round(x, 2) for x in os.getloadavg()],
        "requests": len(items),
        "clusters": len(clusters),
        "incidents": len(truth),
    }
    if errors:
        by_id = {x.item.id: x for x in labelled}
        why = {m: c.reasons for c in clusters for m in c.member_ids}
        result["false_pairs"] = breakdown(predicted - true, by_id, errors, why if examples else None)
        result["missed_pairs"] = breakdown(true - predicted, by_id, errors, None, examples=examples)
    return result


def breakdown(
    wrong: set[tuple[str, str]],
    by_id: dict[str, Labelled],
    top: int,
    reasons: dict[str, tuple[str, ...]] | None,
    *,
    examples: bool = False,
) -> list[str]:
    """The most common kinds of wrong pair, with how many there are (and one of each when
    `examples` or `reasons`: a false pair with the reasons its cluster gives)."""
    counted: Counter[str] = Counter()
    example: dict[str, str] = {}
    for a, b in sorted(wrong):
        x, y = by_id[a], by_id[b]
        ia, ib = x.item, y.item
        base = (
            parse_place(ia.address, ia.description, ia.community).base
            == parse_place(ib.address, ib.description, ib.community).base
        )
        kind = (
            f"{ia.category}/{ib.category}, {problem_of(ia.category, ia.description) or '-'}/"
            f"{problem_of(ib.category, ib.description) or '-'}, {'same' if base else 'other'} base"
        )
        if reasons is not None or x.hard_negative or y.hard_negative:
            hard = sorted({h for h in (x.hard_negative, y.hard_negative) if h})
            if hard:
                kind += ", hard negative: " + " / ".join(hard)
        if any(p.resembles is not None and p.resembles == q.incident for p, q in ((x, y), (y, x))):
            kind += ", near-miss"
        counted[kind] += 1
        if (examples or reasons is not None) and kind not in example:
            shown = f"{a} {ia.address or '-'} | {b} {ib.address or '-'}"
            if reasons is not None:
                shown += " (" + ", ".join(reasons.get(a, ())) + ")"
            example[kind] = shown
    return [
        f"{n} {kind}" + (f" e.g. {example[kind]}" if kind in example else "")
        for kind, n in counted.most_common(top)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--seeds", default=None, help="the tuning seed, then held-out seeds (2023,7)")
    parser.add_argument(
        "--set", action="append", default=None, dest="sets", metavar="NAME", help="a hand-written set only"
    )
    parser.add_argument("--methods", default="ngram,jieba", help="text methods to measure")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per method (the best counts)")
    parser.add_argument("--errors", type=int, default=0, help="show the N commonest wrong pairs")
    args = parser.parse_args()
    wanted = set(args.methods.split(","))
    methods: list[TextMethod] = [NGRAM] if NGRAM.name in wanted else []
    missing: dict[str, str] = {}
    if "jieba" in wanted:
        try:
            methods.append(JiebaText())
        except ImportError as exc:
            missing["jieba"] = f"not measured: {exc.name} is not installed (pip install -e '.[bench]')"
    available = {p.stem: p for p in sorted(HANDWRITTEN.glob("*.jsonl")) if p.with_suffix(".md").exists()}
    unknown = [name for name in args.sets or () if name not in available]
    if unknown:
        parser.error(f"no hand-written set {', '.join(unknown)} (there are: {', '.join(available)})")
    seeds_arg = args.seeds if args.seeds is not None else ("" if args.sets else "2023,7")
    seeds = [int(s) for s in seeds_arg.split(",") if s]
    report: dict[str, Any] = {"count": args.count, "hours": args.hours, "app_method": APP_METHOD}

    def measure(label: str, labelled: list[Labelled], examples: bool) -> None:
        results: dict[str, Any] = {
            m.name: evaluate(
                labelled,
                m,
                repeat=args.repeat,
                errors=args.errors if m.name == APP_METHOD else 0,
                examples=examples,
            )
            for m in methods
        }
        results.update(missing)
        report[label] = results

    for n, seed in enumerate(seeds):
        calls = storm_requests(seed, start=START, hours=args.hours, count=args.count)
        measure(f"seed {seed}" + (" (tuned on)" if n == 0 else " (held out)"), from_storm(calls), False)
    for name in args.sets or available:
        measure(f"set {name}", from_handwritten(available[name]), True)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
