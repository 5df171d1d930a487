"""Untrusted text (what citizens, call-takers and servers wrote) made safe to show in a terminal.

Rich and Textual stop *markup* when given a `Text`/`Content` object, but they pass raw escape
sequences through: an `ESC ] 0 ; … BEL` in a complaint retitles the dispatcher's window, an
`ESC [ 2 J` clears it, a C1 `0x9B` is a one-byte CSI on some terminals, and bidi overrides or
zero-width characters make text read differently from what it is. So every such character is
replaced by a visible stand-in before it reaches a widget:

- C0 controls and DEL become their Control Pictures (`ESC` → `␛`, `BEL` → `␇`, `DEL` → `␡`), so
  a dispatcher sees that something odd was there and what it was;
- every other character of category `Cc` (C1 controls), `Cf` (bidi overrides and isolates,
  zero-width space/joiners, BOM, soft hyphen, tag characters …) and `Cs` (lone surrogates, which
  cannot even be encoded for output) becomes U+FFFD `�`;
- line breaks (`\\n`, `\\r\\n`, `\\r`, U+2028, U+2029) and tabs are kept only where the caller
  asks for them (`clean(s, keep_newlines=True)`); `one_line` turns all whitespace runs into one
  space instead.

The app shows the result through `tui.ui.text.literal` (a Rich `Text`, never parsed as markup);
the CLI prints it as it is.

Strings that are already printable (the usual case) are returned unchanged without copying.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["REPLACEMENT", "UNSAFE_CATEGORIES", "UNSAFE_RANGES", "clean", "one_line", "pasted_lines"]

#: What replaces an unsafe character that has no Control Picture.
REPLACEMENT: Final = "\ufffd"
#: The Unicode general categories that never reach the terminal as they are.
UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs"})

#: Every code point of an unsafe category (Unicode 15), as inclusive ranges, plus the line and
#: paragraph separators U+2028/U+2029 (Zl/Zp: line breaks in disguise). Written out rather than
#: computed, because scanning all of Unicode costs 0.2 s at start-up; `tests/test_tui_text.py`
#: checks this table against the running Python's `unicodedata`.
UNSAFE_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _char_class(ranges: tuple[tuple[int, int], ...], *, exclude: str = "") -> re.Pattern[str]:
    parts: list[str] = []
    skip = {ord(ch) for ch in exclude}
    for low, high in ranges:
        points = [cp for cp in range(low, high + 1) if cp not in skip] if skip else None
        if points is None:
            parts.append(f"\\U{low:08x}-\\U{high:08x}")
        else:
            parts.extend(f"\\U{cp:08x}" for cp in points)
    return re.compile(f"[{''.join(parts)}]")


_UNSAFE: Final = _char_class(UNSAFE_RANGES)
_UNSAFE_EXCEPT_BREAKS: Final = _char_class(UNSAFE_RANGES, exclude="\n\t\u2028\u2029")
_LINE_BREAKS: Final = re.compile("\r\n?|[\u2028\u2029]")


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Control Pictures: ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return REPLACEMENT


def clean(s: str, *, keep_newlines: bool = False) -> str:
    """`s` with every control, format and surrogate character replaced by a visible stand-in.

    With `keep_newlines`, `\\n` and `\\t` stay (and `\\r\\n`, `\\r`, U+2028, U+2029 become `\\n`),
    for a multi-line view; otherwise they are replaced too (`␊`, `␉`).
    """
    if s.isprintable():
        return s
    if keep_newlines:
        return _UNSAFE_EXCEPT_BREAKS.sub(_stand_in, _LINE_BREAKS.sub("\n", s))
    return _UNSAFE.sub(_stand_in, s)


def one_line(s: str) -> str:
    """`s` cleaned for a single line: every run of whitespace (newlines and tabs included, and
    the ideographic space U+3000) becomes one space, leading and trailing whitespace goes."""
    if s.isprintable() and "  " not in s and "\u3000" not in s and s == s.strip():
        return s
    return clean(" ".join(s.split()))


#: Terminal escape sequences: CSI (`ESC [ … final`), OSC / DCS / APC / PM / SOS strings (ended by
#: BEL or `ESC \\`, or by the end of the text), and two-character escapes; C1 CSI and OSC too.
_ESCAPE_SEQUENCE: Final = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x9d\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)


def pasted_lines(s: str) -> list[str]:
    """What a person meant to paste: terminal escape sequences dropped whole (a pasted
    `ESC[31m` colours nothing and enters nothing), every other unsafe character dropped, then
    the non-blank lines, each with its whitespace runs made one space."""
    text = _ESCAPE_SEQUENCE.sub("", _LINE_BREAKS.sub("\n", s))
    text = _UNSAFE_EXCEPT_BREAKS.sub("", text)
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]
