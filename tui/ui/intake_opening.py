"""`IntakeOpening`: the app's key `i` (接线受理), which opens the intake form on the cache's
directory and gazetteer (`tui.ui.screens.intake.IntakeScreen`)."""

from __future__ import annotations

from tui.ui.synced_app import SyncedApp

__all__ = ["IntakeOpening"]


class IntakeOpening(SyncedApp):
    """The app's `action_intake` (`HotlineApp` inherits it)."""

    def action_intake(self) -> None:
        """Open the intake form (the directory's own list of places: the gazetteer's index of it is
        made once, `PlaceIndex.from_places`)."""
        from tui.ui.screens.intake import IntakeScreen

        directory = self.session.directory
        self.push_screen(IntakeScreen(directory, directory.places if directory is not None else []))
