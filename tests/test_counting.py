"""Counts in words: an English noun agrees with its number, in the app's messages and in the
command's lines; a spec without `|` is Python's own."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

import pytest

from tui.cli.words import WORDS
from tui.core.counting import counted
from tui.core.i18n import MESSAGES

#: Nouns an English message counts (one, many); a message that writes one after a number must
#: make it agree.
NOUNS = {
    "request": "requests",
    "action": "actions",
    "conflict": "conflicts",
    "time": "times",
    "day": "days",
    "entry": "entries",
    "callback": "callbacks",
    "step": "steps",
    "cluster": "clusters",
    "call": "calls",
    "change": "changes",
    "character": "characters",
    "item": "items",
    "byte": "bytes",
    "level": "levels",
    "minute": "minutes",
    "line": "lines",
}


def disagreeing(number: int, nouns: Iterable[str]) -> re.Pattern[str]:
    """`number`, at most one word, then one of `nouns`: `1 unreached callbacks`."""
    return re.compile(rf"(?<![\d,.]){number} (?:\w+ )?(?:{'|'.join(nouns)})\b")


#: The placeholders that hold a count (the others are filled with a word).
COUNTS = frozenset(
    [
        "n",
        "count",
        "min",
        "max",
        "days",
        "max_days",
        "pending",
        "conflicts",
        "clusters",
        "limit",
        "max_length",
        "max_depth",
        "minutes",
        "hours",
        "total",
        "queued",
        "refused",
        "answered",
        "unsent",
        "cached",
        "overdue",
        "rate",
        "pushed",
        "pulled",
    ]
)
ONE_OF_MANY = disagreeing(1, NOUNS.values())
MANY_OF_ONE = disagreeing(2, NOUNS)


@pytest.mark.parametrize(
    ("template", "values", "said"),
    [
        ("{n:request|requests}", {"n": 1}, "1 request"),
        ("{n:request|requests}", {"n": 0}, "0 requests"),
        ("{n:request|requests}", {"n": 2048}, "2,048 requests"),
        ("{n:conflict waits|conflicts wait} for you", {"n": 1}, "1 conflict waits for you"),
        ("{n:conflict waits|conflicts wait} for you", {"n": 3}, "3 conflicts wait for you"),
        ("{n:entry|entries}", {"n": "1"}, "1 entry"),  # a number already written
        ("{n:entry|entries}", {"n": "1,000"}, "1,000 entries"),
        ("score {score:.2f} of {n:,}", {"score": 0.5, "n": 12345}, "score 0.50 of 12,345"),
        ("批量{action}：{n} 件", {"action": "办结", "n": 1}, "批量办结：1 件"),
    ],
)
def test_a_counted_field_agrees_with_its_number(template: str, values: dict[str, object], said: str) -> None:
    assert counted(template, **values) == said


def english_templates() -> list[tuple[str, str]]:
    return [(f"app {key}", pair[1]) for key, pair in MESSAGES.items()] + [
        (f"cli {key}", pair[1]) for key, pair in WORDS.items() if pair[1]
    ]


def test_no_english_message_has_a_noun_that_disagrees_with_its_number() -> None:
    wrong = []
    for key, template in english_templates():
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        for n, disagrees in ((1, ONE_OF_MANY), (2, MANY_OF_ONE)):
            said = counted(template, **{name: n if name in COUNTS else "x" for name in names})
            if disagrees.search(said):
                wrong.append((key, said))
    assert not wrong, wrong
