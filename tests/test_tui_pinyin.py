"""Pinyin of names: the common reading for display order, every reading for matching, and no
phrase dictionary in memory."""

from __future__ import annotations

import subprocess
import sys

from tui.core.pinyin import matches, spellings


def test_spellings_give_full_pinyin_and_initials() -> None:
    assert spellings("德胜街道") == ("deshengjiedao", "dsjd")
    assert spellings("裕中西里12号") == ("yuzhongxili12hao", "yzxl12h")  # digits stay whole


def test_a_character_with_two_readings_matches_by_either() -> None:
    assert matches("cad", "长安道") and matches("zad", "长安道")
    assert matches("changan", "长安道") and not matches("xyz", "长安道")


def test_the_phrase_dictionary_is_not_loaded() -> None:
    code = (
        "import sys, tui.core.pinyin as p; p.spellings('德胜里');"
        "import pypinyin.constants as c; print(len(c.PHRASES_DICT))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
