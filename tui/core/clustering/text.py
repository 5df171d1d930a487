"""How two descriptions are compared: `TextMethod`, and the app's, `NGRAM` (character bigrams,
Dice coefficient)."""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

__all__ = ["NGRAM", "NgramText", "TextMethod", "bigrams", "dice"]

_NOT_TEXT = re.compile(r"[\W_]+")


def bigrams(text: str) -> frozenset[str]:
    """The character bigrams of `text` without punctuation (the text itself when shorter)."""
    text = _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text))
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) or frozenset({text})


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


class TextMethod(Protocol):
    """How descriptions are compared: `prepare` once per request, `similarity` per pair (0..1)."""

    name: str

    def prepare(self, text: str) -> object: ...
    def similarity(self, a: object, b: object) -> float: ...


class NgramText:
    """Character bigrams, Dice coefficient: needs no dictionary and no word segmentation."""

    name = "ngram"

    def prepare(self, text: str) -> object:
        return bigrams(text)

    def similarity(self, a: object, b: object) -> float:
        assert isinstance(a, frozenset) and isinstance(b, frozenset)
        return dice(a, b)


NGRAM = NgramText()
