"""Words a caller denies (不是顶层，是三层; 不是1单元那个; 没有停电) left out of what is read."""

from __future__ import annotations

import re

__all__ = ["without_negated"]

#: A denial and what it denies: up to the next pause or 是 (不是地库，是楼里的地下室), a dozen
#: characters at most. 没有电 / 没有水 / 没有暖气 / 没有人 are what is missing, not a denial; 未闻到
#: (燃气味) is what was not perceived.
_NEGATED = re.compile(
    r"(?:不是|并非|而非|没有(?![电水气暖热人一了啊呢吗的])|未(?=闻到|闻见|发现|见到|看到))[^，,。.!！?？；;、\s是]{1,12}"
)


def without_negated(text: str) -> str:
    """`text` without what the caller denies.

    >>> without_negated("我家在7号楼，不是顶层，是三层，窗户往里渗水")
    '我家在7号楼，，是三层，窗户往里渗水'
    """
    if (
        "不是" not in text
        and "没有" not in text
        and "未" not in text
        and "并非" not in text
        and "而非" not in text
    ):
        return text
    return _NEGATED.sub("", text)
