"""Linked pairs into groups: strong links join outright, weak ones only with enough of the
pairs between two groups linked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TypeAlias

__all__ = ["MIN_LINKED_SHARE", "STRONG_LINK", "Links", "link"]

#: Links at or above this join their requests outright (connected components); weaker ones
#: join two groups only when enough of the pairs between them are linked (`MIN_LINKED_SHARE`).
STRONG_LINK = 0.9
#: Two groups join on weak links when at least this share of the pairs between them are linked:
#: a report that names only the road (somewhere on 新康路) does not join two spots on it.
MIN_LINKED_SHARE = 0.5
#: Linked pairs of positions (the lower first) with their score and reasons.
Links: TypeAlias = dict[tuple[int, int], tuple[float, list[str]]]


def link(
    size: int, links: Links, strong: float, apart: Callable[[int, int], bool] = lambda _a, _b: False
) -> list[int]:
    """Each request's group (a representative's position): strong links join outright; weak
    ones, strongest first, join two groups only when at least `MIN_LINKED_SHARE` of the pairs
    between them are linked (average linkage on the links) and no two of their requests are
    `apart` (two spots on one road, two lifts: one report naming only the road or the building
    does not join them)."""
    parent = list(range(size))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    weak = []
    for (a, b), (score, _) in links.items():
        if score >= strong:
            parent[find(a)] = find(b)
        else:
            weak.append((score, a, b))
    if weak:
        neighbours: list[list[int]] = [[] for _ in range(size)]
        for a, b in links:
            neighbours[a].append(b)
            neighbours[b].append(a)
        members: dict[int, list[int]] = defaultdict(list)
        for i in range(size):
            members[find(i)].append(i)
        for _, a, b in sorted(weak, key=lambda w: (-w[0], w[1], w[2])):  # the strongest, the earliest
            ra, rb = find(a), find(b)
            if ra == rb:
                continue
            ma, mb = members[ra], members[rb]
            small, other = (ma, rb) if len(ma) <= len(mb) else (mb, ra)
            cross = sum(1 for m in small for n in neighbours[m] if find(n) == other)
            if cross < MIN_LINKED_SHARE * len(ma) * len(mb):
                continue
            if any(apart(m, n) for m in ma for n in mb):
                continue
            parent[ra] = rb
            mb.extend(ma)
            del members[ra]
    return [find(i) for i in range(size)]
