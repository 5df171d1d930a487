"""`StormMapScreen` (`W` on the queues): the street's map on its own, for the supervisor's question
in a storm, "where is it flooding?". The dashboard shows the same map as one of its sections."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from tui.ui.screens.base import AppScreen
from tui.ui.widgets.fitting_footer import FittingFooter
from tui.ui.widgets.street_map import StreetMapView

__all__ = ["StormMapScreen"]


class StormMapScreen(AppScreen, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,W", "app.pop_screen", "Back", id="storm_map.back"),
    ]
    DEFAULT_CSS = """
    StormMapScreen {
        #storm-title { height: 1; padding: 0 1; text-style: bold; }
        #storm-map { height: 1fr; padding: 0 1; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(self.host.strings("map.title"), id="storm-title", markup=False)
        yield StreetMapView(id="storm-map")
        yield FittingFooter()
