"""Counts in words: English makes its noun agree with the number, Chinese needs no such field.

    counted("{n:request|requests} marked", n=1)     # "1 request marked"
    counted("{n:conflict waits|conflicts wait}", n=2)  # "2 conflicts wait"

The app's messages (`tui.core.i18n`) and the command's lines (`tui.cli.words`) are filled by it.
"""

from __future__ import annotations

import string
from typing import Final

__all__ = ["counted"]


class CountingFormatter(string.Formatter):
    """`str.format` where a field's spec `one|many` writes the count and the word that agrees
    with it: `{n:call|calls}` is `1 call`, `0 calls`, `1,024 calls`. Other specs are Python's."""

    def format_field(self, value: object, format_spec: str) -> str:
        one, bar, many = format_spec.partition("|")
        if not bar:
            return str(super().format_field(value, format_spec))
        number = f"{value:,}" if isinstance(value, int) else str(value)
        return f"{number} {one if number == '1' else many}"


COUNTING: Final = CountingFormatter()


def counted(template: str, **values: object) -> str:
    """`template` filled with `values`, its counted fields agreeing with their numbers."""
    if "|" not in template:  # no counted field: Python's own (faster) formatting
        return template.format(**values)
    return COUNTING.vformat(template, (), values)
