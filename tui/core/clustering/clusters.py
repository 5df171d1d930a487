"""`Cluster` and `find_clusters`: requests in blocks (a problem at one compound, lane, road or
landmark), pairs inside a block and within the time window scored and linked, the groups as
clusters with the earliest request as the suggested parent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from api_client.domain.states import OPEN_STATES
from tui.core.clustering.items import Item
from tui.core.clustering.linking import STRONG_LINK, Links, link
from tui.core.clustering.prepared import Prepared, anchors, prepare
from tui.core.clustering.problems import BUILDING, FLAT, OTHER, UNIT, family_of
from tui.core.clustering.scoring import apart, conflict, pair_score
from tui.core.clustering.text import NGRAM, TextMethod
from tui.core.collector import paused

__all__ = ["DEFAULT_THRESHOLD", "DEFAULT_WINDOW", "LASTING", "LASTING_FACTOR", "Cluster", "find_clusters"]

#: How far apart in time two reports of one incident may be.
DEFAULT_WINDOW = timedelta(hours=6)
#: Failures that last until they are repaired (heating, power, water supply, a burst pipe, a lift,
#: ice): the morning's calls about the heating that failed last evening are one incident.
LASTING = frozenset({"heat", "outage", "no_water", "pipe", "gas", "lift", "door", "ice"})
LASTING_FACTOR = 3
DEFAULT_THRESHOLD = 0.6


@dataclass(frozen=True)
class Cluster:
    """Requests that are likely one incident. `parent_id` is the suggested parent (the earliest);
    `member_ids` are all of them, parent first, then by time; `score` is the mean score of the
    links that joined them; `reasons` say what they share, most common first."""

    parent_id: str
    member_ids: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]


#: Problems compared with each other: a building's basement and its garage.
_BLOCK = {"garage": "basement"}
_IN_A_BUILDING = frozenset({BUILDING, UNIT, FLAT})


def _blocks(prepared: Sequence[Prepared]) -> Iterable[list[Prepared]]:
    """Groups whose members may be one incident: one problem (or its cause) at one compound,
    lane, road or landmark, a building's problem in one building (a report that names no building
    beside every building of its compound); a lift or pump that may have stopped with the power
    beside the power cuts of its compound; requests of other kinds by category and community."""
    blocks: dict[tuple[str, ...], list[Prepared]] = defaultdict(list)
    buildings: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for p in prepared:
        if p.reach == OTHER:
            blocks[("", p.item.category, p.item.community)].append(p)
            continue
        own = _BLOCK.get(p.family, p.family)
        families = {_BLOCK.get(f, f) for f in map(family_of, p.problem.causes)} - {own}
        if p.problem.maybe_power:
            families.add("outage")
        building = p.place.building if p.reach in _IN_A_BUILDING else ""
        for key in anchors(p):
            blocks[(own, key, building or "*")].append(p)
            buildings[(own, key)].add(building or "*")
            for family in families:
                blocks[(family, key, "*")].append(p)
                buildings[(family, key)].add("*")
    for (family, key), numbers in buildings.items():  # no building named: somewhere in the compound
        anywhere = blocks.get((family, key, "*"))
        if anywhere:
            for number in numbers - {"*"}:
                blocks[(family, key, number)].extend(anywhere)
    return blocks.values()


def find_clusters(
    items: Iterable[Item],
    *,
    window: timedelta = DEFAULT_WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
    text: TextMethod = NGRAM,
) -> list[Cluster]:
    """Clusters of two or more open, unmerged requests that are likely one incident, the
    largest first. `window` is how far apart in time two reports of one incident may be (a
    failure that lasts until it is repaired, `LASTING`, `LASTING_FACTOR` times as far);
    `threshold` the score (0..1) a pair needs to be linked. The thousands of short-lived objects
    it makes form no cycles: the cycle collector is paused meanwhile (`tui.core.collector`)."""
    with paused():
        return _find([i for i in items if i.state in OPEN_STATES], window, threshold, text)


def _find(items: list[Item], window: timedelta, threshold: float, text: TextMethod) -> list[Cluster]:
    prepared = prepare(items, text)
    span = window.total_seconds()
    longest = span * LASTING_FACTOR
    links: Links = {}
    seen: set[tuple[int, int]] = set()
    for block in _blocks(prepared):
        if len(block) < 2:
            continue
        block.sort(key=lambda p: p.item.received_at)
        for x, a in enumerate(block):
            for b in block[x + 1 :]:
                apart_s = b.item.received_at - a.item.received_at
                if apart_s > longest:
                    break
                if apart_s > span and not (a.family in LASTING and b.family in LASTING):
                    continue
                key = (a.pos, b.pos) if a.pos < b.pos else (b.pos, a.pos)
                if key in seen:
                    continue
                seen.add(key)
                if a.reach == OTHER and apart(a, b):
                    continue
                score, reasons = pair_score(a, b, text)
                if score >= threshold:
                    links[key] = (score, reasons)
    parent = link(
        len(prepared), links, max(threshold, STRONG_LINK), lambda i, j: conflict(prepared[i], prepared[j])
    )
    return _collect(prepared, links, parent)


def _collect(
    prepared: Sequence[Prepared],
    links: Links,
    root: Sequence[int],
) -> list[Cluster]:
    members: dict[int, list[int]] = defaultdict(list)
    for p in prepared:
        members[root[p.pos]].append(p.pos)
    scores: dict[int, list[float]] = defaultdict(list)
    reasons: dict[int, dict[str, int]] = defaultdict(dict)
    for (a, b), (score, why) in links.items():
        group = root[a]
        if group == root[b]:
            scores[group].append(score)
            counted = reasons[group]
            for reason in why:
                counted[reason] = counted.get(reason, 0) + 1
    clusters = []
    for group, indexes in members.items():
        if len(indexes) < 2:
            continue
        ordered = sorted((prepared[i].item for i in indexes), key=lambda it: (it.received_at, it.id))
        counted = reasons[group]
        clusters.append(
            Cluster(
                parent_id=ordered[0].id,
                member_ids=tuple(it.id for it in ordered),
                score=round(sum(scores[group]) / len(scores[group]), 3),
                reasons=tuple(sorted(counted, key=lambda r: (-counted[r], r))),
            )
        )
    clusters.sort(key=lambda c: (-len(c.member_ids), c.parent_id))
    return clusters
