"""Pasting into the app's one-line fields: every line is kept (joined, and the dialog says so),
terminal escape sequences and control characters never enter the text, and a paste never submits
or cancels a dialog. Pastes arrive as Textual `Paste` events, as a terminal's bracketed paste does."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_tui_dialogs import SIZE, Host, make_request
from textual import events

from api_client.actions import Return
from api_client.domain.untrusted_text import UNSAFE_CATEGORIES, pasted_lines
from tui.core.i18n import Strings
from tui.ui.screens.transitions import NoteDialog
from tui.ui.screens.workflow_dialogs import ReturnDialog
from tui.ui.widgets.text_field import TextField


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_three_pasted_lines_are_all_kept_and_said(lang: str) -> None:
    strings = Strings(lang)
    host = Host(ReturnDialog(make_request(), strings))
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        field = host.screen.query_one("#text", TextField)
        field.post_message(events.Paste("不属于本单位职责\n应由物业公司处理\n已电话告知居民"))
        await pilot.pause()
        assert field.value == "不属于本单位职责 / 应由物业公司处理 / 已电话告知居民"
        assert host.screen.error_text == strings("transition.pasted_lines", n=3, joiner="/")
        assert host.results == []  # still open
        await pilot.press("5", "ctrl+s")  # the code: other
        await pilot.pause()
    assert host.results == [Return(reason="不属于本单位职责 / 应由物业公司处理 / 已电话告知居民")]


async def test_a_pasted_escape_sequence_neither_submits_nor_enters_the_text() -> None:
    host = Host(NoteDialog(make_request(), Strings("zh")))
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        field = host.screen.query_one("#text", TextField)
        field.post_message(events.Paste("\x1b[31m楼道灯已修好\x1b[0m\r\x1b]0;owned\x07\x1b"))
        await pilot.pause()
        assert field.value == "楼道灯已修好"
        assert host.results == []
        assert host.screen.error_text == ""  # one line: nothing to say


@given(st.text(alphabet=st.characters(codec=None)) | st.text(alphabet="\x1b[]0;m\x07\x9b\r\n 文a"))
def test_pasted_lines_never_hold_a_control_or_a_line_break(text: str) -> None:
    for line in pasted_lines(text):
        assert line and line == line.strip()
        unsafe = [ch for ch in line if unicodedata.category(ch) in UNSAFE_CATEGORIES or ch in "\u2028\u2029"]
        assert not unsafe, repr(line)


def test_a_hostile_paste_costs_linear_time() -> None:
    # 200,000 characters of unterminated sequences and controls: one pass of each pattern
    assert pasted_lines("\x1b[" * 50_000 + "\x1b]" * 50_000) == []
    assert pasted_lines("\x1b" + "[" * 100_000 + "文") == ["[" * 99_998 + "文"]  # ESC [ [ is one CSI
