"""The words of taking a call (the intake form, repeat callers, linking a repeat call), in Chinese and
English. `tui.core.i18n` serves them with every other message."""

from __future__ import annotations

from typing import Final

INTAKE: Final[dict[str, tuple[str, str]]] = {
    # The form's fields.
    "intake.title": ("接线受理", "Take a call"),
    "intake.field.channel": ("渠道", "Channel"),
    "intake.field.type": ("类型", "Type"),
    "intake.field.category": ("类别", "Category"),
    "intake.field.place": ("地点", "Place"),
    "intake.field.name": ("来电人", "Caller"),
    "intake.field.phone": ("电话", "Phone"),
    "intake.field.vulnerable": ("特殊群体", "At risk"),
    "intake.field.description": ("诉求", "Request"),
    "intake.type.enquiry": ("咨询", "enquiry"),
    "intake.type.help": ("求助", "help"),
    "intake.type.complaint": ("投诉", "complaint"),
    "intake.type.tip_off": ("举报", "tip-off"),
    "intake.type.suggestion": ("建议", "suggestion"),
    "intake.type.by_category": ("（按类别）", "(by category)"),
    "intake.type.by_category_is": ("按类别：{type}", "by category: {type}"),
    "intake.category.search": ("类别：汉字、拼音或首字母", "category: Chinese, pinyin or initials"),
    "intake.place.search": (
        "地点：社区、路、小区、楼或地标（德外、3号楼）",
        "place: community, road, compound, building or landmark",
    ),
    "intake.name.placeholder": ("姓名", "name"),
    "intake.phone.placeholder": ("电话号码", "phone number"),
    "intake.category.info": ("{tier} · 建议单位：{units}", "{tier} · suggested units: {units}"),
    "intake.place.unknown": ("（未在地名库中：按输入记录）", "(not in the gazetteer: kept as typed)"),
    "intake.place.covered": ("负责：{units}", "covered by: {units}"),
    "intake.no_match": ("没有匹配项", "nothing matches"),
    # The panel under the fields.
    "intake.panel.categories": ("类别（↑↓ 选择，回车确定）", "Categories (↑↓ choose, enter picks)"),
    "intake.panel.places": ("地点（↑↓ 选择，回车确定）", "Places (↑↓ choose, enter picks)"),
    "intake.panel.same": (
        "可能是同一事件：{n} 件（{link} 关联为重复来电，{next} 下一件）",
        "Maybe the same incident: {n} ({link} links this call, {next} next)",
    ),
    "intake.panel.none": ("暂无疑似同一事件的诉求", "No open request looks like the same incident"),
    "intake.panel.earlier": (
        "该来电人此前的诉求 {phone}：{n} 件",
        "This caller's earlier requests {phone}: {n}",
    ),
    "intake.panel.earlier_count": ("（来电人此前 {n} 件）", "(the caller's earlier: {n})"),
    "intake.panel.looking": ("正在按电话 {phone} 查找（已记录）……", "Looking up {phone} (recorded)…"),
    "intake.panel.lookup_offline": (
        "离线：按电话查找来电人须联网（每次查找都由服务器记录）",
        "Offline: looking a caller up by phone needs the server (it records each lookup)",
    ),
    "intake.match.line": ("{id}  {state}  {when}  {place}  {text}", "{id}  {state}  {when}  {place}  {text}"),
    # What the form says.
    "intake.missing": ("请填写：{fields}", "Still needed: {fields}"),
    "intake.saving": ("正在记录……", "Recording…"),
    "intake.saved": ("已记录 {id}", "Recorded {id}"),
    "intake.saved_offline": (
        "已记录 {id}（离线，联网后自动受理）",
        "Recorded {id} (offline: taken in when the server is back)",
    ),
    "intake.dispatched": ("已派单：{units}", "Dispatched to {units}"),
    "intake.linked": (
        "已作为 {parent} 的重复来电记录（来电人保留并回访）",
        "Recorded as a repeat call of {parent} (the caller is kept and called back)",
    ),
    "intake.linked_chased": (
        "已作为 {parent} 的重复来电记录并催办",
        "Recorded as a repeat call of {parent}, and {parent} chased",
    ),
    "intake.answered": ("已直接答复并结案：{title}", "Answered directly and closed: {title}"),
    "intake.failed": ("未记录：{reason}", "Not recorded: {reason}"),
    "intake.no_units": (
        "没有建议的承办单位：请在队列中派单",
        "No suggested unit: dispatch it from the queue",
    ),
    "intake.dispatch_to": ("派单给：{units}", "Dispatch to: {units}"),
    "intake.answer_needs_enquiry": (
        "只有咨询类诉求可以直接答复",
        "Only an enquiry can be answered directly",
    ),
    "intake.summary": (
        "{channel} · {type} · {category} · {place}",
        "{channel} · {type} · {category} · {place}",
    ),
    "intake.chase_text": ("重复来电：{text}", "repeat call: {text}"),
    "intake.hint": (
        "Tab 下一项  {save} 记录  {dispatch} 记录并派单  {answer} 直接答复  {cancel} 关闭",
        "tab next  {save} record  {dispatch} record & dispatch  {answer} answer  {cancel} close",
    ),
    "intake.hint_saved": (
        "{dispatch} 按建议派单  {cancel} 关闭",
        "{dispatch} dispatch to the suggested units  {cancel} close",
    ),
    # The detail of a request that repeat calls were merged into.
    "intake.detail.callers": ("并入的来电人", "Callers merged in"),
    # The bindings (help, palette, footer; ids for the config's `[keys]`).
    "key.app.intake": ("接线受理", "Take a call"),
    "key.intake.save": ("记录", "Record"),
    "key.intake.dispatch": ("记录并派单", "Record and dispatch"),
    "key.intake.link": ("关联重复来电", "Link as a repeat call"),
    "key.intake.next_match": ("下一件疑似", "Next likely same"),
    "key.intake.answer": ("直接答复", "Answer directly"),
    "key.intake.close": ("关闭", "Close"),
    "key.intake.next_field": ("下一项", "Next field"),
    "key.intake.previous_field": ("上一项", "Previous field"),
    "key.intake.pick": ("选定建议并进入下一项", "Pick the suggestion, next field"),
    "key.intake.cursor_up": ("上移", "Up"),
    "key.intake.cursor_down": ("下移", "Down"),
    "help.intake": ("接线受理", "Taking a call"),
}
