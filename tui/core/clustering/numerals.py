"""Numbers as callers write them, in one form: full-width digits, Chinese numerals before a
counter word (三号楼, 十一号楼三门, 二十八号院, 一区, 一巷), `3#楼` and `2#`."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["cn_to_int", "normalize_numerals"]

_CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "〇": 0}
#: A Chinese numeral before a word that counts buildings, units, floors, courtyards, areas or lanes.
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十]{1,4}(?=号|栋|幢|座|楼|单元|门|层|区|巷|户|室)")
_HASH = re.compile(r"(?<!\d)(\d++)#(?:楼)?")


def cn_to_int(text: str) -> int:
    """A Chinese numeral up to 99 as an integer: 三 → 3, 十一 → 11, 二十八 → 28."""
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGIT.get(tens[-1:], 1) if tens else 1) * 10 + (_CN_DIGIT.get(ones[:1], 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGIT.get(ch, 0)
    return value


def normalize_numerals(text: str) -> str:
    """`text` with full-width forms folded (NFKC) and numbers as digits where they count
    something: 三号楼二门 → 3号楼2门, 德胜里一区 → 德胜里1区, ３＃楼 → 3号楼.

    >>> normalize_numerals("新外二十八号院十一号楼三门")
    '新外28号院11号楼3门'
    """
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = _CN_NUMBER.sub(lambda m: str(cn_to_int(m.group())), text)
    return _HASH.sub(r"\1号楼", text) if "#" in text else text
