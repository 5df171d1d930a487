"""What every screen of the app shares: its keys in the app's language (`Translated`) and typed
access to the running `HotlineApp` (`hotline`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.ui.keys import Translated

if TYPE_CHECKING:
    from tui.ui.app import HotlineApp

__all__ = ["AppScreen"]


class AppScreen(Translated):
    """Mix into a `Screen` of the hotline app (before the Textual base class)."""

    @property
    def hotline(self) -> HotlineApp:
        from tui.ui.app import HotlineApp

        app = self.app
        assert isinstance(app, HotlineApp)
        return app
