"""The words of the command palette (ctrl+p, `tui.ui.palette`), in Chinese and English: whom an
action acts on, Textual's own entries, and what the palette says when nothing matches.
`tui.core.i18n` serves them with every other message."""

from __future__ import annotations

from typing import Final

COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "commands.on_request": ("作用于 {id}", "on {id}"),
    "commands.on_marked": ("作用于已选的 {n} 件", "on the {n:marked request|marked requests}"),
    "commands.app_help": ("任何界面都可用", "works on every screen"),
    "commands.screen_help": ("本界面的操作", "on this screen"),
    "commands.theme": ("配色主题", "Theme"),
    "commands.theme_help": ("更换界面的配色", "Change the colours of the app"),
    "commands.theme_placeholder": ("搜索主题……", "Search for themes…"),
    "commands.keys_show": ("按键面板", "Keys panel"),
    "commands.keys_show_help": ("在右侧显示此处可用的按键", "Show the keys that work here, on the right"),
    "commands.keys_hide": ("关闭按键面板", "Hide the keys panel"),
    "commands.keys_hide_help": ("关闭右侧的按键面板", "Hide the keys panel on the right"),
    "commands.maximize": ("最大化", "Maximize"),
    "commands.maximize_help": ("让当前部件占满屏幕", "Let the focused part fill the screen"),
    "commands.minimize": ("还原", "Minimize"),
    "commands.minimize_help": ("恢复正常布局", "Back to the usual layout"),
    "commands.screenshot": ("截图", "Screenshot"),
    "commands.screenshot_help": ("把当前屏幕保存为 SVG 文件", "Save the screen as an SVG file"),
    "commands.screenshot_saved": ("截图已保存：{path}", "Screenshot saved: {path}"),
    "commands.screenshot_failed": ("无法保存截图：{reason}", "Cannot save the screenshot: {reason}"),
    "palette.placeholder": ("输入命令：派单、pd、paidan……", "Type a command: dispatch, note, 派单, pd…"),
    "palette.no_match": ("没有匹配的命令", "No command matches"),
    "palette.no_match_help": (
        "可输入中文、拼音或首字母，如 派单、paidan、pd；只列出对当前诉求可用的操作",
        "Type words, pinyin or initials (dispatch, paidan, pd); only actions that apply here are listed",
    ),
}
