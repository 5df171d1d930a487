"""The words of the `hotline` command's own lines, in Chinese and English: the language of the
settings (`--lang`, HOTLINE_LANG, the config file, else the locale), as the app's.

    say(word("zh", "whoami", name=..., role=..., url=..., head=...))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

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
        "已推送 {pushed} 个操作，{conflicts} 个冲突{extra}；从 {url} 拉取 {pulled} 条变更（游标 {cursor}）",
        "",  # English: `local_cache.sync.describe`
    ),
    "sync.taken_in": ("，受理 {n} 个来电", ""),
    "sync.refused": ("，{n} 个操作被拒绝", ""),
    "sync.held": ("，{n} 个操作暂缓发送", ""),
    "sync.conflicts": (
        "有 {n} 个冲突等您处理：`hotline status` 可列出",
        "{n} {conflicts} {wait} for you: `hotline status` lists them",
    ),
    "sync.pending": ("{error}；{n} 个操作仍待发送", "{error}; {n} {actions} {stay} pending"),
    "demo.serving": ("hotline demo：中心服务已在 {url} 运行", "hotline demo: central API on {url}"),
    "demo.stop": ("按 ctrl+c 停止", "press ctrl+c to stop"),
    "role.dispatcher": ("话务员", "dispatcher"),
    "role.supervisor": ("值班长", "supervisor"),
    "role.admin": ("管理员", "admin"),
    "role.partner": ("合作系统", "partner"),
    "role.unit": ("承办单位", "unit"),
}


def word(lang: Lang, key: str, **values: object) -> str:
    """The line `key` in `lang`, its placeholders filled."""
    zh, en = WORDS[key]
    return (zh if lang == "zh" else en).format(**values)


def role_word(lang: Lang, role: str) -> str:
    """A token's role in `lang` (itself when it has no word)."""
    key = f"role.{role}"
    return word(lang, key) if key in WORDS else role


def sync_summary(lang: Lang, summary: SyncSummary, url: str) -> str:
    """One line for a person: what a sync did."""
    from local_cache.sync import describe

    if lang != "zh":
        return describe(summary, url)
    extra = "".join(
        word(lang, key, n=f"{n:,}")
        for key, n in (
            ("sync.taken_in", summary.taken_in),
            ("sync.refused", summary.refused),
            ("sync.held", summary.held),
        )
        if n
    )
    return word(
        lang,
        "sync.summary",
        pushed=f"{summary.pushed:,}",
        conflicts=f"{summary.conflicts:,}",
        extra=extra,
        url=url,
        pulled=f"{summary.pulled:,}",
        cursor=f"{summary.cursor:,}",
    )
