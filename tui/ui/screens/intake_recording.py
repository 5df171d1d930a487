"""`CallRecording`: what the intake form (`tui.ui.screens.intake.IntakeScreen`) does to record a
call: ask the app to take it in (`asks.TakeIn`) with what follows it — a dispatch to the suggested
units, a merge into the request it repeats (and that request's chase), a direct answer from the
knowledge base — or, once it is recorded, dispatch it (`asks.RecordBatch` on its temporary id);
and say so only when the app answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from pydantic import ValidationError

from api_client.actions import Action, AnswerDirectly, Chase, Dispatch, Merge
from api_client.domain.lifecycle import ALLOWED_FROM
from api_client.domain.untrusted_text import one_line
from api_client.knowledge import KnowledgeEntry
from api_client.models import Category, RequestType
from local_cache.directory import Directory
from tui.core.error_words import describe
from tui.core.intake_form import Draft, build_request, missing, suggested_dispatch
from tui.core.intake_matches import Match
from tui.ui.asks import RecordBatch, TakeIn
from tui.ui.messages import ActionFailed, BatchRecorded, TakenIn
from tui.ui.screens.base import AppScreen
from tui.ui.screens.transitions import explain

__all__ = ["CHASE_TEXT", "CallRecording"]

#: How much of the call's description its chase of the repeated request carries.
CHASE_TEXT: Final = 60


class CallRecording(AppScreen):
    """Mix into the intake form (before the Textual base class): its keys that record the call."""

    # The form's state this reads and keeps (set by the form).
    directory: Directory | None
    draft: Draft
    categories: Mapping[str, Category]
    matches: list[Match]
    match_at: int
    #: The call's id once it is recorded (temporary until the server takes it in).
    saved_id: str | None
    saving: bool
    dispatch_after_save: bool
    dispatched: bool

    def init_recording(self) -> None:
        self.saved_id = None
        self.saving = False
        self.dispatch_after_save = False
        self.dispatched = False
        # What an ask carried, for its answer: the actions after the call, the dispatch recorded
        # after it, whether the repeated request was chased, the knowledge entry's title.
        self._then: list[Action] = []
        self._pending_dispatch: Dispatch | None = None
        self._chased = False
        self._answered_with = ""

    if TYPE_CHECKING:  # the form's

        def _say(self, text: str, *, error: bool = False) -> None: ...

        @property
        def message_text(self) -> str: ...

        def _leave_focused(self) -> None: ...

        def _focus_field(self, name: str) -> None: ...

        def _show_summary(self) -> None: ...

        def _unit_names(self, unit_ids: Sequence[str]) -> str: ...

        def refresh_hint(self) -> None: ...

    def _dispatch(self) -> Dispatch | None:
        try:
            return suggested_dispatch(self.directory, self.draft)
        except ValidationError:
            return None

    def _take_in(self, then: Sequence[Action] = (), elsewhere: Sequence[tuple[str, Action]] = ()) -> bool:
        """Ask the app to record the call (and what follows it); False when it cannot be yet."""
        t = self.host.strings
        if self.saving or self.saved_id is not None:
            return False
        empty = missing(self.draft)
        if empty:
            fields = t.join(t(f"intake.field.{name}") for name in empty)
            self._say(t("intake.missing", fields=fields), error=True)
            self._focus_field(empty[0])
            return False
        try:
            new = build_request(self.draft)
        except ValidationError as error:
            labels = {name: t(f"intake.field.{name}") for name in ("category", "description")}
            self._say(explain(error, t, labels), error=True)
            return False
        self.saving = True
        self._then = list(then)
        self._say(t("intake.saving"))
        self.post_message(TakeIn(self, new, then, elsewhere))
        return True

    def action_save(self) -> None:
        self._leave_focused()
        self._take_in()

    def action_dispatch(self) -> None:
        """Record and dispatch to the suggested units; once recorded, dispatch it."""
        t = self.host.strings
        if self.dispatched:
            return
        if self.saved_id is None:
            self._leave_focused()
            if self.saving:
                self.dispatch_after_save = True
                return
            dispatch = self._dispatch()
            if dispatch is None:
                self._say(t("intake.no_units"), error=True)
                return
            self._take_in(then=[dispatch])
            return
        dispatch = self._dispatch()
        if dispatch is None:
            self._say(t("intake.no_units"), error=True)
            return
        self._pending_dispatch = dispatch
        self.post_message(RecordBatch(self, [(self.saved_id, dispatch)]))

    def on_batch_recorded(self, message: BatchRecorded) -> None:
        t = self.host.strings
        if message.error:
            self._say(t("intake.failed", reason=message.error), error=True)
            return
        if message.record.refused:
            refusal = next(iter(message.record.refused.values()))
            reason = describe(refusal.code, refusal.params, t, refusal.message)
            self._say(t("intake.failed", reason=reason), error=True)
            return
        if self._pending_dispatch is not None:
            self._dispatched_to(self._pending_dispatch)

    def _dispatched_to(self, dispatch: Dispatch) -> None:
        self.dispatched = True
        units = self._unit_names([dispatch.lead_unit, *dispatch.co_units])
        self._say(self.message_text + "\n" + self.host.strings("intake.dispatched", units=units))
        self._show_summary()

    def action_link(self) -> None:
        """Record the call as a repeat of the highlighted likely-same request: merged into it (the
        caller is kept and called back with it) and, when a unit has it, the request chased."""
        if not self.matches or self.saved_id is not None or self.saving:
            return
        parent = self.matches[self.match_at].request_id
        row = self.host.model.get(parent)
        self._leave_focused()
        if row is not None:  # what the call did not say yet, as the request it repeats says it
            self.draft.category = self.draft.category or row.category
            if not self.draft.address.strip():
                self.draft.address, self.draft.community = row.address, row.community
        elsewhere: list[tuple[str, Action]] = []
        if row is not None and row.state in ALLOWED_FROM["chase"]:
            said = one_line(self.draft.description)[:CHASE_TEXT]
            elsewhere.append((parent, Chase(text=self.host.strings("intake.chase_text", text=said))))
        self._chased = bool(elsewhere)
        self._take_in(then=[Merge(parent_id=parent)], elsewhere=elsewhere)

    def action_answer(self) -> None:
        """An enquiry answered on the call from the knowledge base: the entry chosen, the call is
        recorded and closed as answered directly."""
        t = self.host.strings
        if self.saved_id is not None or self.saving:
            return
        self._leave_focused()
        if self.draft.request_type is not RequestType.enquiry:
            self._say(t("intake.answer_needs_enquiry"), error=True)
            return
        from tui.ui.screens.knowledge import KnowledgePicker

        picker = KnowledgePicker(query=self.draft.description.strip(), category=self.draft.category or None)
        self.app.push_screen(picker, self._answered)

    def _answered(self, entry: KnowledgeEntry | None) -> None:
        """The entry chosen: the call is recorded with its answer (an enquiry without a category
        or a description takes the entry's)."""
        if entry is None:
            return
        if not self.draft.category and entry.category in self.categories:
            self.draft.category = entry.category
        if not self.draft.description.strip():
            self.draft.description = entry.title
        self._answered_with = entry.title
        self._take_in(then=[AnswerDirectly(entry_id=entry.id)])

    def on_taken_in(self, message: TakenIn) -> None:
        t = self.host.strings
        self.saving, self.saved_id = False, message.request_id
        status = self.host.last_status
        online = status is not None and status.online
        text = t("intake.saved" if online else "intake.saved_offline", id=message.request_id)
        for action in self._then:
            if isinstance(action, Merge):
                key = "intake.linked_chased" if self._chased else "intake.linked"
                text += "\n" + t(key, parent=action.parent_id)
            elif isinstance(action, AnswerDirectly):
                text += "\n" + t("intake.answered", title=self._answered_with)
        self._say(text)
        for widget in self.query("Input, TextArea, OneOf"):
            widget.disabled = True
        self.refresh_hint()
        dispatch = next((a for a in self._then if isinstance(a, Dispatch)), None)
        if dispatch is not None:
            self._dispatched_to(dispatch)
        elif self.dispatch_after_save:
            self.action_dispatch()

    def on_action_failed(self, message: ActionFailed) -> None:
        if not self.saving:
            return
        message.stop()  # said here, in the form
        self.saving = False
        self.dispatch_after_save = False
        self._say(self.host.strings("intake.failed", reason=message.reason), error=True)
