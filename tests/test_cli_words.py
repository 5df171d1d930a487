"""The `hotline` command's own lines follow the interface language: Chinese words in Chinese (no
English word but the command and key names), the English lines as they were."""

from __future__ import annotations

import re

import pytest

from local_cache.sync import SyncSummary, describe
from tui.cli.words import WORDS, role_word, sync_summary, word

URL = "http://127.0.0.1:8345"


def english_words(text: str) -> list[str]:
    allowed = {"hotline", "demo", "status", "ctrl", "http"}  # the command, its subcommands, a key
    return [w for w in re.findall(r"[A-Za-z]{2,}", text.replace(URL, "")) if w not in allowed]


def test_a_sync_is_summed_up_in_chinese_and_in_english_as_before() -> None:
    summary = SyncSummary(pushed=3, conflicts=1, refused=2, pulled=1200, cursor=1200, taken_in=1)
    zh = sync_summary("zh", summary, URL)
    assert not english_words(zh), zh
    assert "已推送 3 个操作" in zh and "拉取 1,200 条变更" in zh and "受理 1 个来电" in zh
    assert sync_summary("en", summary, URL) == describe(summary, URL)


@pytest.mark.parametrize("key", [k for k, (_zh, en) in WORDS.items() if en])
def test_every_line_has_the_same_placeholders_in_both_languages(key: str) -> None:
    zh, en = WORDS[key]
    names = re.compile(r"\{(\w+)\}")
    assert set(names.findall(zh)) <= set(names.findall(en)), key
    assert not english_words(zh.format_map(dict.fromkeys(names.findall(zh), ""))), key


def test_whoami_and_roles() -> None:
    line = word("zh", "whoami", name="张敏", role=role_word("zh", "supervisor"), url=URL, head=42)
    assert line == f"张敏（值班长），服务器 {URL}；服务器变更序号 42"
    assert role_word("en", "supervisor") == "supervisor" and role_word("zh", "robot") == "robot"
