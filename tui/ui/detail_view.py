"""What the detail view shows of one request, as a `rich.text.Text` (pure: no widgets): its
history one step a line (who, when, what, why), from the request itself, so it reads the same
offline; a request stored before requests kept their history shows the server's audit trail.

Every piece of citizens' or servers' text goes through `tui.ui.text.literal`/`clean`, so markup is
shown as written and no control character reaches the terminal. The caller's phone and name
are masked (`138****1234`, `王**`: the server sends them so) unless the dispatcher revealed them
(the reveal is audited on the server). A request cached from an older server, which sent them in
full, is masked here the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text

from api_client.domain.deadlines import DeadlineStatus, deadline_status
from api_client.domain.personal_data import mask_name, mask_phone
from api_client.domain.untrusted_text import clean, one_line
from api_client.models import AuditEvent, Note, Request, State, Step
from local_cache.outbox import ConflictRecord, PendingAction
from tui.core.error_words import describe
from tui.core.i18n import Strings
from tui.core.queue.rows import Names
from tui.core.table_words import duration

__all__ = ["has_full_history", "render_request", "step_line", "wrap"]

_LABEL = "bold"
_MUTED = "dim"
_WARN = "bold yellow"
_ERROR = "bold red"
_DEADLINE_STYLE = {DeadlineStatus.overdue: _ERROR, DeadlineStatus.due_soon: _WARN, DeadlineStatus.in_time: ""}


def _when(at: datetime | None) -> str:
    return at.astimezone().strftime("%m-%d %H:%M") if at else ""


def render_request(
    request: Request,
    *,
    strings: Strings,
    names: Names,
    phone: str | None = None,
    name: str | None = None,
    pending: Sequence[PendingAction] = (),
    conflicts: Sequence[ConflictRecord] = (),
    audit: Sequence[AuditEvent] | None = None,
    audit_error: str = "",
    now: float | None = None,
    width: int | None = None,
    merged: Sequence[Request] = (),
    answered_title: str | None = None,
) -> Text:
    """The whole detail of `request`. `phone` and `name` are the revealed caller's (None:
    masked). `audit` is the server's audit trail (None: not loaded, `audit_error` says why), read
    only for a request without its full history (`has_full_history`). With `width` (cells), each
    step of the history is wrapped to it, its later lines indented under its first. `merged` are
    the requests merged into it: their callers are listed (masked, with their ids).
    `answered_title` names the knowledge-base entry it was answered with directly (else its id)."""
    t = strings
    now = time.time() if now is None else now
    out = Text(end="")

    def label(key: str) -> None:
        out.append(f"{t(key)} ", _LABEL)

    def line(*pairs: tuple[str, str], style: str = "") -> None:
        for i, (key, value) in enumerate(pairs):
            if i:
                out.append("   ")
            label(key)
            out.append(one_line(value), style)
        out.append("\n")

    # The head: id, state, tier, deadline, vulnerable.
    out.append(one_line(request.id), "bold reverse")
    out.append(f"  {t.state(request.state)}  ", "bold")
    out.append(f"{t('detail.tier')} {t.tier(request.tier)}  ")
    status = deadline_status(request.state, request.due_at.timestamp(), now)
    if status is not DeadlineStatus.none:
        remaining = request.due_at.timestamp() - now
        style = _DEADLINE_STYLE[status]
        key = "detail.overdue" if status is DeadlineStatus.overdue else "detail.due_in"
        out.append(t(key, left=duration(remaining, t.table)), style)
        out.append(f" ({_when(request.due_at)})")
    if request.vulnerable:
        out.append(f"  ! {t('detail.vulnerable')}", _WARN)
    out.append("\n")

    category = names.categories.get(request.category, request.category)
    line(
        ("detail.category", category),
        ("detail.channel", t.channel(request.channel)),
        ("detail.received", _when(request.received_at)),
    )
    community = names.communities.get(request.location.community, request.location.community)
    line(("detail.community", community), ("detail.street", request.location.street))
    line(("detail.address", request.location.address))
    label("detail.caller")
    if name is not None:
        out.append(one_line(name) or "-", _WARN)
    else:
        out.append(mask_name(request.caller.name) or "-")
    out.append("   ")
    label("detail.phone")
    if phone is not None:
        out.append(one_line(phone) or "-", _WARN)
    else:
        out.append(mask_phone(request.caller.phone) or "-")
        if request.caller.phone or request.caller.name:
            out.append(f"  ({t('detail.reveal_hint')})", _MUTED)
    out.append("\n")
    _merged_callers(out, merged, t, label)
    if request.lead_unit:
        lead = names.units.get(request.lead_unit, request.lead_unit)
        co = "、".join(names.units.get(u, u) for u in request.co_units) or "-"
        line(("detail.lead_unit", lead), ("detail.co_units", co))
    if request.chases:  # 催办: the unit sees it too
        line(("detail.chases", t("detail.chase_count", n=request.chases)), style=_WARN)
    if request.answered_with:  # 直接答复: closed at intake with a knowledge-base entry
        line(("detail.answered_with", answered_title or request.answered_with))
    if request.merged_into:
        line(("detail.merged_into", request.merged_into))
    if request.return_reason:
        line(("detail.return_reason", request.return_reason), style=_WARN)

    out.append("\n")
    label("detail.description")
    out.append("\n")
    out.append(clean(request.description, keep_newlines=True))
    out.append("\n")

    full = has_full_history(request)
    if not full:  # stored before requests kept their history: its callbacks and notes as they are
        _callbacks(out, request, t, label)
        _notes(out, request.notes, "detail.notes", label)
    elif request.history_dropped:
        kept = {(step.by, step.at) for step in request.history if step.action == "note"}
        _notes(out, [n for n in request.notes if (n.by, n.at) not in kept], "history.earlier_notes", label)

    if pending:
        out.append("\n")
        out.append(f"{t('detail.unsent')}\n", _WARN)
        for action in pending:
            tail = f" ({one_line(action.last_error)})" if action.last_error else ""
            out.append(f"  * {_when(action.recorded_at)} {t.action(action.action.action)}{tail}\n")

    for record in conflicts:
        out.append("\n")
        out.append(f"⚠ {t('detail.conflict')}: ", _ERROR)
        said = describe(record.code, record.params, t, record.message)
        out.append(f"{t.action(record.action.action.action)} — {said}\n")
        if record.server is not None:
            out.append(f"  {t('detail.conflict_server', state=t.state(record.server.state))}\n")
        out.append(f"  {t('detail.conflict_hint')}\n", _MUTED)

    out.append("\n")
    label("detail.audit")
    out.append("\n")
    if not full:
        _earlier(out, request, t, audit, audit_error)
    before: State | None = None
    for index, step in enumerate(request.history):
        for part in wrap(f"  {step_line(step, before, t, names)}", width, _HANGING):
            out.append(f"{part}\n")
        before = step.state
        if index == 0 and full and request.history_dropped:
            out.append(f"  {t('history.dropped', n=request.history_dropped)}\n", _MUTED)
    return out


def has_full_history(request: Request) -> bool:
    """Whether the request's history tells its whole life (it starts at the intake, which the bound
    on its length always keeps); a request stored before requests kept one needs the audit trail."""
    return bool(request.history) and request.history[0].action == "intake"


#: How far the later lines of a wrapped step are indented.
_HANGING: Final = 4
#: How far back from the end of a line a space is looked for, not to cut a word of Latin letters.
_WORD: Final = 20


def wrap(line: str, width: int | None, indent: int) -> list[str]:
    """`line` in lines of at most `width` cells (None: as it is), the later ones indented by
    `indent` spaces. Chinese breaks between any two characters; a run of Latin letters or digits
    breaks at a space when there is one near enough."""
    if width is None or width <= indent + _WORD:
        return [line]
    lines: list[str] = []
    pad, rest = "", line
    while cell_len(pad + rest) > width:
        cut = _fits(rest, width - len(pad))
        lines.append(pad + rest[:cut].rstrip(" "))
        rest, pad = rest[cut:].lstrip(" "), " " * indent
    return [*lines, pad + rest]


def _fits(text: str, room: int) -> int:
    """How many characters of `text` to put in `room` cells (at least one)."""
    used = index = 0
    while index < len(text):
        used += get_character_cell_size(text[index])
        if used > room:
            break
        index += 1
    else:
        return len(text)
    char = text[index]
    if index and char.isascii() and not char.isspace() and text[index - 1].isascii():  # inside a word
        space = text.rfind(" ", 0, index)
        if space > 0 and index - space < _WORD:
            return space + 1
    return max(index, 1)


#: The message prefix of each action's reason codes.
_CODE_WORDS: Final = {"return": "return_code", "close": "close_code"}


def step_line(step: Step, before: State | None, strings: Strings, names: Names) -> str:
    """One step as one line (the view wraps it): when, who, what, the state after it when it
    changed (`before` is the state the step started from), and why."""
    t = strings
    head = f"{_when(step.at)} {one_line(step.by) or t('history.system')} {t.action(step.action)}"
    if step.state is not before:
        head += f" → {t.state(step.state)}"
    why = t("history.and").join(_why(step, t, names))
    return t("history.line", head=head, why=why) if why else head


def _why(step: Step, t: Strings, names: Names) -> list[str]:
    parts: list[str] = []
    if step.code:
        parts.append(t.word(_CODE_WORDS.get(step.action, "code"), step.code))
    if step.units and step.action == "chase":
        parts.append(t("history.chased", units=t.join(one_line(names.units.get(u, u)) for u in step.units)))
    elif step.units:
        lead, *co = (one_line(names.units.get(u, u)) for u in step.units)
        parts.append(t("history.lead", unit=lead))
        if co:
            parts.append(t("history.co_units", units=t.join(co)))
    if step.reached is False:
        parts.append(t("detail.not_reached"))
    elif step.reached:
        parts.append(t("history.reached"))
        parts.append(t("detail.solved") if step.solved else t("detail.not_solved"))
        if step.satisfaction:
            parts.append(t.satisfaction(step.satisfaction))
    if step.tier:
        parts.append(t("history.tier", tier=t.tier(step.tier)))
    if step.due_at:
        parts.append(t("history.due", due=_when(step.due_at)))
    if step.entry:
        parts.append(t("history.entry", entry=one_line(step.entry)))
    if step.parent:
        parent = one_line(step.parent)
        key = {"merge": "history.merged_into", "unmerge": "history.unmerged"}.get(
            step.action, "detail.with_parent"
        )
        parts.append(t(key, parent=parent))
    if step.text:
        text = one_line(step.text)
        parts.append(t("history.reply", text=text) if step.action == "resolve" else text)
    return parts


def _callbacks(out: Text, request: Request, t: Strings, label: Callable[[str], None]) -> None:
    if not request.callbacks:
        return
    out.append("\n")
    label("detail.callbacks")
    out.append("\n")
    for callback in request.callbacks:
        out.append(f"  {_when(callback.at)} {one_line(callback.by)}: ")
        if not callback.reached:
            out.append(t("detail.not_reached"), _WARN)
        else:
            solved = t("detail.solved") if callback.solved else t("detail.not_solved")
            satisfaction = t.satisfaction(callback.satisfaction) if callback.satisfaction else ""
            out.append(f"{solved}, {satisfaction}")
        if callback.note:
            out.append(f" — {one_line(callback.note)}")
        out.append("\n")


def _merged_callers(out: Text, merged: Sequence[Request], t: Strings, label: Callable[[str], None]) -> None:
    """The callers of the requests merged into this one (repeat calls), masked, with their ids."""
    if not merged:
        return
    label("intake.detail.callers")
    out.append(f"{len(merged)}\n")
    for child in merged:
        name = mask_name(child.caller.name) or "-"
        phone = mask_phone(child.caller.phone) or "-"
        out.append(f"  {one_line(child.id)}  {name}  {phone}\n")


def _notes(out: Text, notes: Sequence[Note], key: str, label: Callable[[str], None]) -> None:
    if not notes:
        return
    out.append("\n")
    label(key)
    out.append("\n")
    for note in notes:
        out.append(f"  {_when(note.at)} {one_line(note.by)}: {one_line(note.text)}\n")


def _earlier(
    out: Text, request: Request, t: Strings, audit: Sequence[AuditEvent] | None, audit_error: str
) -> None:
    """What the server's audit trail tells of the steps before the request kept its history."""
    if audit is None:
        out.append(f"  {one_line(audit_error) or t('detail.audit_loading')}\n", _MUTED)
        return
    first = request.history[0].at if request.history else None
    events = [e for e in audit if first is None or e.at < first]
    if events and request.history:
        out.append(f"  {t('history.before')}\n", _MUTED)
    for event in events:
        out.append(f"  {_when(event.at)} {one_line(event.actor)}: {t.action(event.action)}")
        if event.after.get("state"):
            out.append(f" → {t.state(str(event.after['state']))}")
        parent = event.detail.get("with_parent")
        if parent:  # resolved with the request it was merged into
            out.append(f" ({t('detail.with_parent', parent=one_line(str(parent)))})")
        out.append("\n")
