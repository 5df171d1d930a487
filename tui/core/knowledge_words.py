"""The words of the knowledge base and direct answers, in Chinese and English. `tui.core.i18n` serves them
with every other message."""

from __future__ import annotations

from typing import Final

KNOWLEDGE: Final[dict[str, tuple[str, str]]] = {}
