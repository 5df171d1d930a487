"""The `hotline` command's own lines follow the interface language: Chinese words in Chinese (no
English word but the command and key names), the English lines as they were."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from local_cache.local_store import LocalStore
from local_cache.sync import SyncSummary
from tui.cli.output import cells
from tui.cli.sync import status_lines
from tui.cli.words import WORDS, Lang, role_word, sync_summary, word
from tui.core.i18n import Strings

URL = "http://127.0.0.1:8345"


#: Names a person types as they are: environment variables and the config file's keys.
NAMES = re.compile(r"\bHOTLINE_[A-Z_]+\b|\b(?:token_file|dispatcher)\b")


def english_words(text: str) -> list[str]:
    allowed = {"hotline", "demo", "status", "ctrl", "http"}  # the command, its subcommands, a key
    text = NAMES.sub(" ", text.replace(URL, ""))
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in allowed]


def test_a_sync_is_summed_up_in_chinese_and_in_english_as_before() -> None:
    summary = SyncSummary(pushed=3, conflicts=1, refused=2, pulled=1200, cursor=1200, taken_in=1)
    zh = sync_summary("zh", summary, URL)
    assert not english_words(zh), zh
    assert "已推送 3 个操作" in zh and "拉取 1,200 条变更" in zh and "受理 1 个来电" in zh
    assert sync_summary("en", summary, URL) == (
        f"took in 1 call, pushed 3 actions, 1 conflict, 2 refused actions, pulled 1,200 changes "
        f"(cursor 1,200) from {URL}"
    )
    one = SyncSummary(pushed=1, conflicts=0, refused=0, pulled=1, cursor=7, held=1)
    assert sync_summary("en", one, URL) == (
        f"pushed 1 action, 0 conflicts, 1 action held back, pulled 1 change (cursor 7) from {URL}"
    )


@pytest.mark.parametrize("key", [k for k, (_zh, en) in WORDS.items() if en])
def test_every_line_has_the_same_placeholders_in_both_languages(key: str) -> None:
    zh, en = WORDS[key]

    def names(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    assert names(zh) == names(en), key
    assert not english_words(word("zh", key, **dict.fromkeys(names(zh), 1))), key


def test_whoami_and_roles() -> None:
    line = word("zh", "whoami", name="张敏", role=role_word("zh", "supervisor"), url=URL, head=42)
    assert line == f"张敏（值班长），服务器 {URL}；服务器变更序号 42"
    assert role_word("en", "supervisor") == "supervisor" and role_word("zh", "robot") == "robot"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_status_speaks_the_interface_language_in_aligned_columns(lang: Lang, tmp_path: Path) -> None:
    store = LocalStore.open(tmp_path / "cache", server_url=URL, dispatcher="张敏")
    try:
        lines = status_lines(store, Strings(lang))
    finally:
        store.close()
    labelled = [line for line in lines if not line.startswith(" ")]
    starts = {cells(line) - cells(line.split("  ", 1)[1].lstrip()) for line in labelled}
    assert len(starts) == 1, lines  # every value starts in one column
    shown = "\n".join(lines).replace(str(tmp_path / "cache"), "")
    if lang == "zh":
        assert not english_words(shown), lines
        assert "已缓存" in shown and "0 件诉求" in shown and "从未" in shown
    else:
        assert (
            "cached      0 requests" in shown
            and "last sync   never" in shown
            and "pending     0 actions" in shown
        )
