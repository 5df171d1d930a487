"""`DuplicatesScreen`: requests that are likely one incident, for the dispatcher to merge.

The clusters come from `tui.core.clustering.clusters.find_clusters` over the app's in-memory rows (open,
unmerged requests), computed in a worker thread. Each line: the suggested parent, how many
requests, the score, what they share, the parent's text. `m` merges the highlighted cluster into
its parent after a confirmation (a bulk action through the outbox: every child keeps its caller,
and `u` on a child undoes it); `enter` opens the parent; `r` computes again.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from api_client.domain.untrusted_text import one_line
from tui.core.clustering.clusters import Cluster, find_clusters
from tui.core.clustering.items import Item
from tui.ui.asks import ActOnMany, MergeClusters, MergeInto, OpenDetail
from tui.ui.screens.base import AppScreen

__all__ = ["DuplicatesScreen"]

#: Seconds of quiet after a change before the clusters are computed again.
AGAIN_AFTER = 1.0


class DuplicatesScreen(AppScreen, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="duplicates.back"),
        Binding("m", "merge", "Merge", id="duplicates.merge"),
        Binding("M", "merge_all", "Merge all", id="duplicates.merge_all"),
        Binding("enter", "open", "Open", id="duplicates.open"),
        Binding("r", "refresh", "Again", id="duplicates.refresh"),
        Binding("exclamation_mark", "escalate", "Escalate", id="duplicates.escalate"),
    ]
    DEFAULT_CSS = """
    DuplicatesScreen {
        #duplicates-title { height: 1; padding: 0 1; text-style: bold; }
        #duplicates { height: 1fr; }
    }
    """

    class Found(Message):
        def __init__(self, clusters: list[Cluster]) -> None:
            super().__init__()
            self.clusters = clusters

    def __init__(self) -> None:
        super().__init__()
        self.clusters: list[Cluster] = []
        self._again: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.host.strings("duplicates.title"), id="duplicates-title")
        yield OptionList(id="duplicates")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.host.rows_signal.subscribe(self, self._rows_changed)
        self.find()

    def _rows_changed(self, _ids: object) -> None:
        """Find again a moment after the rows stop changing (a merge changes many)."""
        if self._again is not None:
            self._again.stop()
        self._again = self.set_timer(AGAIN_AFTER, self.find)

    def current_request_id(self) -> str | None:
        cluster = self._selected()
        return cluster.parent_id if cluster else None

    @work(thread=True, exclusive=True, group="duplicates")
    def find(self) -> None:
        rows = self.host.model.rows()
        self.post_message(self.Found(find_clusters(Item.from_row(row) for row in rows)))

    def on_duplicates_screen_found(self, message: Found) -> None:
        self.clusters = message.clusters
        strings = self.host.strings
        options = self.query_one(OptionList)
        options.clear_options()
        if not self.clusters:
            options.add_option(Option(Text(strings("duplicates.none"), style="dim"), disabled=True))
            return
        model = self.host.model
        for cluster in self.clusters:
            parent = model.get(cluster.parent_id)
            line = Text(end="")
            line.append(f"{one_line(cluster.parent_id)} ", "bold")
            line.append(strings("duplicates.count", n=len(cluster.member_ids), score=round(cluster.score, 2)))
            reasons = "、".join(strings.word("reason", reason) for reason in cluster.reasons)
            line.append(f"  {reasons}\n", "italic")
            if parent is not None:
                line.append(f"  {parent.community_name} {parent.address}  {parent.description}")
            options.add_option(Option(line))
        options.highlighted = 0

    def _selected(self) -> Cluster | None:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.clusters):
            return None
        return self.clusters[index]

    def action_refresh(self) -> None:
        self.find()

    def action_open(self) -> None:
        cluster = self._selected()
        if cluster is not None:
            self.post_message(OpenDetail(cluster.parent_id))

    def action_merge(self) -> None:
        cluster = self._selected()
        if cluster is None:
            return
        children = [member for member in cluster.member_ids if member != cluster.parent_id]
        self.post_message(MergeInto(cluster.parent_id, children))

    def action_merge_all(self) -> None:
        """A storm's worth at once: every cluster listed into its own parent, after one yes."""
        pairs = [
            (cluster.parent_id, member)
            for cluster in self.clusters
            for member in cluster.member_ids
            if member != cluster.parent_id
        ]
        if pairs:
            self.post_message(MergeClusters(pairs, len(self.clusters)))

    def action_escalate(self) -> None:
        """提级响应 for every request of the highlighted cluster: one reason, one bulk action."""
        cluster = self._selected()
        if cluster is not None:
            self.post_message(ActOnMany(cluster.member_ids, "escalate"))

    @on(OptionList.OptionSelected)
    def _chosen(self) -> None:
        self.action_open()
