"""`Cluster` and `find_clusters`: requests in blocks (the problem in one building, compound,
road or landmark), pairs inside a block and within the time window scored and linked, the groups
as clusters with the earliest request as the suggested parent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from api_client.domain.states import OPEN_STATES
from tui.core.clustering.items import Item
from tui.core.clustering.linking import STRONG_LINK, Links, link
from tui.core.clustering.prepared import Prepared, prepare
from tui.core.clustering.problems import AREA, BUILDING, FLAT, OTHER
from tui.core.clustering.scoring import apart, pair_score
from tui.core.clustering.text import NGRAM, TextMethod

__all__ = ["DEFAULT_THRESHOLD", "DEFAULT_WINDOW", "Cluster", "find_clusters"]

DEFAULT_WINDOW = timedelta(hours=6)
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


def _blocks(prepared: Sequence[Prepared]) -> Iterable[list[Prepared]]:
    """Groups whose members may be one incident: the same problem in the same building or
    compound or on the same road (a typing slip apart), at the same landmark; requests of other
    kinds by category group and community."""
    blocks: dict[tuple[str, ...], list[Prepared]] = defaultdict(list)
    for p in prepared:
        family = p.family
        if p.scope in (FLAT, BUILDING):
            blocks[(family, p.base, str(p.place.building))].append(p)
        elif p.scope == AREA:
            if p.base:
                blocks[(family, p.base)].append(p)
            if p.place.landmark:
                blocks[(family, "@", p.spot)].append(p)
        else:
            blocks[("", p.group, p.item.community)].append(p)
    return blocks.values()


def find_clusters(
    items: Iterable[Item],
    *,
    window: timedelta = DEFAULT_WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
    text: TextMethod = NGRAM,
) -> list[Cluster]:
    """Clusters of two or more open, unmerged requests that are likely one incident, the
    largest first. `window` is how far apart in time two reports of one incident may be;
    `threshold` the score (0..1) a pair needs to be linked."""
    prepared = prepare([i for i in items if i.state in OPEN_STATES], text)
    span = window.total_seconds()
    links: Links = {}
    for block in _blocks(prepared):
        if len(block) < 2:
            continue
        block.sort(key=lambda p: p.item.received_at)
        for x, a in enumerate(block):
            for b in block[x + 1 :]:
                if b.item.received_at - a.item.received_at > span:
                    break
                key = (a.pos, b.pos) if a.pos < b.pos else (b.pos, a.pos)
                if key in links or (a.scope == OTHER and apart(a, b)):
                    continue
                score, reasons = pair_score(a, b, text)
                if score >= threshold:
                    links[key] = (score, reasons)
    parent = link(len(prepared), links, max(threshold, STRONG_LINK))
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
    reasons: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (a, b), (score, why) in links.items():
        if root[a] != root[b]:
            continue
        scores[root[a]].append(score)
        for reason in why:
            reasons[root[a]][reason] += 1
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
