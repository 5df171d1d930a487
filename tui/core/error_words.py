"""The words for refusals that come as codes: the server's (`{"code", "detail", "params"}`),
the state machine's and the local cache's (`TransitionRefused.code`) and the action models' (a
validation error's `type`).

`ERRORS` holds the message `error.<code>` of each code in Chinese and English, its placeholders
being the error's params (`tui.core.i18n` serves them with every other message). `describe` says
an error in the dispatcher's language; for a code it has no words for (a newer server), or params
that do not fill them, it gives the server's own sentence.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final

from api_client.domain.untrusted_text import one_line

if TYPE_CHECKING:
    from tui.core.i18n import Strings

ERRORS: Final[dict[str, tuple[str, str]]] = {
    # -- the state machine
    "error.transition_refused": (
        "不能{action}诉求 {request_id}：它现在是「{state}」（可{action}的状态：{allowed}）",
        "Cannot {action} request {request_id}: it is {state} (allowed from: {allowed})",
    ),
    "error.unknown_unit": ("没有这个单位：{units}", "No such unit: {units}"),
    "error.no_lead_unit": (
        "诉求 {request_id} 没有主办单位，不能签收",
        "Request {request_id} has no lead unit to accept it",
    ),
    "error.due_not_later": (
        "新期限 {new_due_at} 必须晚于当前期限 {due_at}",
        "The new due time {new_due_at} must be later than the current one, {due_at}",
    ),
    "error.extension_needs_supervisor": (
        "诉求 {request_id} 延期超过原期限 {max_days} 天（至 {new_due_at}），须由值班长（supervisor）办理",
        "Extending request {request_id} more than {max_days:day|days} past its due time (to {new_due_at})"
        " needs a supervisor",
    ),
    "error.merge_into_itself": (
        "诉求 {request_id} 不能并入它自己",
        "Request {request_id} cannot be merged into itself",
    ),
    "error.tier_not_shorter": (
        "诉求 {request_id} 的时限已是{current_tier}，不能提级为{tier}",
        "Request {request_id} is already in the {current_tier} tier: it cannot be escalated to {tier}",
    ),
    "error.not_merged_into": (
        "诉求 {request_id} 没有并入 {parent_id}",
        "Request {request_id} is not merged into {parent_id}",
    ),
    "error.parent_not_resolved": ("诉求 {parent_id} 尚未办结", "Request {parent_id} is not resolved"),
    "error.merge_parent_merged": (
        "不能并入诉求 {parent_id}：它已并入 {merged_into}",
        "Cannot merge into request {parent_id}: it is itself merged into {merged_into}",
    ),
    "error.merge_has_children": (
        "诉求 {request_id} 已有其他诉求并入（如 {child_id}），请先取消并单",
        "Other requests (e.g. {child_id}) are merged into request {request_id}: unmerge them first",
    ),
    "error.merge_parent_not_found": (
        "没有诉求 {parent_id}，无法并入",
        "There is no request {parent_id} to merge into",
    ),
    # -- the workflow rules
    "error.reply_required": (
        "办结须填写给市民的答复",
        "Resolving needs the reply to the citizen",
    ),
    "error.close_reason_required": (
        "手动结案须选择原因：有效回访会自动结案；未联系上须回访满 {min} 次",
        "Closing by hand needs a reason code: a valid callback closes by itself; unreachable needs"
        " {min:callback|callbacks}",
    ),
    "error.reason_text_required": ("选择“其他”时须写明原因", "“Other” needs the reason in words"),
    "error.too_few_unreached_callbacks": (
        "诉求 {request_id} 办结后只有 {count} 次未联系上的回访，满 {min} 次才能按“无法联系”结案",
        "Request {request_id} has {count:unreached callback|unreached callbacks} since it was resolved:"
        " closing it as"
        " unreachable needs {min}",
    ),
    "error.callback_needs_reopen": (
        "诉求 {request_id} 的有效回访为未解决或不满意：须重办，不能结案",
        "Request {request_id} had a valid callback that was not solved or not satisfied: reopen it",
    ),
    "error.extension_limit_reached": (
        "诉求 {request_id} 本轮办理已延期 {count} 次，最多 {max} 次",
        "Request {request_id} was extended {count:time|times} in this round of handling (at most {max})",
    ),
    # -- direct answers and the knowledge base
    "error.answer_needs_enquiry": (
        "诉求 {request_id} 不是咨询类：只有咨询可以直接答复",
        "Request {request_id} is not an enquiry: only an enquiry is answered directly",
    ),
    "error.knowledge_entry_unknown": (
        "知识库中没有条目 {entry_id}",
        "The knowledge base has no entry {entry_id}",
    ),
    "error.knowledge_entry_not_in_force": (
        "知识库条目 {entry_id} 在 {day} 不在有效期内（已过期、尚未生效或已撤下），不能用来答复",
        "Knowledge-base entry {entry_id} is not in force on {day} (expired, not yet valid or withdrawn):"
        " it cannot answer a request",
    ),
    "error.knowledge_entry_not_found": (
        "知识库中没有条目 {entry_id}",
        "The knowledge base has no entry {entry_id}",
    ),
    "error.knowledge_version_mismatch": (
        "知识库条目 {entry_id} 已被他人修改（现为第 {version} 版，你改的是第 {if_match} 版）：请重新读取",
        "Knowledge-base entry {entry_id} was changed meanwhile (now version {version}, you edited"
        " {if_match}): read it again",
    ),
    "error.knowledge_version_required": (
        "知识库条目 {entry_id} 已存在（第 {version} 版）：修改时须注明版本",
        "Knowledge-base entry {entry_id} exists (version {version}): name the version to replace it",
    ),
    "error.knowledge_dates_reversed": (
        "失效日期 {valid_until} 早于生效日期 {valid_from}",
        "The entry would end ({valid_until}) before it begins ({valid_from})",
    ),
    # -- a unit's login (`central_api.scope`)
    "error.not_your_unit": (
        "诉求 {request_id} 不在本单位（{unit}）办理",
        "Request {request_id} is not with your unit ({unit})",
    ),
    "error.unit_not_allowed": (
        "承办单位账号不能{action}：由中心办理",
        "A unit's login cannot {action}: the centre does it",
    ),
    "error.unit_not_lead": (
        "只有主办单位 {lead_unit} 能{action}诉求 {request_id}：本单位（{unit}）是协办单位",
        "Only the lead unit {lead_unit} can {action} request {request_id}: {unit} co-handles it",
    ),
    # -- the action models
    "error.lead_unit_is_co_unit": ("主办单位不能同时是协办单位", "The lead unit cannot also be a co-unit"),
    "error.co_unit_twice": ("协办单位重复", "A co-unit is listed twice"),
    "error.callback_answers_missing": (
        "联系上市民时，须选择是否解决和满意度",
        "A callback that reached the citizen needs solved and satisfaction",
    ),
    "error.callback_answers_unexpected": (
        "未联系上市民时，不填是否解决和满意度",
        "A callback that did not reach the citizen has no answers",
    ),
    # -- pydantic's own checks (the code is its error type, the params its context)
    "error.missing": ("必填", "required"),
    "error.extra_forbidden": ("不认识的字段", "unknown field"),
    "error.string_too_short": ("不能为空", "must not be empty"),
    "error.string_too_long": ("最多 {max_length} 字", "at most {max_length:character|characters}"),
    "error.too_long": ("最多 {max_length} 个", "at most {max_length:item|items}"),
    "error.enum": ("只能是 {expected}", "must be one of {expected}"),
    "error.union_tag_invalid": ("没有这种操作：{tag}", "No such action: {tag}"),
    # -- the request as a whole
    "error.invalid_field": ("{field} 无效", "{field} is not valid"),
    "error.invalid_input": ("服务器不接受这个输入", "The server does not accept this input"),
    "error.malformed_json": (
        "请求不是有效的 JSON（位置 {position}）",
        "The body is not valid JSON (at {position})",
    ),
    "error.body_required": ("缺少请求内容", "A body is required"),
    "error.body_not_json": ("请求内容必须是 JSON", "The body must be JSON"),
    "error.body_not_object": ("请求内容必须是 JSON 对象", "The body must be a JSON object"),
    "error.payload_too_large": (
        "请求太大：最多 {limit} 字节",
        "The body is too large: at most {limit:byte|bytes}",
    ),
    "error.text_has_nul": ("文字中不能有 NUL 字符", "Text must not contain NUL characters"),
    "error.text_not_unicode": ("文字编码无效", "Text must be valid Unicode"),
    "error.invalid_character": (
        "{field} 中有不允许的字符（NUL、不成对的代理字符或非 UTF-8 字节）",
        "{field} holds a character that is not allowed (NUL, a lone surrogate or bytes that are not UTF-8)",
    ),
    "error.datetime_out_of_range": (
        "时间须在 {min} 至 {max} 之间",
        "The time must lie between {min} and {max}",
    ),
    "error.duplicate_key": ("JSON 中字段 {key} 出现了两次", "The field {key} appears twice in the JSON"),
    "error.invalid_number": ("不接受的数值：{value}", "A number that is not accepted: {value}"),
    "error.json_too_deep": (
        "JSON 嵌套超过 {max_depth} 层",
        "The JSON is nested deeper than {max_depth:level|levels}",
    ),
    "error.query_too_long": (
        "查询参数太长：最多 {limit} 字节",
        "The query is too long: at most {limit:byte|bytes}",
    ),
    "error.invalid_idempotency_key": (
        "请求标识须为 {min_length} 到 {max_length} 个可打印 ASCII 字符",
        "The idempotency key must be {min_length} to {max_length} printable ASCII characters",
    ),
    "error.precondition_required": (
        "操作必须注明所依据的版本（If-Match）",
        "An action must name the version it is based on (If-Match)",
    ),
    "error.invalid_if_match": ("版本号格式不对：{value}", "Not a version: {value}"),
    "error.invalid_last_event_id": ("事件编号格式不对：{value}", "Not an event id: {value}"),
    "error.idempotency_key_reused": (
        "请求标识 {key} 已用于另一个操作（{call}）",
        "The idempotency key {key} was already used for another call ({call})",
    ),
    "error.idempotency_body_differs": (
        "请求标识 {key} 已用于不同的内容",
        "The idempotency key {key} was already used with a different body",
    ),
    # -- who may do what
    "error.token_missing": (
        "没有令牌：请在配置中设置服务器令牌",
        "No token: set the server's token in the configuration",
    ),
    "error.unauthorized": (
        "服务器不接受这个令牌（未知或已吊销）",
        "The server does not accept this token (unknown or revoked)",
    ),
    "error.forbidden": (
        "需要 {required_role} 权限，您的令牌是 {role}",
        "This needs the {required_role} role; your token has {role}",
    ),
    "error.partner_not_allowed": (
        "{role} 令牌只能用于 Open311 接口（/open311/v2/）",
        "A {role} token works only under /open311/v2/",
    ),
    "error.too_many_streams": (
        "这个令牌已打开 {limit} 个事件流：请先关闭一个",
        "This token has {limit} event streams open already: close one first",
    ),
    "error.server_busy": (
        "服务器繁忙，暂时无法打开事件流：请 {retry_after} 秒后再试",
        "The server is busy and cannot open another event stream now: try again in {retry_after} s",
    ),
    # -- tokens
    "error.token_name_taken": (
        "已有名为 {name} 的令牌（含已吊销的）：请换一个名字",
        "A token named {name} exists already (revoked ones count): choose another name",
    ),
    "error.token_not_found": ("没有名为 {name} 的令牌", "No token named {name}"),
    "error.token_name_invalid": (
        "令牌名称须为 1 到 {max_length} 个字符，不含控制字符或格式字符，首尾不留空格",
        "A token name is 1 to {max_length:character|characters}, without control or format characters"
        " and without spaces around it",
    ),
    "error.token_unit_missing": (
        "承办单位令牌须绑定一个单位：请注明单位编号",
        "A unit's token is bound to its unit: give the unit's id",
    ),
    "error.token_unit_for_role": (
        "只有承办单位令牌绑定单位，{role} 令牌不绑定",
        "Only a unit's token is bound to a unit, not a {role}'s",
    ),
    # -- looking a caller up by phone
    "error.lookup_not_a_phone": (
        "请输入完整电话号码（7 到 20 位数字）或其末 4 到 6 位，只能有数字、空格、+ 和 -",
        "Give a whole phone number (7 to 20 digits) or its last 4 to 6 digits: only digits, spaces, + and -",
    ),
    "error.lookup_rate_limited": (
        "{minutes} 分钟内最多按电话查找 {rate} 次：请 {retry_after} 秒后再试",
        "At most {rate} phone lookups in {minutes:minute|minutes}: try again in {retry_after} s",
    ),
    # -- what is not there, or changed meanwhile
    "error.not_found": ("找不到", "Not found"),
    "error.method_not_allowed": ("服务器不支持这个操作", "The server does not allow this method here"),
    "error.request_not_found": ("没有诉求 {request_id}", "No request {request_id}"),
    "error.request_not_cached": (
        "诉求 {request_id} 不在本地缓存中：请同步后再试",
        "Request {request_id} is not in the local cache: sync and try again",
    ),
    "error.unit_not_found": ("没有单位 {unit_id}", "No unit {unit_id}"),
    "error.unknown_category": ("没有这个类别：{category}", "No such category: {category}"),
    "error.unknown_community": ("没有这个社区：{community}", "No such community: {community}"),
    "error.unknown_place": ("没有这个地点：{place}", "No such place: {place}"),
    "error.place_parent_loop": (
        "地点 {place} 不能位于 {parent} 之内：{parent} 本身位于它之内",
        "The place {place} cannot lie in {parent}, which lies in it",
    ),
    "error.version_mismatch": (
        "诉求 {request_id} 已被他人修改（现为第 {version} 版，您依据的是第 {if_match} 版）",
        "Request {request_id} was changed meanwhile (now version {version}, you acted on {if_match})",
    ),
    "error.rule_not_found": ("没有分派规则 {rule_id}", "No routing rule {rule_id}"),
    "error.version_mismatch_by": ("此后 {by} 办理了：", "Since then {by} did:"),
    "error.rule_version_required": (
        "分派规则 {rule_id} 已存在（第 {version} 版）：修改时须注明版本",
        "Routing rule {rule_id} exists (version {version}): name the version to replace it",
    ),
    "error.rule_version_mismatch": (
        "分派规则 {rule_id} 已被他人修改（现为第 {version} 版，您依据的是第 {if_match} 版）",
        "Routing rule {rule_id} was changed meanwhile (now version {version}, you read {if_match})",
    ),
    "error.rule_deleted": ("分派规则 {rule_id} 已被他人删除", "Routing rule {rule_id} was deleted meanwhile"),
    "error.rule_clash": (
        "分派规则 {rule_id} 已覆盖 {community} 的 {category}：请修改或删除它",
        "Routing rule {rule_id} already routes {category} in {community}: change or delete it instead",
    ),
    "error.rule_clash_meanwhile": (
        "分派规则 {rule_id} 与刚出现的另一条规则冲突：请重新读取",
        "Routing rule {rule_id} clashes with a rule made meanwhile: read the rules again",
    ),
    # -- the server itself
    "error.internal_error": ("服务器内部错误", "The server failed"),
    "error.http_error": ("服务器拒绝了请求（HTTP {status}）", "The server refused the call (HTTP {status})"),
    "error.database_unavailable": ("数据库无法打开", "The database cannot be opened"),
}

#: Params whose values are words of the domain, shown in the dispatcher's language.
_VOCABULARY: Final = {
    "state": "state",
    "allowed": "state",
    "action": "action",
    "tier": "tier",
    "current_tier": "tier",
}
_LIST_SEPARATOR: Final = {"zh": "、", "en": ", "}


def describe(code: str | None, params: Mapping[str, object], strings: Strings, detail: str = "") -> str:
    """The error `code` with `params` in the dispatcher's language, or `detail` (made one safe
    line) when there are no words for it."""
    pair = ERRORS.get(f"error.{code}") if code else None
    if pair is None or not _names(pair[0]) <= params.keys():
        return one_line(detail) or one_line(code or "")
    values = {name: _shown(name, value, strings) for name, value in params.items()}
    return strings(f"error.{code}", **values)


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _shown(name: str, value: object, strings: Strings) -> str:
    """One param as the words show it: domain words translated, times local, lists joined,
    and anything from the server made one safe line."""
    if isinstance(value, list | tuple):
        return _LIST_SEPARATOR[strings.lang].join(_shown(name, item, strings) for item in value)
    text = str(value)
    prefix = _VOCABULARY.get(name)
    if prefix is not None:
        return strings.word(prefix, text)
    if name.endswith("_at"):
        try:
            return datetime.fromisoformat(text).astimezone().strftime("%Y-%m-%d %H:%M")
        except ValueError:
            pass
    return one_line(text)
