"""`DuplicatesScreen` (key `D`): requests that are likely one incident, for the dispatcher to merge.

    疑似同一事件（m 并单，Tab 看成员，- 移出，Enter 打开）
    R-000012  4 件，相似度 0.87  同一栋楼、同一问题  德胜里 德胜里一区3号楼         (clusters)
    R-000044  3 件，相似度 0.8  …
    R-000012 组 4 件：同一栋楼、同一问题、同一类别                                  (why)
    主单  R-000012  14:02  24小时  德胜里社区 德胜里一区3号楼                      (members)
          屋顶漏水，家里进水了
    不并  R-000020  14:10  …

The clusters come from `tui.core.clustering.clusters.find_clusters` over the rows a unit still
has to act on (`HANDLING_STATES`), in a worker thread: a request resolved, closed or merged is in
no cluster, so a merged cluster is gone when the clusters are found again (a moment after rows
change, or on `r`). Each member shows its place, its time and the substance of its text
(`substance`); `-` takes the highlighted member out of its cluster (or puts it back): the merge
leaves it, and it is not shown with that cluster's parent again. `m` merges the members left in
into the first of them after a confirmation (a bulk action through the outbox: every child keeps
its caller, and `u` on a child undoes it); a member in a unit's hands, which cannot be merged,
stays. `!` escalates the members left in that are not at the 2-hour tier yet, and is offered
only when there is one. After a merge or an escalation the cursor stays where the dispatcher was:
on the same cluster, or on the one that took its place. `enter` opens the highlighted request.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar, Final

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from api_client.domain.lifecycle import ALLOWED_FROM
from api_client.domain.states import HANDLING_STATES
from api_client.models import Tier
from tui.core import greetings
from tui.core.clustering.clusters import Cluster, find_clusters
from tui.core.clustering.items import Item
from tui.core.queue.rows import QueueRow
from tui.ui.asks import ActOnMany, MergeClusters, MergeInto, OpenDetail
from tui.ui.screens.base import AppScreen
from tui.ui.text import fit, literal
from tui.ui.widgets.fitting_footer import FittingFooter

__all__ = ["DuplicatesScreen", "substance", "transition_applies"]

#: Seconds of quiet after a change before the clusters are computed again.
AGAIN_AFTER = 1.0
#: Cells of a member's mark (parent, left out, stays).
_MARK: Final = 6

_PUNCTUATION: Final = " \t，,。.！!？?、：:；;~～…—-"


def substance(text: str, address: str = "") -> str:
    """`text` without the `address` it opens with (shown beside it) nor the greetings after that
    (`tui.core.greetings`); the text itself if that is all there is."""
    rest = text[len(address) :].lstrip(_PUNCTUATION) if address and text.startswith(address) else text
    return greetings.substance(rest) or text


class DuplicatesScreen(AppScreen, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="duplicates.back"),
        Binding("m", "merge", "Merge", id="duplicates.merge"),
        Binding("M", "merge_all", "Merge all", id="duplicates.merge_all"),
        Binding("minus", "leave_out", "Leave out", id="duplicates.leave_out"),
        Binding("enter", "open", "Open", id="duplicates.open"),
        Binding("r", "refresh", "Again", id="duplicates.refresh"),
        Binding("exclamation_mark", "escalate", "Escalate", id="duplicates.escalate"),
    ]
    DEFAULT_CSS = """
    DuplicatesScreen {
        #duplicates-title { height: 1; padding: 0 1; text-style: bold; }
        #duplicates, #duplicates-members {
            border: none; border-left: blank; text-wrap: nowrap; text-overflow: ellipsis;
            &:focus { border: none; border-left: tall $accent; }
        }
        #duplicates { height: 2fr; }
        #duplicates-why { height: auto; max-height: 2; padding: 0 1; background: $panel; }
        #duplicates-members { height: 3fr; }
    }
    """

    class Found(Message):
        def __init__(self, clusters: list[Cluster]) -> None:
            super().__init__()
            self.clusters = clusters

    def __init__(self) -> None:
        super().__init__()
        #: The clusters listed, in order.
        self.clusters: list[Cluster] = []
        #: Members the dispatcher took out: request id → the parent of the cluster it left.
        self.left_out: dict[str, str] = {}
        self._members: list[str] = []  # the highlighted cluster's members, as listed
        self._again: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.host.strings("duplicates.title"), id="duplicates-title")
        yield OptionList(id="duplicates")
        yield Static(id="duplicates-why")
        yield OptionList(id="duplicates-members")
        yield FittingFooter()

    def on_mount(self) -> None:
        self._clusters_list.focus()
        self.host.rows_signal.subscribe(self, self._rows_changed)
        self.find()

    @property
    def _clusters_list(self) -> OptionList:
        return self.query_one("#duplicates", OptionList)

    @property
    def _members_list(self) -> OptionList:
        return self.query_one("#duplicates-members", OptionList)

    def _rows_changed(self, _ids: object) -> None:
        """Find again a moment after the rows stop changing (a merge changes many)."""
        if self._again is not None:
            self._again.stop()
        self._again = self.set_timer(AGAIN_AFTER, self.find)
        self.refresh_bindings()  # a state or tier changed: what `m` and `!` may do with it

    def current_request_id(self) -> str | None:
        """The request the app's keys act on: the highlighted member when the members have the
        focus, else the cluster's parent (the first member left in)."""
        if self._members_list.has_focus:
            index = self._members_list.highlighted
            if index is not None and index < len(self._members):
                return self._members[index]
        cluster = self._selected()
        if cluster is None:
            return None
        kept = self.kept(cluster)
        return kept[0] if kept else cluster.parent_id

    # ----- finding -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="duplicates")
    def find(self) -> None:
        rows = [row for row in self.host.model.rows() if row.state in HANDLING_STATES]
        self.post_message(self.Found(find_clusters(Item.from_row(row) for row in rows)))

    def on_duplicates_screen_found(self, message: Found) -> None:
        before, at = self.clusters, self._clusters_list.highlighted
        self.clusters = [c for c in message.clusters if len(self.kept(c)) >= 2]
        strings = self.host.strings
        options = self._clusters_list
        options.clear_options()
        if not self.clusters:
            options.add_option(Option(Text(strings("duplicates.none"), style="dim"), disabled=True))
        else:
            options.add_options(Option(self._cluster_line(cluster)) for cluster in self.clusters)
            options.highlighted = self._cursor_after(before, at)
        self._show_members()

    def _cursor_after(self, before: Sequence[Cluster], at: int | None) -> int:
        """Where the cursor goes when the clusters are found again: the cluster it was on, else
        the first after it that is still listed (the one that takes its place), else the last."""
        if at is None or at >= len(before):
            return 0
        where: dict[str, int] = {}
        for index, cluster in enumerate(self.clusters):
            for member in cluster.member_ids:
                where.setdefault(member, index)
        for cluster in before[at:]:
            for member in cluster.member_ids:
                if member in where:
                    return where[member]
        return len(self.clusters) - 1

    def kept(self, cluster: Cluster) -> list[str]:
        """The members left in (not taken out of a cluster with this one's parent)."""
        members = set(cluster.member_ids)
        return [m for m in cluster.member_ids if self.left_out.get(m) not in members]

    # ----- showing -----------------------------------------------------------------------------

    def _cluster_line(self, cluster: Cluster) -> Text:
        strings = self.host.strings
        line = Text(end="")
        line.append(f"{cluster.parent_id}  ", "bold")
        line.append(strings("duplicates.count", n=len(cluster.member_ids), score=round(cluster.score, 2)))
        parent = self.host.model.get(cluster.parent_id)
        if parent is not None:
            line.append("  ")
            line.append_text(literal(parent.address or parent.community_name))
        line.append("  ")
        line.append(self._reasons(cluster), "italic dim")
        return line

    def _reasons(self, cluster: Cluster) -> str:
        strings = self.host.strings
        return strings.join(strings.word("reason", reason) for reason in cluster.reasons)

    def _show_members(self) -> None:
        """The highlighted cluster's members and why they were grouped."""
        strings = self.host.strings
        cluster = self._selected()
        members = self._members_list
        same = cluster is not None and self._members[:1] == [cluster.member_ids[0]]
        keep = members.highlighted if same else 0
        members.clear_options()
        self._members = list(cluster.member_ids) if cluster is not None else []
        why = self.query_one("#duplicates-why", Static)
        if cluster is None:
            why.update("")
            self.refresh_bindings()
            return
        kept = self.kept(cluster)
        why.update(
            literal(
                strings(
                    "duplicates.why", parent=cluster.parent_id, n=len(kept), reasons=self._reasons(cluster)
                ),
                "bold",
            )
        )
        members.add_options(Option(self._member_lines(member, kept)) for member in self._members)
        if self._members:
            members.highlighted = min(keep or 0, len(self._members) - 1)
        self.refresh_bindings()

    def _member_lines(self, request_id: str, kept: Sequence[str]) -> Text:
        """A member in two lines: its mark, id, time, tier and place; the substance of its text."""
        strings = self.host.strings
        row = self.host.model.get(request_id)
        if request_id not in kept:
            mark, style = strings("duplicates.left_out"), "dim"
        elif request_id == kept[0]:
            mark, style = strings("duplicates.parent"), "bold"
        elif row is not None and row.state not in ALLOWED_FROM["merge"]:
            mark, style = strings("duplicates.stays"), ""
        else:
            mark, style = "", ""
        lines = Text(end="", style=style)
        lines.append(fit(mark, _MARK), "bold")
        lines.append(f" {request_id}")
        if row is None:
            return lines
        received = time.strftime("%H:%M", time.localtime(row.received_at))
        lines.append(f"  {received}  {strings.tier(row.tier)}  {strings.state(row.state)}  ")
        lines.append_text(literal(row.address or row.community_name))
        lines.append("\n" + " " * (_MARK + 1))
        lines.append_text(literal(substance(row.description, row.address), "italic"))
        return lines

    @on(OptionList.OptionHighlighted, "#duplicates")
    def _cluster_highlighted(self) -> None:
        self._show_members()

    @on(OptionList.OptionHighlighted, "#duplicates-members")
    def _member_highlighted(self) -> None:
        self.refresh_bindings()

    def _selected(self) -> Cluster | None:
        index = self._clusters_list.highlighted
        if index is None or index >= len(self.clusters):
            return None
        return self.clusters[index]

    # ----- what the keys may do ----------------------------------------------------------------

    def _row_allows(self, request_id: str, name: str) -> bool:
        row = self.host.model.get(request_id)
        return row is not None and transition_applies(row, name)

    def merge_pairs(self, cluster: Cluster | None) -> list[tuple[str, str]]:
        """(parent, child) for each member left in that can be merged into the first."""
        if cluster is None:
            return []
        kept = self.kept(cluster)
        return [(kept[0], child) for child in kept[1:] if self._row_allows(child, "merge")]

    def escalatable(self, cluster: Cluster | None) -> list[str]:
        """The members left in that `!` would escalate (not at the 2-hour tier yet)."""
        if cluster is None:
            return []
        return [member for member in self.kept(cluster) if self._row_allows(member, "escalate")]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "merge":
            return bool(self.merge_pairs(self._selected()))
        if action == "merge_all":
            return any(self.merge_pairs(cluster) for cluster in self.clusters)
        if action == "escalate":
            return bool(self.escalatable(self._selected()))
        if action == "leave_out":
            return self._members_list.highlighted is not None and bool(self._members)
        if action == "open":
            return self._selected() is not None
        return True

    # ----- keys --------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.find()

    def action_open(self) -> None:
        request_id = self.current_request_id()
        if request_id is not None:
            self.post_message(OpenDetail(request_id))

    def action_leave_out(self) -> None:
        """Take the highlighted member out of its cluster, or put it back."""
        cluster = self._selected()
        index = self._members_list.highlighted
        if cluster is None or index is None or index >= len(self._members):
            return
        member = self._members[index]
        if member in self.left_out:
            del self.left_out[member]
        else:
            self.left_out[member] = cluster.parent_id
        self._show_members()

    def action_merge(self) -> None:
        pairs = self.merge_pairs(self._selected())
        if pairs:
            self.post_message(MergeInto(pairs[0][0], [child for _, child in pairs]))

    def action_merge_all(self) -> None:
        """A storm's worth at once: every cluster listed into its own parent, after one yes."""
        pairs = [pair for cluster in self.clusters for pair in self.merge_pairs(cluster)]
        if pairs:
            self.post_message(MergeClusters(pairs, len({parent for parent, _ in pairs})))

    def action_escalate(self) -> None:
        """提级响应 for the members left in: one reason, one bulk action."""
        members = self.escalatable(self._selected())
        if members:
            self.post_message(ActOnMany(members, "escalate"))

    @on(OptionList.OptionSelected)
    def _chosen(self) -> None:
        self.action_open()


def transition_applies(row: QueueRow, name: str) -> bool:
    """Whether the transition `name` applies to the request as its row stands: its state allows
    it, and an escalation (to the 2-hour tier, as the dialog asks) needs a longer tier."""
    if row.state not in ALLOWED_FROM.get(name, ()):
        return False
    return name != "escalate" or row.tier is not Tier.h2
