"""The words callers use for each problem of a peak event, colloquial and misspelt ones included
(漏雨 / 楼雨 / 露雨, 积水 / 及水 / 鸡水, 井盖 / 井该, 停电 / 听电 / 停店, 暖气 / 暖器 / 暖期), and
`mentioned`, which finds the problems a text names. Every pattern is linear in its input
(literals and bounded gaps); `problems` reads them."""

from __future__ import annotations

import re

__all__ = [
    "AFTER",
    "CAUSED_BY_POWER",
    "CHRONIC",
    "ELECTRIC_HEAT",
    "FAULT",
    "GAS_LEAK",
    "GAS_METER",
    "HEAT_FAILED",
    "HEAT_NOUN",
    "HEAT_PIPE",
    "LEAK",
    "LIFT_FAULT",
    "MAYBE_POWER",
    "ONE_BUILDING",
    "ONE_HOME",
    "ROOF",
    "UPSTAIRS",
    "WORDS",
    "mentioned",
]


def _expand(alternative: str) -> list[str]:
    """An alternative that begins with a group of words, written as one alternative per word
    (`(?:树|书)倒` as `树倒`, `书倒`): a pattern whose every alternative begins with a character is
    searched at that character's places only (the regular expression engine's prefix check)."""
    if not alternative.startswith("(?:"):
        return [alternative]
    depth, end = 0, 0
    for at, ch in enumerate(alternative):
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            end = at
            break
    inner, rest = alternative[3:end], alternative[end + 1 :]
    if "(" in inner or "[" in inner or rest[:1] in ("?", "*", "{"):
        return [alternative]
    return [word + rest for word in inner.split("|")]


def _words(*said: str) -> tuple[str, ...]:
    """Alternatives from `said`: each a pattern, or several words apart by spaces."""
    return tuple(word for part in said for alternative in part.split() for word in _expand(alternative))


def _pattern(*said: str) -> re.Pattern[str]:
    return re.compile("|".join(_words(*said)))


#: A gap of a few characters between two words of one phrase (电梯 … 停了).
_GAP = "[^，,。.!！?？；;]{0,8}"
_SHORT_GAP = "[^，,。.!！?？；;]{0,4}"

#: Problems, in the order a request's problem is chosen when its category does not decide, with
#: the words of each (`WORDS`: one pattern per problem).
_SAID: dict[str, tuple[str, ...]] = {
    # water underground: a building's basement or bicycle store, a compound's garage
    "basement": _words("地下室 地下是 储藏室 地下储藏 存车处 车棚 自行车库 半地下 地下一层住"),
    "garage": _words(
        "地库 车库 车裤 停车场 停车库 停车厂 挡水板 B[12]",
        f"(?:往下|地下|下行){_SHORT_GAP}坡道",
        "坡道[^，,。.!！?？；;]{0,6}(?:灌|淹|底下)",
    ),
    # water in a compound or on a road, a blocked drain, sewage, a manhole, the road caving in
    "water": _words(
        "积水 及水 鸡水 淹 水深 水.{0,4}深 没过 漫 倒灌 灌进 进水 近水 全是水 都是水 一片水 一大片水",
        "跟河似的 小河 瀑布 排不 泡 趟水 蹚水 涉水 熄火 水到 水都 往里灌 往下灌",
    ),
    "drain": _words(
        f"(?:雨水口|雨水篦子|雨水箅子|篦子|箅子|雨水井|下水口|排水口){_GAP}(?:堵|糊|塞|冒|返|排不|下不去|不下去)",
        f"(?:下水道|下水井){_GAP}堵",
    ),
    "sewage": _words(
        "污水 粪 化粪池 脏水 黑水 返水 反水 返溢 返污 污水井 下水到 臭",
        f"下水井{_GAP}冒 下水道{_GAP}(?:冒|翻|返|往外) 下水{_GAP}(?:冒|翻|返)",
    ),
    "manhole": _words(f"井盖 井该 窨井 窟窿 黑洞 (?:篦子|箅子){_GAP}(?:没了|冲走|不见|丢)"),
    "collapse": _words(f"塌陷 路面塌 路塌 马路塌 路面{_GAP}塌 塌了个 大坑 路面有坑 有个坑"),
    # leaks into a home: the roof's (the building's), a window's or wall's (the flat's)
    "roof": _words("顶楼 楼顶 屋顶 房顶 顶层 顶子 油毡 防水层"),
    "flat_leak": _words(f"窗 外墙{_GAP}渗 墙面渗 阳台"),
    # power, and what stops with it
    "outage": _words(
        "停电 听电 停店 没电 没有电 断电 全黑 都黑了 黑了 跳闸 没来电 来电了吗 灯全灭 灯都灭",
        f"灯{_SHORT_GAP}灭了 什么时候(?:能)?来(?:电|点) 电也没来 还没电 电箱{_GAP}冒烟",
        f"配电{_GAP}(?:进水|淹|烧) 变压器 供电局 供店局 供电公司 电闸",
    ),
    "lift": _words("电梯 电提 点梯 电体"),
    "no_water": _words(
        "停水 没水 没有水 水压低 水压小 水上不去 二次供水 水泵 供水泵 水都没有 水都没了 无水 没来水",
        "来水了 用不了水 无法用水 一滴水",
    ),
    "lights": _words(f"路灯 楼道灯 灯{_GAP}不亮 黑灯瞎火 摸黑"),
    "wire": _words(f"漏电 电线{_GAP}(?:断|垂|耷拉|火花|火星|冒火) 电线杆 线杆 火花 火星子 电麻"),
    "door": _words(f"门禁 单元门{_GAP}(?:打不开|开不了|锁) 电子锁"),
    "gas": _words("燃气 煤气 天然气 然气 调压箱 燃气箱"),
    # wind, snow and cold
    "tree": _words(f"(?:树|书){_GAP}(?:倒|断|折|砸|压|掉|歪|刮|撅|劈|挡|堵|横) 倒树 断枝 树枝 树杈 书枝"),
    "wall": _words(
        f"墙{_GAP}(?:塌|倒|裂|缝|鼓|歪) 墙皮{_SHORT_GAP}(?<!泡)(?:掉|脱落|砸) 墙体 外墙皮",
        f"(?:瓷砖|外墙){_GAP}(?:掉|脱落)",
    ),
    "sign": _words("广告牌 招牌 门头 牌匾"),
    "fixture": _words("空调外机 外机 顶棚 彩钢板 雨棚 遮阳棚 防盗窗 棚子 铁皮棚"),
    "heat": _words(
        "暖气 暖器 暖期 供暖 采暖 取暖 气片 散热器 地暖 锅炉 换热站 热力 室温",
        f"屋里{_GAP}度 冻得 冷得 冰凉 不热 不惹 部热 布热 (?:屋里|家里|说|太|很|真)冷",
    ),
    "pipe": _words(
        f"(?:水管|管道|管子|管到|立管|水表|水箱|自来水|上水|消防栓|消火栓){_GAP}(?:冻|裂|列|爆|崩|炸|破|漏|滋|喷)",
        "爆管 跑水 跑大水 滋水 喷水 地(?:底)?下冒水 路面冒水",
        f"(?:水|管子){_SHORT_GAP}(?:还在|一直)[^，,。.!！?？；;]{{0,2}}(?:流|冒|漏|滋)",
    ),
    "ice": _words(
        "冰(?![箱凉窖棍糕激]) (?:打|很|真|特别|太|路|地|好|挺)滑 滑(?:得|倒|了|溜) 很华 很画 出溜 摔",
        "冻上了 冻成 上冻 冻了一层 撒盐 (?:需要?|没人?|不|该)撒融雪剂",
    ),
    "snow": _words(f"积雪 扫雪 除雪 铲雪 雪堆 压雪 (?:雪|血){_GAP}(?:扫|清|铲|压实|厚|没人)"),  # 血: a slip
}
WORDS = {kind: re.compile("|".join(words)) for kind, words in _SAID.items()}

#: Of two problems whose words begin at one character, the one found (水都没有 is no water, not
#: water; 自行车库 a bicycle store, not a garage).
_FIRST = (
    *("basement", "no_water", "drain", "sewage", "manhole", "collapse", "pipe", "garage", "outage", "lift"),
    *("lights", "wire", "door", "gas", "tree", "wall", "sign", "fixture", "heat", "ice", "snow", "roof"),
    *("flat_leak", "water"),
)
#: Every problem's words in one pattern, each alternative tagged with its problem (an empty group
#: named after it).
_TAGGED = re.compile(
    "|".join(f"{word}(?P<{kind}_{n}>)" for kind in _FIRST for n, word in enumerate(_SAID[kind]))
)


def mentioned(text: str) -> list[str]:
    """The problems whose words `text` says, in the order of `WORDS`: a search from each place
    where a word was found onwards, so that words inside another's (树倒了把电线压断了) are found
    too. Linear in the text times the longest word."""
    found: set[str] = set()
    match = _TAGGED.search(text)
    while match is not None:
        found.add(str(match.lastgroup).rpartition("_")[0])
        match = _TAGGED.search(text, match.start() + 1)
    return [kind for kind in WORDS if kind in found]


#: A leak (the roof's or a flat's), said any way.
LEAK = _pattern("漏 渗 滴水 灌水 进水 楼雨 露雨 流水 往下流 往里流 往屋里 湿")
#: Words that place a leak on the roof rather than at a window or wall.
ROOF = WORDS["roof"]
#: A fault of long standing (每次, 经常, 好几天), not a sudden stop.
CHRONIC = _pattern("每次 经常 老是 总是 天了 好几天 好久 多次 一直坏")
#: A lift or door stopped by its own fault (water in its pit, a broken button), not by a power cut.
LIFT_FAULT = _pattern("进水 底坑 按钮 失灵 故障 坏了 坏啦 响 门关不 异响 年检 维修 检修 拆 办理")
#: Lifts, pumps, lights, door locks and heating stop when the power does.
CAUSED_BY_POWER = frozenset({"lift", "no_water", "lights", "heat", "door"})
#: What may have stopped with the power when no cause is said: a lift, the upper floors' water
#: (the pumps), a compound's lights, a door lock.
MAYBE_POWER = frozenset({"lift", "no_water", "lights", "door"})
#: Water missing upstairs (the tenth floor and up): the pumps.
UPSTAIRS = _pattern("高层 楼上 二次供水 水泵 供水泵 上不去 二?十[一二三四五六七八九]?层 [12][0-9]层")
#: A problem of one home only (就我们一家没电, 我家厨房下水返水, 邻居家都热).
ONE_HOME = _pattern(
    "就我们?一家 就我们?家 只有我们?家 仅自己家 我家厨房 厨房下水 卫生间地漏 地漏 我家暖气片 暖气片漏",
    "其他房间 别的屋 邻居家?都(?:热|正常|有) (?:别的|其他|其它)都(?:行|热|正常|好) 就(?:那|这)一组",
)
#: Water missing in one building (全楼停水), not the compound's supply.
ONE_BUILDING = _pattern("全楼 整栋楼 整个楼 楼内 楼里 这栋楼 本楼")
#: The heating has failed (an enquiry that only asks a phone number is not a failure).
HEAT_FAILED = _pattern("不热 不惹 部热 布热 凉 冷 停 没来 未开通 没开 故障 坏 一宿 一夜 没暖气 温 度")
#: A problem that came before and is not what the request is about (车库进水后大家都把车停路上了).
AFTER = re.compile(r"[^，,。.!！?？；;]{0,16}?(?:进水|淹|停电|积水)[^，,。.!！?？；;]{0,2}(?:以后|之后|后)")
#: A heating fault of one flat (a radiator leaking, too hot) rather than the heat source's.
FAULT = _pattern(f"(?:暖气片|散热器|气片){_GAP}(?:漏|爆|裂|滴|跑水) 太热 热得")
#: The heating named (暖气里头没水了 is the heating's water, not the taps').
HEAT_NOUN = _pattern("暖气 暖器 气片 散热器 地暖")
#: Gas leaking (a building's or a spot's) and a meter (one home's); gas weak in many homes is the
#: supply's.
GAS_LEAK = _pattern("味 泄漏 漏气 闻到")
GAS_METER = _pattern("燃气表 气表 表坏 插卡")
#: Heat that depends on the power (an electric heater), and a heating main whose water is the heat
#: source's (a burst heating pipe).
ELECTRIC_HEAT = _pattern("电暖 蓄能 煤改电")
HEAT_PIPE = _pattern("供热管 暖气管 热力管 供暖管 换热站 锅炉")
