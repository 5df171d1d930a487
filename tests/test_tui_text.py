"""tui.ui.text: untrusted text is shown literally, never as markup or terminal control."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from rich.cells import cell_len
from rich.console import Console
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Label, Static

from api_client.domain.untrusted_text import REPLACEMENT, UNSAFE_CATEGORIES, UNSAFE_RANGES, clean, one_line
from tui.ui.text import ELLIPSIS, fit, literal

ESC = "\x1b"
#: What an attacker (or a broken client) might put into a complaint's text.
HOSTILE = [
    f"{ESC}[2J{ESC}[H cleared",  # clear the screen, home the cursor
    f"{ESC}]0;owned{chr(7)}",  # set the window title
    f"{ESC}]8;;https://evil.example{ESC}\\click me{ESC}]8;;{ESC}\\",  # OSC 8 hyperlink
    "\x9b2J",  # C1 CSI
    "\x9d0;title\x9c",  # C1 OSC ... ST
    "abc\u202edcba",  # right-to-left override
    "\u2066isolate\u2069",  # bidi isolates
    "zero\u200bwidth\u200djoin\ufeffbom",  # zero-width characters
    "del\x7f",
    "lone \ud800 surrogate",
    "[/]",
    "[link=https://evil.example]x[/link]",
    "[@click=app.quit]press[/]",
    "[bold red]loud[/]",
]


def _is_unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in UNSAFE_CATEGORIES


def test_the_unsafe_ranges_are_exactly_the_unsafe_categories_of_this_python() -> None:
    listed = {cp for low, high in UNSAFE_RANGES for cp in range(low, high + 1)}
    unsafe = {cp for cp in range(sys.maxunicode + 1) if _is_unsafe(chr(cp))}
    assert unsafe <= listed
    # Beyond them: the line and paragraph separators, on purpose, and format characters of
    # newer Unicode versions (U+13439–1343F) that are unassigned in older ones.
    extra = listed - unsafe
    assert {0x2028, 0x2029} <= extra
    assert all(unicodedata.category(chr(cp)) == "Cn" for cp in extra - {0x2028, 0x2029})


@pytest.mark.parametrize("text", HOSTILE)
def test_clean_leaves_no_control_format_or_surrogate_character(text: str) -> None:
    for cleaned in (clean(text), clean(text, keep_newlines=True), one_line(text)):
        assert not any(_is_unsafe(ch) for ch in cleaned)
        cleaned.encode("utf-8")  # a lone surrogate would raise here, in the terminal writer


def test_c0_controls_become_control_pictures_and_the_rest_the_replacement_character() -> None:
    assert clean(f"{ESC}[2J") == "␛[2J"
    assert clean("bell\x07 del\x7f nul\x00") == "bell␇ del␡ nul␀"
    assert clean("\x9b2J") == f"{REPLACEMENT}2J"
    assert clean("a\u202eb\u200bc") == f"a{REPLACEMENT}b{REPLACEMENT}c"


def test_newlines_and_tabs_are_kept_only_when_asked() -> None:
    assert clean("a\nb\tc") == "a␊b␉c"
    assert clean("a\r\nb\rc\u2028d\te", keep_newlines=True) == "a\nb\nc\nd\te"
    assert clean(f"a\n{ESC}b", keep_newlines=True) == "a\n␛b"


def test_printable_text_is_returned_as_it_is() -> None:
    text = "您好，德胜里3号楼漏雨 [不是标记]"
    assert clean(text) is text
    assert one_line(text) is text


def test_one_line_collapses_all_whitespace() -> None:
    assert one_line("  第一行\n\n第二行\t尾\u3000巴  ") == "第一行 第二行 尾 巴"
    assert one_line(f"a\n{ESC}]0;x\x07") == "a ␛]0;x␇"


@pytest.mark.parametrize("text", HOSTILE)
def test_literal_is_never_markup(text: str) -> None:
    shown = literal(text)
    assert shown.plain == one_line(text)
    assert not shown.spans
    console = Console(width=200, color_system=None, force_terminal=False, record=True)
    console.print(shown)
    output = console.export_text()
    assert not any(_is_unsafe(ch) for ch in output.replace("\n", ""))


def test_literal_keeps_brackets_and_style() -> None:
    shown = literal("[@click=app.quit]x[/] [link=https://evil.example]y[/link]", style="bold")
    assert shown.plain == "[@click=app.quit]x[/] [link=https://evil.example]y[/link]"
    assert str(shown.style) == "bold"
    assert literal("a\nb", multiline=True).plain == "a\nb"


class _Shows(App[None]):
    def compose(self) -> ComposeResult:
        for n, text in enumerate(HOSTILE):
            yield Static(literal(text), id=f"s{n}")
        yield Label(literal("[/]"), id="label")


async def test_widgets_render_hostile_text_literally_and_without_control_characters() -> None:
    app = _Shows()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        texts: list[str] = []
        for n in range(len(HOSTILE)):
            widget = app.query_one(f"#s{n}", Static)
            for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)):
                for segment in strip:
                    assert not any(_is_unsafe(ch) for ch in segment.text)
                    style = segment.style
                    assert style is None or (not style.link and "@click" not in style.meta)
                texts.append(strip.text)
        shown = "\n".join(texts)
        for bracketed in ("[/]", "[link=https://evil.example]x[/link]", "[@click=app.quit]press[/]"):
            assert bracketed in shown
        assert "␛]8;;https://evil.example" in shown
        label = app.query_one("#label", Label)
        assert "[/]" in label.render_line(0).text


@pytest.mark.parametrize("width", range(0, 14))
def test_fit_gives_exactly_the_width_in_cells(width: int) -> None:
    samples: tuple[str, ...] = ("", "abc", "R-000123456", "德胜里社区", "a德b胜c", "北三环中路社区居委会")
    samples += ("e\u0301e\u0301", "👍🏽ok")
    for text in samples:
        fitted = fit(text, width)
        assert cell_len(fitted) == width
        if cell_len(text) <= width:
            assert fitted.rstrip(" ") == text.rstrip(" ")
        elif width:
            assert fitted.rstrip(" ").endswith(ELLIPSIS)


def test_fit_never_cuts_a_wide_character_in_half() -> None:
    assert fit("德胜里社区", 7) == "德胜里…"
    assert fit("德胜里社区", 6) == "德胜… "
    assert fit("德胜", 1) == "…"
    assert fit("abcdef", 4) == "abc…"
    assert fit("abc", 5) == "abc  "
