"""The words of taking a call (the intake form, repeat callers, linking a repeat call), in Chinese and
English. `tui.core.i18n` serves them with every other message."""

from __future__ import annotations

from typing import Final

INTAKE: Final[dict[str, tuple[str, str]]] = {}
