"""The words of a handling unit's own login (its queues, what it may do) and chasing, in Chinese and
English. `tui.core.i18n` serves them with every other message."""

from __future__ import annotations

from typing import Final

UNIT: Final[dict[str, tuple[str, str]]] = {
    # -- a unit's queues (keys 1-6 as the centre's: `tui.core.queue.kinds.UNIT_QUEUES`)
    "queue.to_sign": ("待签收", "To sign"),
    "queue.in_hand": ("在办", "In hand"),
    "queue.back": ("催办重办", "Came back"),
    "unit_key.queues.new": ("待签收队列", "To-sign queue"),
    "unit_key.queues.in_progress": ("在办队列", "In-hand queue"),
    "unit_key.queues.callback": ("被催办/重办队列", "Chased and reopened queue"),
    # -- who is signed in, and what a unit's login may not do
    "status.unit": ("承办单位 {unit}", "unit {unit}"),
    "unit.not_allowed": (
        "承办单位账号不能{action}：由中心办理",
        "A unit's login cannot do this ({action}): the centre does it",
    ),
    "unit.lead_only": (
        "只有主办单位{lead}能{action}：本单位是协办单位，可加备注",
        "Only the lead unit {lead} can {action} it: yours co-handles it (and may add notes)",
    ),
    "help.unit": (
        "承办单位账号：只显示本单位主办或协办的诉求；派单、并单、催办、回访、结案、重办由中心办理",
        "A unit's login: only the requests your unit leads or co-handles; the centre dispatches,"
        " merges, chases, calls back, closes and reopens",
    ),
    # -- chasing (催办)
    "action.chase": ("催办", "chase"),
    "key.request.chase": ("催办", "Chase"),
    "transition.chase.title": ("催办", "Chase the unit"),
    "transition.chase.field": (
        "催办说明（可不填，承办单位可见）",
        "Note to the unit (optional; the unit sees it)",
    ),
    "chase.units": ("催办对象：{units}", "Chases: {units}"),
    "chase.count": ("此前已催办 {n} 次", "Chased {n:time|times} before"),
    "history.chased": ("单位 {units}", "units {units}"),
    "detail.chases": ("催办", "Chased"),
    "detail.chase_count": ("{n} 次", "{n:time|times}"),
    "dashboard.chases": ("催办", "Chases"),
}
