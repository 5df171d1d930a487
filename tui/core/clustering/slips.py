"""Place names a typing slip apart: `same_base` for two names, `canonical_names` for all the
names of a storm."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

__all__ = ["CLASSES", "canonical_names", "same_base"]

#: Characters that tell two places apart when one of them stands for another of its class
#: (东里 / 西里, 一区 / 二区, 新康街 / 新康路); any other single differing character is taken for a
#: typing slip (德胜 / 得胜, 一区 / 一去).
CLASSES = ("东西南北中前后上下内外", "零一二三四五六七八九十0123456789甲乙丙丁", "街路巷道里区院园村桥楼")


def same_base(a: str, b: str) -> float:
    """How surely two normalized compound or road names are one place: 1 equal, 0.9 one typing
    slip apart, 0.8 one inside the other with no number added (马甸桥下 / 北三环中路马甸桥下), else 0."""
    if a == b or not a or not b:
        return 1.0
    if len(a) == len(b):
        diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        if len(diff) == 1 and not any(diff[0][0] in c and diff[0][1] in c for c in CLASSES):
            return 0.9
        return 0.0
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if short in long and not any(ch.isdigit() for ch in long.replace(short, "", 1)):
        return 0.8
    return 0.0


#: Two spellings a character apart that are each used at least this often, the rarer at least
#: this share as often as the other, are two places, not a typing slip.
_PLACE_USES, _PLACE_SHARE = 3, 0.25


def canonical_names(names: Iterable[tuple[str, str]], *, places: bool = True) -> dict[str, str]:
    """Each name (given with the community it was reported in) mapped to one spelling for the
    names a typing slip apart (得胜里一区 -> 德胜里一区): the most used name takes each rarer one
    that differs from it in one character. A slip is made by a caller of the same community and
    is rare: names only ever reported in different communities (裕中东里 in one, 裕民东里 in
    another), or that many callers use, are two places (unless `places` is false: landmarks
    everyone knows, 马甸桥 / 马店桥). A name a slip away from two places (安德理: 安德里 or
    安德路?) is left on its own."""
    uses: Counter[str] = Counter()
    where: dict[str, set[str]] = defaultdict(set)
    for name, community in names:
        uses[name] += 1
        where[name].add(community)
    buckets: dict[tuple[str, str], list[str]] = defaultdict(list)
    canonical: dict[str, str] = {}
    for name in sorted(uses, key=lambda n: (-uses[n], n)):  # the most used first
        found = set()
        for at in range(len(name)):
            key = (name[:at], name[at + 1 :])
            for other in buckets[key]:
                if any(name[at] in c and other[at] in c for c in CLASSES):
                    continue  # 东里 / 西里, 一区 / 二区: two places
                few = uses[name]
                if not places or (
                    not where[name].isdisjoint(where[other])
                    and (few < _PLACE_USES or few < _PLACE_SHARE * uses[other])
                ):
                    found.add(canonical[other])
            buckets[key].append(name)
        canonical[name] = found.pop() if len(found) == 1 else name
    return canonical
