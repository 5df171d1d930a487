"""The words of a handling unit's own login (its queues, what it may do) and chasing, in Chinese and
English. `tui.core.i18n` serves them with every other message."""

from __future__ import annotations

from typing import Final

UNIT: Final[dict[str, tuple[str, str]]] = {}
