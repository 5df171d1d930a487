"""What the detail view shows of one request, as a `rich.text.Text` (pure: no widgets).

Every piece of citizens' or servers' text goes through `tui.ui.text.literal`/`clean`, so markup is
shown as written and no control character reaches the terminal. The caller's phone and name
are masked (`138****1234`, `王**`: the server sends them so) unless the dispatcher revealed them
(the reveal is audited on the server). A request cached from an older server, which sent them in
full, is masked here the same way.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from api_client.domain.deadlines import DeadlineStatus, deadline_status
from api_client.domain.personal_data import mask_name, mask_phone
from api_client.domain.untrusted_text import clean, one_line
from api_client.models import AuditEvent, Request
from local_cache.outbox import ConflictRecord, PendingAction
from tui.core.error_words import describe
from tui.core.i18n import Strings
from tui.core.queue.rows import Names
from tui.ui.widgets.queue_table import countdown

__all__ = ["render_request"]

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
) -> Text:
    """The whole detail of `request`. `phone` and `name` are the revealed caller's (None:
    masked)."""
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
        out.append(t(key, left=countdown(remaining).lstrip("-")), style)
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
    if request.lead_unit:
        lead = names.units.get(request.lead_unit, request.lead_unit)
        co = "、".join(names.units.get(u, u) for u in request.co_units) or "-"
        line(("detail.lead_unit", lead), ("detail.co_units", co))
    if request.merged_into:
        line(("detail.merged_into", request.merged_into))
    if request.return_reason:
        line(("detail.return_reason", request.return_reason), style=_WARN)

    out.append("\n")
    label("detail.description")
    out.append("\n")
    out.append(clean(request.description, keep_newlines=True))
    out.append("\n")

    if request.callbacks:
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

    if request.notes:
        out.append("\n")
        label("detail.notes")
        out.append("\n")
        for note in request.notes:
            out.append(f"  {_when(note.at)} {one_line(note.by)}: {one_line(note.text)}\n")

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
    if audit is None:
        out.append(f"  {one_line(audit_error) or t('detail.audit_loading')}\n", _MUTED)
    else:
        for event in audit:
            out.append(f"  {_when(event.at)} {one_line(event.actor)}: {t.action(event.action)}")
            if event.after.get("state"):
                out.append(f" → {t.state(str(event.after['state']))}")
            parent = event.detail.get("with_parent")
            if parent:  # resolved with the request it was merged into
                out.append(f" ({t('detail.with_parent', parent=one_line(str(parent)))})")
            out.append("\n")
    return out
