"""The words of the street's gazetteer (places, who covers them), in Chinese and English. `tui.core.i18n`
serves them with every other message."""

from __future__ import annotations

from typing import Final

PLACE: Final[dict[str, tuple[str, str]]] = {
    # the dispatch dialog: the request's place, and the units covering it
    "place.dispatch.at": ("属地：", "Place: "),
    "place.dispatch.covers": ("属地单位", "covers the place"),
}
