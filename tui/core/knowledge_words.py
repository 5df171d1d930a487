"""The words of the knowledge base and direct answers, in Chinese and English. `tui.core.i18n` serves them
with every other message."""

from __future__ import annotations

from typing import Final

KNOWLEDGE: Final[dict[str, tuple[str, str]]] = {
    # -- the picker
    "knowledge.title": ("知识库：直接答复", "Knowledge base: answer directly"),
    "knowledge.search": ("搜索：中文、拼音或首字母", "Search: Chinese, pinyin or initials"),
    "knowledge.loading": ("正在读取知识库…", "Reading the knowledge base…"),
    "knowledge.none_cached": (
        "本机还没有知识库：联网后会自动下载",
        "No knowledge base on this computer yet: it is fetched when hotline is online",
    ),
    "knowledge.no_match": ("没有找到相关条目", "No entry matches"),
    "knowledge.count": ("{n} 条", "{n:entry|entries}"),
    "knowledge.hint": (
        "↑↓ 选择 · {pick} 用此条答复 · {cancel} 取消",
        "↑↓ choose · {pick} answer with it · {cancel} cancel",
    ),
    "knowledge.in_force": ("有效", "in force"),
    "knowledge.expired": ("已过期", "expired"),
    "knowledge.not_yet": ("未生效", "not yet"),
    "knowledge.withdrawn": ("已撤下", "withdrawn"),
    "knowledge.owner": ("责任部门：{owner}", "Answerable: {owner}"),
    "knowledge.valid": ("有效期：{valid_from} 至 {valid_until}", "Valid: {valid_from} to {valid_until}"),
    "knowledge.open_end": ("不限", "open"),
    "knowledge.valid_always": ("长期有效", "Valid: no end date"),
    "knowledge.cannot_cite": (
        "「{title}」{status}，不能用来答复",
        "“{title}” is {status}: it cannot answer a request",
    ),
    # -- answering a request
    "knowledge.confirm_title": ("直接答复诉求 {id}？", "Answer request {id} directly?"),
    "knowledge.confirm_body": (
        "用知识库条目「{title}」答复并结案（不派单、无需回访）。",
        "Answer with the entry “{title}” and close it (no dispatch, no callback due).",
    ),
    "knowledge.not_enquiry": (
        "诉求 {id} 不是咨询类：只有咨询可以直接答复",
        "Request {id} is not an enquiry: only an enquiry is answered directly",
    ),
    "knowledge.not_new": (
        "诉求 {id} 已不是新诉求：只有未派单的咨询可以直接答复",
        "Request {id} is no longer new: only an enquiry not yet dispatched is answered directly",
    ),
    # -- the detail
    "detail.answered_with": ("直接答复", "Answered directly with"),
    "history.entry": ("知识库条目 {entry}", "knowledge-base entry {entry}"),
    # -- the keys
    "key.request.answer": ("直接答复", "Answer directly"),
    "key.knowledge.pick": ("用此条答复", "Answer with it"),
    "key.knowledge.cancel": ("取消", "Cancel"),
}
