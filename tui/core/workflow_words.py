"""The words of the workflow, in Chinese and English: the reason codes, what the dialogs say of
the rules (`api_client.domain.lifecycle`), and the lines of a request's history. `tui.core.i18n`
serves them with every other message."""

from __future__ import annotations

from typing import Final

from api_client.actions import CloseCode, ReturnCode

WORKFLOW: Final[dict[str, tuple[str, str]]] = {
    # -- the reason codes
    f"return_code.{ReturnCode.not_our_duty}": ("不属于本单位职责", "Not our duty"),
    f"return_code.{ReturnCode.wrong_address}": ("地址有误或不在本辖区", "Wrong address or not our area"),
    f"return_code.{ReturnCode.needs_other_unit}": ("须由其他单位主办", "Another unit must lead"),
    f"return_code.{ReturnCode.duplicate}": ("重复诉求，已在办理", "A duplicate already handled"),
    f"return_code.{ReturnCode.other}": ("其他", "Other"),
    f"close_code.{CloseCode.unreachable}": ("多次回访未联系上", "Citizen unreachable"),
    f"close_code.{CloseCode.declined}": ("市民拒绝回访评价", "Citizen declined the callback"),
    f"close_code.{CloseCode.withdrawn}": ("市民撤回诉求", "Citizen withdrew the request"),
    f"close_code.{CloseCode.other}": ("其他", "Other"),
    # -- the dialogs
    "transition.return.code": ("退单类型", "Kind of return"),
    "transition.close.code": ("结案原因", "Why it is closed"),
    "transition.code.label": ("{field}（按数字选择）", "{field} (press its number)"),
    "transition.code.required": ("请选择{field}", "Choose: {field}"),
    "transition.close.text_help": ("选“其他”时必填", "required with “Other”"),
    "transition.close.unreached": (
        "有效回访会自动结案或退回重办。办结后未联系上 {count} 次，满 {min} 次可选“无法联系”。",
        "A valid callback closes or reopens by itself. Not reached {count:time|times} since resolved;"
        " {min} allow “unreachable”.",
    ),
    "transition.close.rule": (
        "有效回访会自动结案或退回重办。未联系上满 {min} 次可选“无法联系”。",
        "A valid callback closes or reopens by itself. "
        "{min:unreached callback|unreached callbacks} allow “unreachable”.",
    ),
    "transition.extend.rule": (
        "每轮办理最多延期 {max} 次；每次最多延后 {days} 天，更长须值班长办理",
        "At most {max:extension|extensions} a round; each at most {days:day|days} later"
        " (longer needs a supervisor)",
    ),
    "transition.extend.limits": (
        "本轮已延期 {count} 次，最多 {max} 次；每次最多延后 {days} 天，更长须值班长办理",
        "Extended {count:time|times} this round, at most {max}; each at most {days:day|days} later"
        " (longer needs a supervisor)",
    ),
    "transition.callback.closes": (
        "已解决且满意：保存后自动结案",
        "Solved and satisfied: saving closes the request",
    ),
    "transition.callback.reopens": (
        "未解决或不满意：保存后自动退回重办，重新计算期限",
        "Not solved or not satisfied: saving sends it back for re-handling, with a new due time",
    ),
    "transition.callback.unreached": (
        "未联系上：办结后第 {n} 次；满 {min} 次可按“无法联系”结案",
        "Not reached: attempt {n} since resolved; {min} allow closing as unreachable",
    ),
    # -- the history, one step a line
    "history.line": ("{head}：{why}", "{head}: {why}"),
    "history.and": ("；", "; "),
    "history.system": ("系统", "system"),
    "history.lead": ("主办 {unit}", "lead {unit}"),
    "history.co_units": ("协办 {units}", "co-units {units}"),
    "history.due": ("期限 {due}", "due {due}"),
    "history.tier": ("时限 {tier}", "tier {tier}"),
    "history.reply": ("答复“{text}”", "reply “{text}”"),
    "history.reached": ("已联系上", "reached"),
    "history.merged_into": ("并入 {parent}", "into {parent}"),
    "history.unmerged": ("撤出 {parent}", "out of {parent}"),
    "history.dropped": (
        "……另有 {n} 个较早的步骤未保留（备注全文见“较早的备注”）",
        "… {n:earlier step|earlier steps} not kept (notes in full under “Earlier notes”)",
    ),
    "history.earlier_notes": ("较早的备注", "Earlier notes"),
    "history.before": ("服务器记录的较早步骤：", "Earlier steps, from the server:"),
}
