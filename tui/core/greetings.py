"""Where a citizen's text says something: past the greetings and filler a call opens with.

`喂，您好，我反映个事儿，楼道灯坏了` is shown in a queue row from `楼道灯坏了`; `Hello, I'd like to
report a burst pipe` from `a burst pipe`. Only the opening is skipped, phrase by phrase, each
followed by punctuation or a space; the text itself is never changed (search and the detail see
it whole), and an opening that is all there is stays (`substance_start` is then 0).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["OPENINGS", "substance", "substance_start"]

#: Phrases a call opens with that say nothing about the request (matched without case).
OPENINGS: Final[tuple[str, ...]] = (
    # Chinese: greetings, then "I want to report / ask", then "it's like this"
    "喂喂",
    "喂",
    "您好",
    "你好",
    "你们好",
    "您们好",
    "同志你好",
    "同志您好",
    "领导好",
    "领导你好",
    "领导您好",
    "工作人员你好",
    "工作人员您好",
    "打扰一下",
    "打扰了",
    "麻烦问一下",
    "请问一下",
    "是12345吗",
    "是不是12345",
    "我反映个事儿",
    "我反映个事",
    "我反映一下",
    "我想反映一下",
    "我想反映个事儿",
    "我想反映个事",
    "我想反映个问题",
    "我想反映一个问题",
    "我要反映个事儿",
    "我要反映个事",
    "我要反映一下",
    "我要反映个问题",
    "我要反映一个问题",
    "我反映个问题",
    "我反映一个问题",
    "我想问一下",
    "我想问问",
    "我想咨询一下",
    "我想咨询个事儿",
    "我想咨询个事",
    "我咨询一下",
    "想问一下",
    "想咨询一下",
    "是这样的",
    "是这样",
    "是这么回事",
    "是这么个事儿",
    "那个",
    "嗯",
    "啊",
    "哎",
    # English
    "hello",
    "hello there",
    "hi",
    "hi there",
    "hey",
    "good morning",
    "good afternoon",
    "good evening",
    "yes",
    "um",
    "uh",
    "excuse me",
    "sorry to bother you",
    "I'd like to report",
    "I'd like to report that",
    "I want to report that",
    "I'm calling to report that",
    "I would like to report",
    "I want to report",
    "I'm calling to report",
    "I am calling to report",
    "I'm calling about",
    "I am calling about",
    "I'm calling because",
    "I am calling because",
    "I'd like to ask",
    "I would like to ask",
    "I want to ask",
    "I have a question",
    "I have a complaint",
    "I'd like to make a complaint",
    "this is about",
    "it's about",
)

#: What ends an opening: punctuation (Chinese or Latin) or spaces, at least one (or the end).
_AFTER: Final = r"(?:[\s,，.。!！?？、;；:：~～…—\-]+|$)"
#: A resident introducing themselves: `我是德胜里社区的居民，`, `我是6号楼的住户，`.
_SELF: Final = r"我是[^，,。.！!？?\s]{1,16}的(?:居民|住户|业主|租户)"


def _pattern(opening: str) -> str:
    """An opening as a pattern: any run of spaces between its words, either apostrophe."""
    return re.escape(opening).replace(r"\ ", r"\s+").replace("'", "['’]")


def _alternatives() -> str:
    """Every opening, grouped by its first character (the engine then tries a handful per text,
    not all of them: 3x faster), the longest first within a group."""
    rests: dict[str, list[str]] = {}
    for opening in OPENINGS:
        rests.setdefault(opening[0].lower(), []).append(opening[1:])
    groups = [
        re.escape(first) + "(?:" + "|".join(_pattern(r) for r in sorted(group, key=len, reverse=True)) + ")"
        for first, group in rests.items()
    ]
    return "|".join([_SELF, *groups])


_OPENINGS: Final = re.compile(f"(?:(?:{_alternatives()}){_AFTER})+", re.IGNORECASE)
#: The first characters an opening can have: most texts are ruled out by one set lookup.
_FIRST: Final = frozenset({*(o[0].lower() for o in OPENINGS), *(o[0].upper() for o in OPENINGS), "我"})


def substance_start(text: str) -> int:
    """Where `text` says something: the index after its openings, or 0 (no opening, or nothing
    but openings)."""
    if not text or text[0] not in _FIRST:
        return 0
    match = _OPENINGS.match(text)
    if match is None or match.end() >= len(text):
        return 0
    return match.end()


def substance(text: str) -> str:
    """`text` from `substance_start`."""
    return text[substance_start(text) :]
