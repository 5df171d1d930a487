"""What every screen of the app shares: its keys in the app's language (`Translated`) and the
running app as screens may see it (`host`, read only: IO is asked for with `tui.ui.asks`)."""

from __future__ import annotations

from typing import cast

from tui.ui.host import Host
from tui.ui.keys import Translated

__all__ = ["AppScreen"]


class AppScreen(Translated):
    """Mix into a `Screen` of the hotline app (before the Textual base class)."""

    @property
    def host(self) -> Host:
        return cast(Host, self.app)
