"""The words of the `hotline` command's own lines, in Chinese and English: the language of the
settings (`--lang`, HOTLINE_LANG, the config file, else the locale), as the app's.

    say(word("zh", "whoami", name=..., role=..., url=..., head=...))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from tui.core.counting import counted

if TYPE_CHECKING:
    from local_cache.sync import SyncSummary

__all__ = ["WORDS", "role_word", "sync_summary", "word"]

Lang = Literal["zh", "en"]

WORDS: Final[dict[str, tuple[str, str]]] = {
    "whoami": (
        "{name}（{role}），服务器 {url}；服务器变更序号 {head}",
        "{name} ({role}) on {url}; the server's change head is {head}",
    ),
    "sync.summary": (
        "{taken_in}已推送 {pushed:,} 个操作，{conflicts:,} 个冲突{extra}；"
        "从 {url} 拉取 {pulled:,} 条变更（游标 {cursor}）",
        "{taken_in}pushed {pushed:action|actions}, {conflicts:conflict|conflicts}{extra}, pulled "
        "{pulled:change|changes} (cursor {cursor}) from {url}",
    ),
    "sync.taken_in": ("受理 {n:,} 个来电，", "took in {n:call|calls}, "),
    "sync.refused": ("，{n:,} 个操作被拒绝", ", {n:refused action|refused actions}"),
    "sync.held": ("，{n:,} 个操作暂缓发送", ", {n:action|actions} held back"),
    "sync.conflicts": (
        "有 {n:,} 个冲突等您处理：`hotline status` 可列出",
        "{n:conflict waits|conflicts wait} for you: `hotline status` lists them",
    ),
    "sync.pending": ("{error}；{n:,} 个操作仍待发送", "{error}; {n:action stays|actions stay} pending"),
    "sync.not_owner": (
        "另一个 hotline 进程正在同步 {directory} 中的缓存；它会送出每个待发送的操作，不会丢失",
        "another hotline process is syncing the cache in {directory}; it delivers every pending "
        "action, so nothing is lost",
    ),
    "status.server": ("服务器", "server"),
    "status.dispatcher": ("话务员", "dispatcher"),
    "status.cache": ("缓存目录", "cache"),
    "status.cached": ("已缓存", "cached"),
    "status.cursor": ("游标", "cursor"),
    "status.last_sync": ("上次同步", "last sync"),
    "status.pending": ("待发送", "pending"),
    "status.conflicts": ("冲突", "conflicts"),
    "status.requests": ("{n:,} 件诉求", "{n:request|requests}"),
    "status.actions": ("{n:,} 个操作", "{n:action|actions}"),
    "status.never": ("从未", "never"),
    "status.calls": (
        "  其中 {n:,} 个来电已受理、尚未发送",
        "  of which {n:call|calls} taken in, not yet sent",
    ),
    "status.oldest": (
        "  最早的：{id} {action}，已尝试 {n:,} 次，最近一次：{error}",
        "  oldest: {id} {action}, {n:attempt|attempts}, last: {error}",
    ),
    "status.conflict": (
        "  {id}  {action}  {kind}：{why}  （编号 {record}）",
        "  {id}  {action}  {kind}: {why}  (id {record})",
    ),
    "status.note": ("提示：{message}", "note: {message}"),
    "error.no_token": (
        "没有令牌：请设置 HOTLINE_TOKEN 或 HOTLINE_TOKEN_FILE（或配置文件中的 token_file）",
        "no token: set HOTLINE_TOKEN or HOTLINE_TOKEN_FILE (or token_file in the config file)",
    ),
    "error.no_token_no_dispatcher": (
        "没有令牌，也没有话务员姓名：请设置 HOTLINE_TOKEN_FILE（或 HOTLINE_TOKEN），"
        "或设置 HOTLINE_DISPATCHER 以离线使用本机缓存",
        "no token and no dispatcher name: set HOTLINE_TOKEN_FILE (or HOTLINE_TOKEN), "
        "or HOTLINE_DISPATCHER to work offline from the local cache",
    ),
    "error.need_dispatcher": (
        "需要话务员姓名才能找到缓存：请设置 HOTLINE_DISPATCHER（或配置文件中的 dispatcher）",
        "the dispatcher name is needed to find the cache: set HOTLINE_DISPATCHER "
        "(or dispatcher in the config file)",
    ),
    "error.need_dispatcher_why": (
        "{need}；服务器无法告知（{reason}）",
        "{need}; the server could not tell it ({reason})",
    ),
    "error.forbidden": ("无权操作：{said}", "forbidden: {said}"),
    "error.report_offline_no_dispatcher": (
        "无法连接中心服务（{reason}），也没有话务员姓名来找本机缓存：请设置 HOTLINE_DISPATCHER",
        "cannot reach the central API ({reason}) and no dispatcher name to find the local cache: "
        "set HOTLINE_DISPATCHER",
    ),
    "report.unsafe": (
        "拒绝写入报表：{why}；未写入任何内容",
        "refused to write the report: {why}; nothing was written",
    ),
    "report.cannot_write": ("无法写入 {path}：{why}", "cannot write {path}: {why}"),
    "report.written": ("hotline：报表已写入 {path}", "hotline: wrote the report to {path}"),
    "report.offline": (
        "hotline：离线（{reason}）：没有三率，数量来自本机缓存",
        "hotline: offline ({reason}): the rates are missing; the counts are the local cache's",
    ),
    "demo.serving": ("hotline demo：中心服务已在 {url} 运行", "hotline demo: central API on {url}"),
    "demo.stop": ("按 ctrl+c 停止", "press ctrl+c to stop"),
    "role.dispatcher": ("话务员", "dispatcher"),
    "role.supervisor": ("值班长", "supervisor"),
    "role.admin": ("管理员", "admin"),
    "role.partner": ("合作系统", "partner"),
    "role.unit": ("承办单位", "unit"),
}


def word(lang: Lang, key: str, **values: object) -> str:
    """The line `key` in `lang`, its placeholders filled (English counts agree: `counted`)."""
    zh, en = WORDS[key]
    return counted(zh if lang == "zh" else en, **values)


def role_word(lang: Lang, role: str) -> str:
    """A token's role in `lang` (itself when it has no word)."""
    key = f"role.{role}"
    return word(lang, key) if key in WORDS else role


def sync_summary(lang: Lang, summary: SyncSummary, url: str) -> str:
    """One line for a person: what a sync did."""
    extra = "".join(
        word(lang, key, n=n)
        for key, n in (("sync.refused", summary.refused), ("sync.held", summary.held))
        if n
    )
    return word(
        lang,
        "sync.summary",
        taken_in=word(lang, "sync.taken_in", n=summary.taken_in) if summary.taken_in else "",
        pushed=summary.pushed,
        conflicts=summary.conflicts,
        extra=extra,
        url=url,
        pulled=summary.pulled,
        cursor=f"{summary.cursor:,}",
    )
