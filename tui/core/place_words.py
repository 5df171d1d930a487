"""The words of the street's gazetteer (places, who covers them), in Chinese and English. `tui.core.i18n`
serves them with every other message."""

from __future__ import annotations

from typing import Final

PLACE: Final[dict[str, tuple[str, str]]] = {}
