"""Every word the app shows, in Chinese and English: the one place to translate.

    strings = Strings("en")
    strings("queue.new")                    # "New"
    strings("status.unsent", n=3)           # "unsent actions 3"
    strings.table                           # the queue table's `TableLabels`

A message is a key and a `(zh, en)` pair of `str.format` templates. Keys are grouped by the
part of the app that uses them (one section each, below). English counts its nouns: a field
written `{n:request|requests}` reads `1 request`, `2 requests` (`counted`); Chinese needs no such
field (`3 件`). `tests/test_tui_i18n.py` checks that
both languages have every key with the same placeholders.

The language follows `--lang`, then `HOTLINE_LANG`, then the config file, then the locale
(`Settings.resolved_lang`).
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Final, Literal

from api_client.domain.untrusted_text import one_line
from api_client.models import Channel, Satisfaction, State, Tier
from tui.core.command_words import COMMANDS
from tui.core.counting import counted
from tui.core.error_words import ERRORS
from tui.core.intake_words import INTAKE
from tui.core.knowledge_words import KNOWLEDGE
from tui.core.place_words import PLACE
from tui.core.table_words import EN, ZH, TableLabels
from tui.core.unit_words import UNIT
from tui.core.workflow_words import WORKFLOW

__all__ = ["EN", "MESSAGES", "ZH", "Lang", "Strings", "TableLabels"]

Lang = Literal["zh", "en"]


# ---------------------------------------------------------------------------------------------
# Vocabulary of the domain: states, tiers, channels, satisfaction (full words, for the detail
# view and dialogs; the table uses the short forms above).
_DOMAIN: dict[str, tuple[str, str]] = {
    f"state.{State.new}": ("新诉求", "new"),
    f"state.{State.dispatched}": ("已派单", "dispatched"),
    f"state.{State.accepted}": ("已签收", "accepted"),
    f"state.{State.returned}": ("已退单", "returned"),
    f"state.{State.extended}": ("已延期", "extended"),
    f"state.{State.resolved}": ("已办结", "resolved"),
    f"state.{State.callback_logged}": ("已回访", "callback logged"),
    f"state.{State.closed}": ("已结案", "closed"),
    f"state.{State.reopened}": ("重办", "reopened"),
    f"state.{State.merged}": ("已并单", "merged"),
    f"tier.{Tier.h2}": ("2小时", "2 hours"),
    f"tier.{Tier.h24}": ("24小时", "24 hours"),
    f"tier.{Tier.d7}": ("7天", "7 days"),
    f"tier.{Tier.d15}": ("15天", "15 days"),
    f"channel.{Channel.phone}": ("电话", "phone"),
    f"channel.{Channel.wechat}": ("微信", "WeChat"),
    f"channel.{Channel.app}": ("手机客户端", "app"),
    f"channel.{Channel.web}": ("网站", "web"),
    f"channel.{Channel.visit}": ("来访", "visit"),
    f"channel.{Channel.meeting}": ("接诉会", "meeting"),
    f"satisfaction.{Satisfaction.satisfied}": ("满意", "satisfied"),
    f"satisfaction.{Satisfaction.basically}": ("基本满意", "basically satisfied"),
    f"satisfaction.{Satisfaction.not_satisfied}": ("不满意", "not satisfied"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
}

# ---------------------------------------------------------------------------------------------
# The app shell: queues, status bar, notifications, the command palette, help.
_APP: dict[str, tuple[str, str]] = {
    "queue.new": ("新", "New"),
    "queue.due": ("超时", "Due"),
    "queue.in_progress": ("办理中", "Active"),
    "queue.callback": ("待回访", "Callback"),
    "queue.attention": ("待处理", "Unsent"),
    "queue.all": ("全部", "All"),
    "sort.urgency": ("紧急", "urgency"),
    "sort.newest": ("最新", "newest"),
    "sort.oldest": ("最早", "oldest"),
    "queues.sort": ("排序", "sort"),
    "queues.search_placeholder": (
        "搜索：诉求、地址、来电人、编号、电话或尾号……（回车确认，Esc 清除）",
        "search: text, address, caller, id, phone (enter keeps, esc clears)",
    ),
    "queues.none_saved": (
        "还没有保存的队列：按 f 筛选并命名保存",
        "No saved queues yet: press f, filter, and save as a name",
    ),
    "status.online": ("在线", "online"),
    "status.offline": ("离线", "offline"),
    "status.no_sync": ("未连接服务器（无令牌）", "not syncing (no token)"),
    "status.last_sync": ("同步 {at}", "synced {at}"),
    "status.never": ("从未", "never"),
    "status.unsent": ("未发送操作 {n}", "unsent actions {n}"),
    "status.conflicts": ("冲突 {n}", "conflicts {n}"),
    "app.urgent": (
        "新的紧急诉求 {n} 件：{id} {description}",
        "{n:new urgent request|new urgent requests}: {id} {description}",
    ),
    "app.not_cached": ("诉求 {id} 不在本地缓存中", "Request {id} is not in the local cache"),
    "app.recorded": ("已记录：{action} {id}，正在发送", "Recorded: {action} {id}, sending"),
    "app.recorded_offline": (
        "已记录：{action} {id}（离线，联网后自动发送）",
        "Recorded: {action} {id} (offline: sent when the server is back)",
    ),
    "app.refused": ("未记录 {action}：{reason}", "{action} not recorded: {reason}"),
    "app.reveal_offline": (
        "离线时不能显示电话：每次显示都由服务器记录",
        "The phone cannot be revealed offline: the server records every reveal",
    ),
    "app.reveal_failed": ("无法显示电话：{reason}", "Cannot reveal the phone: {reason}"),
    "app.lookup_offline": ("按电话查找须联网并被记录", "Phone lookups need the server; each is recorded"),
    "app.lookup_failed": ("无法按电话查找：{reason}", "Cannot look the caller up: {reason}"),
    "app.looked_up": ("已查找 {phone}（已记录）：{n} 件", "Looked up {phone} (recorded): {n} found"),
    "queues.phone": ("电话 {phone}", "phone {phone}"),
    "queues.phone_or_text": ("电话 {phone} 或含“{text}”", "phone {phone} or “{text}”"),
    "queues.phone_hint": (
        "回车：按电话 {phone} 在服务器上查找来电人的诉求（每次查找都会被记录）",
        "enter: look the caller up by phone {phone} on the server (each lookup is recorded)",
    ),
    "action.mask_caller": ("隐去来电人信息", "caller masked"),
    "app.queue_saved": ("已保存队列「{name}」", "Saved the queue '{name}'"),
    "app.insecure_transport": (
        "令牌以明文 http 发往 {host}：网络上的人都能读到它；请使用 https:// 地址",
        "The token goes over plain http to {host}: anyone on the path can read it; use an https:// address",
    ),
    "action.intake": ("受理", "intake"),
    "action.dispatch": ("派单", "dispatch"),
    "action.accept": ("签收", "accept"),
    "action.return": ("退单", "return"),
    "action.extend": ("延期", "extend"),
    "action.resolve": ("办结", "resolve"),
    "action.callback": ("回访", "callback"),
    "action.close": ("结案", "close"),
    "action.reopen": ("重办", "reopen"),
    "action.merge": ("并单", "merge"),
    "action.unmerge": ("取消并单", "unmerge"),
    "action.note": ("备注", "note"),
    "action.reveal_phone": ("查看电话", "phone revealed"),
    "key.request.dispatch": ("派单", "Dispatch"),
    "key.request.accept": ("签收", "Accept"),
    "key.request.return": ("退单", "Return"),
    "key.request.extend": ("延期", "Extend"),
    "key.request.resolve": ("办结", "Resolve"),
    "key.request.callback": ("回访", "Callback"),
    "key.request.close": ("结案", "Close"),
    "key.request.reopen": ("重办", "Reopen"),
    "key.request.note": ("备注", "Note"),
    "key.app.conflicts": ("冲突列表", "Conflicts"),
    "key.app.help": ("帮助", "Help"),
    "key.app.quit": ("退出", "Quit"),
    "key.queues.new": ("新诉求队列", "New queue"),
    "key.queues.due": ("超时/将超时队列", "Due queue"),
    "key.queues.in_progress": ("办理中队列", "In-progress queue"),
    "key.queues.callback": ("待回访队列", "Callback queue"),
    "key.queues.attention": ("未发送/冲突队列", "Unsent and conflicts queue"),
    "key.queues.all": ("全部诉求", "All requests"),
    "key.queues.next": ("下一个队列", "Next queue"),
    "key.queues.previous": ("上一个队列", "Previous queue"),
    "key.queues.search": ("搜索", "Search"),
    "key.queues.filter": ("筛选", "Filter"),
    "key.queues.saved": ("已存队列", "Saved queues"),
    "key.queues.sort": ("切换排序", "Sort"),
    "key.queues.clear": ("清除筛选", "Clear filter"),
    "key.queue_table.cursor_down": ("下移", "Down"),
    "key.queue_table.cursor_up": ("上移", "Up"),
    "key.queue_table.page_down": ("下一页", "Page down"),
    "key.queue_table.page_up": ("上一页", "Page up"),
    "key.queue_table.first": ("第一条", "First"),
    "key.queue_table.last": ("最后一条", "Last"),
    "key.queue_table.select": ("详情", "Open"),
    "key.detail.back": ("返回", "Back"),
    "key.detail.reveal_phone": ("显示电话", "Reveal phone"),
    "key.detail.scroll_down": ("向下滚动", "Scroll down"),
    "key.detail.scroll_up": ("向上滚动", "Scroll up"),
    "key.conflicts.back": ("返回", "Back"),
    "key.conflicts.retry": ("按新版本重试", "Retry on the new version"),
    "key.conflicts.drop": ("放弃此操作", "Drop the action"),
    "key.conflicts.open": ("打开诉求", "Open the request"),
    "key.help.close": ("关闭", "Close"),
    "key.help.scroll_down": ("向下滚动", "Scroll down"),
    "key.help.scroll_up": ("向上滚动", "Scroll up"),
    "key.filters.apply": ("应用", "Apply"),
    "key.filters.cancel": ("取消", "Cancel"),
    "key.saved.cancel": ("取消", "Cancel"),
    "help.title": ("按键说明", "Keys"),
    "help.remap": (
        '右侧是按键编号：在配置文件的 [keys] 表中可重新绑定，例如 "request.dispatch" = "D"',
        'The id on the right rebinds a key in the config file\'s [keys] table, e.g. "request.dispatch" = "D"',
    ),
    "help.requests": ("诉求操作（队列与详情中均可用）", "Actions on a request (queues and detail)"),
    "help.queues": ("队列", "Queues"),
    "help.detail": ("详情", "Detail"),
    "help.palette": ("命令面板：所有操作", "Command palette: every action"),
    "commands.saved_queue": ("打开队列：{name}", "Open queue: {name}"),
    "commands.saved_queue_help": ("已保存的队列", "a saved queue"),
    "conflicts.title": (
        "冲突：服务器未按原样接受的操作",
        "Conflicts: actions the server did not take as they were",
    ),
    "conflicts.stale": ("他人已先修改", "changed by someone else first"),
    "conflicts.refused": ("服务器拒绝", "refused by the server"),
    "conflicts.versions": ("本地：{mine}  服务器：{theirs}", "here: {mine}  server: {theirs}"),
    "conflicts.none": ("没有冲突", "No conflicts"),
    "conflicts.drop_title": ("放弃此操作？", "Drop this action?"),
    "conflicts.drop_body": ("本地的「{action}」将不再发送。", "The local '{action}' will not be sent."),
    "conflicts.dropped": ("已放弃", "Dropped"),
    "conflicts.retried": ("已按服务器的新版本重新排队", "Queued again on the server's version"),
    "queues.marked": ("已选 {n} 件", "{n} marked"),
    "key.queues.mark": ("选中/取消", "Mark"),
    "key.queues.mark_range": ("选中一段", "Mark a range"),
    "key.queues.mark_all": ("全选当前队列", "Mark all shown"),
    "key.request.merge": ("并单", "Merge"),
    "key.request.escalate": ("提级响应", "Escalate"),
    "action.escalate": ("提级", "escalate"),
    "key.duplicates.escalate": ("整组提级响应", "Escalate the whole cluster"),
    "key.request.unmerge": ("取消并单", "Unmerge"),
    "key.bulk.close": ("关闭（继续发送）", "Close (sending goes on)"),
    "bulk.title": ("批量{action}：{n} 件", "{action}: {n:request|requests}"),
    "bulk.confirm": ("批量{action} {n} 件？", "{action} {n:request|requests}?"),
    "bulk.scope": (
        "批量{action}：共 {n} 件（{first} 等）",
        "{action}: {n:request|requests} ({first} and others)",
    ),
    "bulk.scope_skipped": (
        "另有 {n} 件当前状态不能{action}，将跳过",
        "{n} more marked cannot take “{action}” now and will be skipped",
    ),
    "bulk.scope_all": ("所选诉求都可以{action}", "Every marked request can take “{action}”"),
    "bulk.summary": (
        "共 {total} 件：已记录 {queued}，本地拒绝 {refused}，服务器已答复 {answered}",
        "{total} in all: {queued} recorded, {refused} refused here, {answered} answered by the server",
    ),
    "bulk.queued": ("已记录，待发送", "recorded, waiting to be sent"),
    "bulk.sent": ("已发送", "sent"),
    "bulk.refused": ("未记录：{reason}", "not recorded: {reason}"),
    "bulk.conflict": ("冲突：{reason}", "conflict: {reason}"),
    "bulk.failed": ("未能记录（全部未记录）：{reason}", "Nothing was recorded: {reason}"),
    "key.app.duplicates": ("疑似重复诉求", "Likely duplicates"),
    "key.duplicates.back": ("返回", "Back"),
    "key.duplicates.merge": ("并入主单", "Merge into the parent"),
    "key.duplicates.open": ("打开主单", "Open the parent"),
    "key.duplicates.refresh": ("重新查找", "Find again"),
    "duplicates.title": (
        "疑似同一事件的诉求（m 并单，Tab 看成员，- 移出一件，Enter 打开）",
        "Likely one incident (m merges, tab: the members, - leaves one out, enter opens)",
    ),
    "key.duplicates.leave_out": ("移出/放回此件", "Leave out / put back"),
    "duplicates.why": (
        "{parent} 组 {n} 件；归为一组因为：{reasons}",
        "Cluster of {parent}, {n} in; grouped for: {reasons}",
    ),
    "duplicates.parent": ("主单", "parent"),
    "duplicates.left_out": ("不并", "out"),
    "duplicates.stays": ("不能并", "stays"),
    "help.duplicates": ("疑似重复诉求（D）", "Likely duplicates (D)"),
    "reason.same place": ("同一地点", "same place"),
    "reason.same compound": ("同一小区", "same compound"),
    "reason.same flat": ("同一户", "same flat"),
    "reason.same building": ("同一栋楼", "same building"),
    "reason.same category": ("同一类别", "same category"),
    "reason.related category": ("相关类别", "related category"),
    "reason.same problem": ("同一问题", "same problem"),
    "reason.similar text": ("描述相似", "similar text"),
    "app.urgent_many": (
        "新的紧急诉求 {n} 件（最近：{id} {description}）",
        "{n:new urgent request|new urgent requests} (latest: {id} {description})",
    ),
    "duplicates.none": ("没有发现疑似重复的诉求", "No likely duplicates"),
    "duplicates.count": ("{n} 件，相似度 {score}", "{n:request|requests}, score {score}"),
    "surge.title": ("激增", "Surge"),
    "surge.item": (
        "{name} {rate} 件/15分钟（平时 {baseline}，{factor} 倍）",
        "{name} {rate} per 15 min (usually {baseline}, {factor}x)",
    ),
    "surge.item_new": ("{name} {rate} 件/15分钟（平时几乎没有）", "{name} {rate} per 15 min (usually none)"),
    "surge.more": ("另 {n} 项", "+{n} more"),
    "surge.hint": ("D 疑似重复 · * 全选 · ! 提级", "D duplicates · * mark all · ! escalate"),
    "merge.all_title": (
        "将 {clusters} 组中的 {n} 件分别并入各组主单？",
        "Merge {n:request|requests} into the parents of their {clusters:cluster|clusters}?",
    ),
    "key.duplicates.merge_all": ("全部并入各自主单", "Merge every cluster"),
    "merge.title": ("将 {n} 件并入 {parent}？", "Merge {n:request|requests} into {parent}?"),
    "quit.title": ("要退出吗？", "Quit?"),
    "quit.how": ("按 {keys} 退出", "Press {keys} to quit"),
    "quit.question": (
        "还有未发送的操作或未处理的冲突，仍要退出吗？",
        "Actions wait to be sent or conflicts are open: quit anyway?",
    ),
    "quit.body": (
        "{pending} 个操作尚未发送，{conflicts} 个冲突未处理。它们已保存在本机，下次联网启动时继续发送。",
        "{pending:action|actions} not sent yet, {conflicts:conflict|conflicts} open. "
        "They are kept on this computer "
        "and sent when the app next runs online.",
    ),
    "merge.body": (
        "被并入的诉求保留各自的来电人，主单办结时随之办结，各自回访；并单可以撤销（u）。",
        "Each merged request keeps its caller: it is resolved with the parent and called back on its"
        " own; a merge can be undone (u).",
    ),
    "conflicts.still": ("仍无法应用：{reason}", "Still does not apply: {reason}"),
}

# ---------------------------------------------------------------------------------------------
# The dispatch dialog.
_DISPATCH: dict[str, tuple[str, str]] = {
    "dispatch.title": ("派单", "Dispatch"),
    "dispatch.search": ("查找单位：名称、拼音或首字母", "Find a unit: name, pinyin or initials"),
    "dispatch.suggested": ("★", "★"),
    "dispatch.role.lead": ("主办", "lead"),
    "dispatch.role.co": ("协办", "co"),
    "dispatch.kind.community": ("社区居委会", "community"),
    "dispatch.kind.property": ("物业", "property"),
    "dispatch.kind.housing": ("房管", "housing"),
    "dispatch.kind.utility": ("水电气热", "utility"),
    "dispatch.kind.district": ("区级部门", "district"),
    "dispatch.kind.street": ("街道科室", "street office"),
    "dispatch.on_duty": ("在岗", "on duty"),
    "dispatch.off_duty": ("不在岗", "off duty"),
    "dispatch.lead": ("主办：", "Lead: "),
    "dispatch.co_units": ("协办（{n}/{max}）：", "Co-units ({n}/{max}): "),
    "dispatch.none": ("（未选）", "(none)"),
    "dispatch.no_match": ("没有匹配的单位", "No unit matches"),
    "dispatch.error.no_lead": ("请先选择主办单位", "Choose a lead unit first"),
    "dispatch.already_lead": ("已是主办单位（{keys} 取消主办）", "Already the lead ({keys} clears the lead)"),
    "key.dispatch.clear_lead": ("取消主办单位", "Clear the lead unit"),
    "dispatch.error.too_many": ("协办单位最多 {max} 个", "At most {max} co-units"),
    "dispatch.hint": (
        "↑↓ 移动  Enter 选主办/协办  {confirm} 派单  {cancel} 取消  ★ 推荐",
        "↑↓ move  Enter pick lead/co  {confirm} dispatch  {cancel} cancel  ★ suggested",
    ),
}

# ---------------------------------------------------------------------------------------------
# The transition dialogs: return, extend, resolve, reopen, close, note, callback.
_TRANSITIONS: dict[str, tuple[str, str]] = {
    "transition.escalate.title": ("提级响应：升为2小时时限", "Escalate to the 2-hour tier"),
    "transition.escalate.field": ("提级原因", "Why it is more urgent"),
    "transition.return.title": ("退单", "Return"),
    "transition.return.field": ("退单原因", "Reason for returning"),
    "transition.reopen.title": ("重办", "Reopen"),
    "transition.reopen.field": ("重办原因", "Reason for reopening"),
    "transition.note.title": ("添加备注", "Add a note"),
    "transition.note.field": ("备注", "Note"),
    "transition.resolve.title": ("办结", "Resolve"),
    "transition.resolve.field": ("给市民的答复", "Reply to the citizen"),
    "transition.close.title": ("结案", "Close"),
    "transition.close.field": ("结案说明", "Reason"),
    "transition.required": ("必填", "required"),
    "transition.optional": ("可不填", "optional"),
    "transition.extend.title": ("延期", "Extend"),
    "transition.extend.reason": ("延期原因", "Reason"),
    "transition.extend.due": ("新期限", "New due time"),
    "transition.extend.due_help": (
        "+2h  +3d  +90m  2026-11-26 18:00  11-26 18:00  18:00",
        "+2h  +3d  +90m  2026-11-26 18:00  11-26 18:00  18:00",
    ),
    "transition.extend.current": ("当前期限：{due}", "Current due: {due}"),
    "transition.extend.new": ("新期限：{due}（延后 {delta}）", "New due:     {due} ({delta} later)"),
    "transition.extend.error.empty": (
        "请输入新期限，如 +2h、+3d、18:00",
        "Type a new due time, e.g. +2h, +3d, 18:00",
    ),
    "transition.extend.error.format": (
        "看不懂这个期限，请输入如 +2h、+3d、+90m、11-26 18:00 或 18:00",
        "Not a due time: type e.g. +2h, +3d, +90m, 11-26 18:00 or 18:00",
    ),
    "transition.extend.error.date": ("没有这个日期或时间", "No such date or time"),
    "transition.extend.error.too_far": ("期限太远了", "That due time is too far away"),
    "transition.extend.error.not_later": (
        "新期限必须晚于当前期限 {due}",
        "The new due time must be later than the current one, {due}",
    ),
    "transition.callback.title": ("回访", "Callback"),
    "transition.callback.reached": ("联系上市民？", "Reached?"),
    "transition.callback.solved": ("问题解决？", "Solved?"),
    "transition.callback.satisfaction": ("满意度", "Satisfaction"),
    "transition.callback.note": ("回访备注", "Note"),
    "transition.callback.satisfied": ("{n} 满意", "{n} satisfied"),
    "transition.callback.basically": ("{n} 基本满意", "{n} basically"),
    "transition.callback.not_satisfied": ("{n} 不满意", "{n} not satisfied"),
    "transition.callback.error.reached": ("请选择是否联系上市民", "Say whether the citizen was reached"),
    "transition.error.required": ("{field}不能为空", "{field} is required"),
    "transition.error.too_long": ("{field}最多 {max} 字", "{field}: at most {max:character|characters}"),
    "transition.error.too_many": ("{field}最多 {max} 个", "{field}: at most {max}"),
    "transition.error.invalid": ("{field}：{message}", "{field}: {message}"),
    "transition.hint": ("{confirm} 确定  {cancel} 取消", "{confirm} confirm  {cancel} cancel"),
    "transition.callback.hint": (
        "Tab 下一项  y/n 是否  1/2/3 满意度  {confirm} 确定  {cancel} 取消",
        "Tab next  y/n yes/no  1/2/3 satisfaction  {confirm} confirm  {cancel} cancel",
    ),
    "transition.confirm.hint": ("{yes} 确定  {no} 取消", "{yes} yes  {no} no"),
}

# ---------------------------------------------------------------------------------------------
# The detail view.
_DETAIL: dict[str, tuple[str, str]] = {
    "detail.tier": ("时限", "tier"),
    "detail.due_in": ("剩余 {left}", "due in {left}"),
    "detail.overdue": ("已超时 {left}", "overdue by {left}"),
    "detail.vulnerable": ("特殊群体", "vulnerable"),
    "detail.category": ("类别", "Category"),
    "detail.channel": ("渠道", "Channel"),
    "detail.received": ("受理", "Received"),
    "detail.community": ("社区", "Community"),
    "detail.street": ("路/小区", "Road/compound"),
    "detail.address": ("地址", "Address"),
    "detail.caller": ("来电人", "Caller"),
    "detail.phone": ("电话", "Phone"),
    "detail.reveal_hint": ("按 p 显示，将被记录", "p reveals it; the reveal is recorded"),
    "detail.lead_unit": ("主办", "Lead unit"),
    "detail.co_units": ("协办", "Co-units"),
    "detail.merged_into": ("已并入", "Merged into"),
    "detail.with_parent": ("随主单 {parent}", "with {parent}"),
    "detail.return_reason": ("退单原因", "Returned because"),
    "detail.description": ("诉求内容", "Description"),
    "detail.callbacks": ("回访", "Callbacks"),
    "detail.not_reached": ("未联系上", "not reached"),
    "detail.solved": ("已解决", "solved"),
    "detail.not_solved": ("未解决", "not solved"),
    "detail.notes": ("备注", "Notes"),
    "detail.unsent": ("尚未发送到服务器的操作：", "Not yet sent to the server:"),
    "detail.conflict": ("冲突", "Conflict"),
    "detail.conflict_server": ("服务器上的状态：{state}", "On the server it is {state}"),
    "detail.conflict_hint": ("按 C 打开冲突列表：重试或放弃", "Press C for the conflicts: retry or drop"),
    "detail.audit": ("办理记录", "History"),
    "detail.audit_loading": ("正在从服务器读取……", "loading from the server…"),
    "detail.audit_offline": ("离线：办理记录需从服务器读取", "offline: the history comes from the server"),
    "detail.not_cached": ("诉求 {id} 不在本地缓存中", "Request {id} is not in the local cache"),
}

# ---------------------------------------------------------------------------------------------
# Filters, search and named queues.
_FILTERS: dict[str, tuple[str, str]] = {
    "filters.title": ("筛选当前队列", "Filter the current queue"),
    "filters.hint": (
        "Tab 切换，输入拼音首字母跳转，空格选择，Ctrl+A 全选，Ctrl+S 应用，Esc 取消",
        "tab moves, letters jump (pinyin too), space picks, ctrl+a all, ctrl+s applies, esc cancels",
    ),
    "filters.text": ("关键词", "Words"),
    "transition.pasted_lines": (
        "粘贴的 {n} 行都已保留，以“{joiner}”连成一行",
        "The {n:pasted line|pasted lines} are all kept, joined with “{joiner}”",
    ),
    "filters.some": ("{what}：{names}", "{what}: {names}"),
    "filters.many": ("{what} {n} 项：{first} 等", "{what} ({n}): {first}, …"),
    "filters.categories": ("类别", "Categories"),
    "filters.communities": ("社区", "Communities"),
    "filters.units": ("承办单位", "Units"),
    "filters.channels": ("渠道", "Channels"),
    "filters.tiers": ("时限", "Tiers"),
    "filters.save_as": ("保存为队列（可选）", "Save as a named queue (optional)"),
    "filters.save_as_placeholder": ("队列名称", "queue name"),
    "saved.title": ("已保存的队列", "Saved queues"),
}


# ---------------------------------------------------------------------------------------------
# The supervisor's dashboard and the shift report (`tui/core/report.py`, `screens/dashboard.py`).
_DASHBOARD: dict[str, tuple[str, str]] = {
    "key.app.dashboard": ("统计看板", "Dashboard"),
    "key.dashboard.back": ("返回", "Back"),
    "key.dashboard.export": ("导出交班报告", "Export shift report"),
    "key.dashboard.refresh": ("刷新", "Refresh"),
    "key.dashboard.scroll_down": ("向下滚动", "Scroll down"),
    "key.dashboard.scroll_up": ("向上滚动", "Scroll up"),
    "dashboard.title": ("统计看板", "Dashboard"),
    "dashboard.loading": ("正在统计……", "Counting…"),
    "dashboard.online": ("在线：三率来自服务器 {server}", "Online: the rates are the server's ({server})"),
    "dashboard.offline": (
        "离线：以下只统计本地缓存，三率暂不可用",
        "Offline: local counts only; the rates are unavailable",
    ),
    "dashboard.as_of": ("统计时间 {at}；交班起点 {since}", "As of {at}; shift from {since}"),
    "dashboard.exported": ("交班报告已导出：{path}", "Shift report written to {path}"),
    "dashboard.export_failed": ("无法导出交班报告：{reason}", "Cannot write the shift report: {reason}"),
    "dashboard.report_title": ("交班报告（{since} 起）", "Shift handover report (from {since})"),
    "dashboard.report_meta": (
        "生成于 {at} · 服务器 {server} · 调度员 {dispatcher}",
        "Made {at} · server {server} · dispatcher {dispatcher}",
    ),
    "dashboard.shift": ("本班变化", "What changed during the shift"),
    "dashboard.received": ("受理", "received"),
    "dashboard.dispatched": ("派单", "dispatched"),
    "dashboard.resolved": ("办结", "resolved"),
    "dashboard.closed": ("结案", "closed"),
    "dashboard.rates": ("三率", "The three rates"),
    "dashboard.def_response": (
        "响应率 = 按时签收的派单数 ÷ 已签收或签收时限已过的派单数（2 小时时限 30 分钟内，"
        "其余 2 小时内；时限未到且未签收的派单暂不计入）",
        "response = dispatches signed for in time ÷ dispatches signed for or past their window "
        "(30 min for the 2 h tier, 2 h otherwise; one still inside its window is not counted yet)",
    ),
    "dashboard.response_pending": (
        "{period}另有 {n} 件派单仍在签收时限内，暂不计入响应率",
        "{period}: {n} more dispatched, still inside the sign-for window, not counted yet",
    ),
    "dashboard.def_resolution": (
        "解决率 = 回访答复已解决数 ÷ 有效回访数",
        "resolution = callbacks answering solved ÷ valid callbacks",
    ),
    "dashboard.def_satisfaction": (
        "满意率 = 回访答复满意数 ÷ 有效回访数",
        "satisfaction = callbacks answering satisfied ÷ valid callbacks",
    ),
    "dashboard.def_valid": (
        "有效回访：联系上市民的回访，每件诉求只计最近一次；按受理时间统计",
        "valid callback: the citizen was reached; the latest per request counts; by time received",
    ),
    "dashboard.response": ("响应率", "response"),
    "dashboard.resolution": ("解决率", "resolution"),
    "dashboard.satisfaction": ("满意率", "satisfaction"),
    "dashboard.period": ("时段", "period"),
    "dashboard.total": ("受理数", "received"),
    "dashboard.today": ("今日", "today"),
    "dashboard.week": ("本周", "this week"),
    "dashboard.month": ("本月", "this month"),
    "dashboard.rates_missing": ("三率不可用：{reason}", "The rates are unavailable: {reason}"),
    "dashboard.units": ("承办单位（本月）", "Units (this month)"),
    "dashboard.unit": ("承办单位", "unit"),
    "dashboard.overdue": ("超时", "overdue"),
    "dashboard.counts": ("本地缓存统计", "Counts in the local cache"),
    "dashboard.summary": (
        "缓存 {cached} 件 · 超时 {overdue} 件（办理时限已过且仍在办理中） · "
        "未发送 {unsent} · 冲突 {conflicts}",
        "{cached} cached · {overdue} overdue (handling deadline passed, still being handled) · "
        "{unsent} unsent · {conflicts:conflict|conflicts}",
    ),
    "dashboard.conflict_ids": ("冲突的诉求：{ids}", "Requests with a conflict: {ids}"),
    "dashboard.state": ("状态", "state"),
    "dashboard.count": ("件数", "count"),
    "dashboard.name": ("名称", "name"),
    "dashboard.by_state": ("按状态", "By state"),
    "dashboard.overdue_by_unit": ("超时（按承办单位）", "Overdue by unit"),
    "dashboard.by_category": ("按类别", "By category"),
    "dashboard.by_community": ("按社区", "By community"),
    "dashboard.undispatched": ("（未派单）", "(not dispatched)"),
    "dashboard.hot_spots": ("热点：未诉先办", "Hot spots: act before anyone calls"),
    "dashboard.hot_intro": (
        "近 30 天受理的诉求：高发的类别×社区、反复出现的地址、反复来电的号码",
        "Requests of the last 30 days: frequent category × community, recurring addresses, repeated callers",
    ),
    "dashboard.hot_pairs": ("高发：类别 × 社区", "Frequent: category × community"),
    "dashboard.category": ("类别", "category"),
    "dashboard.community": ("社区", "community"),
    "dashboard.last_week": ("近 7 天", "last 7 days"),
    "dashboard.week_before": ("前 7 天", "7 days before"),
    "dashboard.hot_addresses": ("同一地址反复诉求", "The same address again and again"),
    "dashboard.hot_callers": ("同一号码反复来电", "One caller, many calls"),
    "dashboard.where": ("地址/来电", "address/caller"),
    "dashboard.people": ("来电人数", "callers"),
    "dashboard.categories": ("类别数", "categories"),
    "dashboard.ids": ("诉求编号", "requests"),
    "dashboard.trends": ("趋势", "Trends"),
    "dashboard.hourly": ("近 24 小时每小时受理", "Arrivals per hour, last 24 h"),
    "dashboard.daily": ("近 30 天每日受理", "Arrivals per day, last 30 days"),
    "dashboard.none": ("（无）", "(none)"),
    "key.queues.storm_map": ("暴雨地图", "Storm map"),
    "key.storm_map.back": ("返回", "Back"),
    "map.title": ("暴雨地图：哪里在积水、漏雨", "Storm map: where it floods and leaks"),
    "map.heading": (
        "近 {hours} 小时仍待办理的诉求（按社区）：共 {n} 件",
        "Requests still to handle, last {hours} h, by community: {n}",
    ),
    "map.counting": ("正在统计……", "Counting…"),
    "map.no_positions": (
        "还没有社区位置：联网后从服务器获取",
        "No community positions yet: they come from the server when online",
    ),
    "map.legend": ("（数字为件数）", "(the numbers count requests)"),
    "map.others": ("不在图上：{names}", "Not on the map: {names}"),
    "map.elsewhere": ("社区不明 {n}", "no known community {n}"),
    "help.storm_map": ("暴雨地图", "Storm map"),
}


def _merged(*sections: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for section in sections:
        for key, pair in section.items():
            if key in merged:
                raise ValueError(f"message {key!r} is defined twice")
            merged[key] = pair
    return merged


MESSAGES: Final = _merged(
    _DOMAIN,
    _APP,
    _DISPATCH,
    _TRANSITIONS,
    _DETAIL,
    _FILTERS,
    _DASHBOARD,
    ERRORS,
    WORKFLOW,
    COMMANDS,
    INTAKE,
    KNOWLEDGE,
    UNIT,
    PLACE,
)


def placeholders(template: str) -> set[str]:
    """The `{names}` a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Strings:
    """The messages of one language. Call with a key (and the template's values)."""

    def __init__(self, lang: Lang = "zh") -> None:
        self.lang: Lang = lang
        self._index = 0 if lang == "zh" else 1
        self.table: TableLabels = ZH if lang == "zh" else EN

    def __call__(self, key: str, **values: object) -> str:
        pair = MESSAGES.get(key)
        if pair is None:  # a missing key shows itself rather than crash the app
            return key
        template = pair[self._index]
        return counted(template, **values) if values else template

    def join(self, items: Iterable[str]) -> str:
        """A list as the language writes it: `甲、乙` / `a, b`."""
        return ("、" if self.lang == "zh" else ", ").join(items)

    def word(self, prefix: str, value: str) -> str:
        """The message `prefix.value`, or `value` itself (cleaned: it may come from a server)
        when there is none."""
        key = f"{prefix}.{value}"
        return self(key) if key in MESSAGES else one_line(str(value))

    def state(self, state: State | str) -> str:
        return self.word("state", state)

    def tier(self, tier: Tier | str) -> str:
        return self.word("tier", tier)

    def channel(self, channel: Channel | str) -> str:
        return self.word("channel", channel)

    def satisfaction(self, satisfaction: Satisfaction | str) -> str:
        return self.word("satisfaction", satisfaction)

    def action(self, action: str) -> str:
        return self.word("action", action)
