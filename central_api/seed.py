"""Deterministic demo data: a month of hotline requests at 德胜街道 and their histories.

`demo_requests(seed, count, now)` builds the requests and, for each, the dispatcher and unit
actions that walk it through the real state machine (`api_client.domain.lifecycle`): intake, dispatch
to the suggested units (a lead and sometimes co-units, 吹哨报到), sign-for, notes, returns to the
wrong owner, extensions, resolution, callbacks (≈97 % solved, ≈99 % satisfied among valid
callbacks), closing, re-handling after an unsatisfied callback, and merging of duplicates into an
earlier request. Nothing reads the clock: the same `seed`, `count` and `now` give the same output.

`seed_store(store, ...)` writes them through the `Store` protocol, in time order across all
requests, so the audit trail and the change feed are real.

Requests arrive over the last 30 days with daily peaks at 09–11 and 14–16 (Beijing time), plus a
two-day surge that fits the season of `now`: a rainstorm in summer (roof leaks, waterlogging), a
cold wave in winter (heating, burst pipes), a gale in spring and autumn (fallen trees).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone

from api_client.actions import (
    Accept,
    Action,
    AddNote,
    Close,
    Dispatch,
    Extend,
    LogCallback,
    Merge,
    Reopen,
    Resolve,
    Return,
)
from api_client.domain.lifecycle import apply_action, intake
from api_client.models import (
    Caller,
    Channel,
    Community,
    Location,
    NewRequest,
    Request,
    RequestType,
    Satisfaction,
    Tier,
    response_window,
)
from central_api.catalogue import (
    COMMUNITIES,
    COMMUNITY_CENTRES,
    FALLBACK_UNIT,
    STREET_OFFICE,
    UNITS,
    category_by_code,
    community_office,
    suggested_units,
)
from central_api.store import Store

#: Beijing time (UTC+08:00, no daylight saving). Requests are generated in local time.
BEIJING = timezone(timedelta(hours=8), "CST")
#: How far back the demo data reaches.
HISTORY = timedelta(days=30)


@dataclass(frozen=True)
class DemoStep:
    """One action on a demo request: when, by whom, what."""

    at: datetime
    actor: str
    action: Action


@dataclass
class DemoRequest:
    """A demo request: its intake and the actions that follow it, oldest first.

    `ref` names the request inside one generated batch; a `Merge` step's `parent_id` is the
    parent's `ref` (the store's id is not known yet) and `seed_store` swaps in the real id.
    """

    ref: str
    actor: str  # the call-taker who recorded it
    new: NewRequest
    steps: list[DemoStep] = field(default_factory=list)


# --------------------------------------------------------------------------- people

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
#: Mobile number prefixes of the three carriers (134 and 154 left out).
_MOBILE_PREFIXES = [
    str(n)
    for n in (
        *range(130, 140),
        *range(150, 160),
        166,
        170,
        *range(176, 179),
        *range(180, 190),
        191,
        195,
        198,
        199,
    )
    if n not in (134, 154)
]
_CALL_TAKERS = ["话务-李娜", "话务-郑爽", "话务-高远", "话务-孙倩", "话务-马骁", "话务-许晴"]
_DISPATCHERS = ["派单-张丽", "派单-王磊", "派单-刘洋", "派单-陈静", "派单-杨帆"]
_CALLBACK_AGENTS = ["回访-赵敏", "回访-孙悦", "回访-周婷", "回访-吴昊"]

# --------------------------------------------------------------------------- texts

_DAYS = ["两天", "三天", "四五天", "一个星期", "好几天", "半个多月"]
_HOURS = ["两个多小时", "大半天", "一整天", "十几个小时", "一晚上"]
_TIMES = ["昨天晚上", "今天早上六点多", "今天上午", "中午", "夜里十一点多", "凌晨两点"]
_NIGHT = ["晚上十点以后", "夜里十二点", "凌晨", "早上六点", "半夜"]
_SPOTS = [
    "路口",
    "公交站旁边",
    "小区南门",
    "菜市场门口",
    "便利店门口",
    "过街天桥下",
    "学校门口",
    "北口",
    "东侧",
]

_TEMPLATES: dict[str, list[str]] = {
    "roof_leak": [
        "{addr}，家里卫生间顶上漏水，已经滴了{days}了，楼上没人，物业说找不到人，麻烦派人来看看。",
        "下大雨我家屋顶往下漏雨，墙皮都泡了，用盆接都接不过来，我家住顶层{floor}层，地址{addr}。",
        "{addr}，楼顶防水层老化，一下雨就漏，去年修过一次又漏了，希望彻底修一修。",
        "{addr}，外墙渗水，卧室墙面发霉，窗台往下淌水，请相关部门尽快处理。",
        "{bld_addr}楼梯间顶上一直往下滴水，地上都是积水，老人上下楼容易滑倒。",
        "家里墙壁漏雨，现在满屋都是水，{addr}，不知道该找谁，请帮帮忙。",
    ],
    "waterlogging": [
        "{place}{spot}积水很深，已经没过脚踝了，行人没法走，车也过不去，请尽快来排水。",
        "小区里{bld_addr}门口积水，雨水排不出去，快流进一楼住户家里了。",
        "{place}{spot}积水有半米深，有车在里面熄火了，太危险了，赶紧派人来。",
        "{bld_addr}地下室进水了，里面放着不少东西，水还在往里灌。",
    ],
    "gas_leak": [
        "{bld_addr}楼道里闻到很大的燃气味，不知道是哪家漏了，请马上派人来查。",
        "我家厨房燃气管道接口有嘶嘶声，闻着有燃气味，已经关了总阀开了窗户，{addr}。",
        "{bld_addr}单元门口燃气味特别重，邻居都闻到了，怕出事。",
    ],
    "building_safety": [
        "{bld_addr}外墙瓷砖脱落，砸到楼下停的车了，下面经常有人走，很危险。",
        "{addr}，阳台顶板开裂，水泥块往下掉，请房管所来看看是不是危险。",
        "{bld_addr}楼顶的女儿墙松动了，大风天怕掉下来砸到人。",
        "{bld_addr}楼梯台阶裂了好几道缝，扶手也松了，老人上下楼不安全。",
    ],
    "tree_hazard": [
        "{place}{spot}一棵大树被风刮倒了，横在路上，压住了一辆车，请赶紧处理。",
        "{bld_addr}旁边的树断了一根大树枝，挂在电线上，随时可能掉下来。",
        "{place}{spot}的树歪了，根都翘起来了，看着要倒，下面是人行道。",
    ],
    "manhole": [
        "{place}{spot}井盖没了，就剩一个黑窟窿，晚上看不见，特别危险。",
        "{place}{spot}井盖碎了，车一压就响，已经塌下去一块了。",
        "{bld_addr}门口的井盖翘起来了，有人被绊倒了，麻烦尽快修。",
    ],
    "water_outage": [
        "{addr}，从{time}开始停水了，没有看到任何通知，家里做饭洗漱都没法弄。",
        "{bld_addr}整栋楼都没水，已经{hours}了，问物业也说不清楚什么原因。",
        "我家水压特别小，{floor}楼基本上没水，楼下还有一点，{addr}。",
        "{addr}，自来水发黄有铁锈味，放了很久也不清，不敢喝。",
    ],
    "power_outage": [
        "{addr}，家里突然停电了，邻居家也没电，整栋楼都黑了，冰箱里还有东西。",
        "{bld_addr}从{time}开始停电，已经{hours}了，家里有老人用制氧机，很着急。",
        "我家电压不稳，灯一直闪，空调开不起来，{addr}。",
        "{bld_addr}楼道的电闸箱冒烟了，闻到焦糊味，整个单元都跳闸了。",
    ],
    "gas": [
        "{addr}，燃气表显示有余额但是打不着火，燃气灶用不了，请燃气公司来看看。",
        "我家燃气突然停气了，没有接到通知，{addr}，什么时候能恢复？",
        "{addr}，燃气表坏了，插卡没有反应，已经{days}没法做饭了。",
    ],
    "heating": [
        "{addr}，暖气不热，屋里温度才{temp}度，家里有老人孩子，冻得受不了。",
        "{bld_addr}整个单元暖气都不热，热力公司来看过说没问题，可是屋里就是冷。",
        "我家暖气片漏水了，水流了一地，已经渗到楼下了，{addr}。",
        "{addr}，暖气上面热下面凉，放气也放不出来，请派人来调一下。",
    ],
    "sewer": [
        "{bld_addr}下水道堵了，污水从一楼地漏往外冒，整个楼道都是臭味。",
        "{place}{spot}的雨水口堵了，污水漫到路面上，气味很大。",
        "{addr}，厨房下水返水，楼上一用水我家就往外冒，找物业好几次了没解决。",
        "{bld_addr}化粪池满了往外溢，楼门口全是脏水。",
    ],
    "elevator": [
        "{bld_addr}电梯坏了{days}了，我家住{floor}层，每天爬楼上不去，家里有老人。",
        "{bld_addr}电梯经常停运，今天早上又停了，有人被困了一会儿，太不安全了。",
        "{bld_addr}电梯运行的时候咣当咣当响，门也关不严，希望检修一下。",
    ],
    "door_access": [
        "我们楼下的门禁坏了，现在随便一拽就能把门打开，希望能够修一下，{bld_addr}。",
        "{bld_addr}单元门禁刷卡没反应，老人进不了门，每次都要等人开门。",
        "{bld_addr}单元门的门禁被人拆了，外面的人随便进出，楼道里贴满了小广告。",
        "想办理单元门禁卡，物业说要去社区，社区说找物业，到底应该找谁？{bld_addr}。",
    ],
    "noise": [
        "{place}{spot}有工地夜间施工，{night}还在打桩，吵得根本睡不着。",
        "{bld_addr}楼下的饭馆排风扇噪音特别大，每天一直响到半夜。",
        "楼上邻居每天{night}拖椅子、跺脚，敲了几次门也不理，{addr}。",
        "{place}{spot}每天早上有人跳广场舞，音响开得很大，六点多就开始了。",
        "{place}沿街商户用大喇叭循环播放促销广告，吵得人心烦。",
    ],
    "parking": [
        "{bld_addr}楼下总有外来车辆乱停，把消防通道堵了，救护车都进不来。",
        "{place}{spot}有一辆车停了好几个月没动过，像是僵尸车，一直占着车位。",
        "小区停车位太少，物业又乱收停车费，{bld_addr}。",
        "{place}{spot}路边停满了车，自行车道都被占了，骑车只能走机动车道。",
        "{bld_addr}楼下有人用地锁私占公共车位，问谁都说不管。",
    ],
    "property_mgmt": [
        "{bld_addr}物业不作为，楼道灯坏了一个月没人修，垃圾也不及时清。",
        "物业费年年涨，服务越来越差，{bld_addr}，希望街道管一管。",
        "{bld_addr}的物业要撤场了，以后谁来管我们小区？居民都很担心。",
        "找物业报修{days}了没人来，打电话也没人接，{addr}。",
    ],
    "sanitation": [
        "{place}{spot}的垃圾桶满了好几天没人清运，味道很大，招苍蝇。",
        "{bld_addr}楼道里堆满了杂物和旧家具，有消防隐患，也影响通行。",
        "{place}{spot}有人乱倒建筑垃圾，堆成小山了。",
        "{bld_addr}垃圾分类驿站旁边污水横流，天热特别臭。",
    ],
    "tree": [
        "{bld_addr}窗外的树长得太高了，挡住了我家{floor}层的阳光，屋里白天也得开灯。",
        "{place}{spot}的树枝碰到电线了，刮风的时候打火花，请安排修剪。",
        "{bld_addr}楼前的杨树飞絮特别多，能不能处理一下。",
    ],
    "road_damage": [
        "{place}{spot}路面有个大坑，下雨积水看不出来，骑车的人已经摔了好几个。",
        "{place}人行步道砖松动了，一踩就溅水，老人走路容易崴脚。",
        "{bld_addr}门口的路塌了一块，车开过去很危险。",
    ],
    "street_light": [
        "{place}{spot}的路灯坏了{days}了，晚上黑漆漆的，走路不安全。",
        "{bld_addr}楼道灯全不亮，晚上上下楼只能拿手机照。",
        "{place}一整排路灯都不亮，过了{spot}就一片黑。",
    ],
    "pest": [
        "{bld_addr}附近老鼠特别多，晚上在垃圾桶边上乱窜，还钻进了一楼住户家里。",
        "{addr}，楼道里蟑螂很多，希望统一消杀一下。",
        "{place}{spot}绿地里蚊子特别多，能不能安排灭蚊。",
    ],
    "street_vendor": [
        "{place}{spot}每天晚上有人摆摊卖烧烤，油烟大，垃圾扔一地。",
        "{place}沿街商户把货架摆到人行道上，行人只能走马路。",
        "{place}{spot}有游商卖菜，早上堵得走不动。",
    ],
    "policy_enquiry": [
        "想咨询一下老年人居家养老服务怎么申请，我今年{age}岁，一个人住。",
        "请问低保的申请条件是什么，需要准备哪些材料，到哪里办？",
        "咨询一下老旧小区加装电梯的政策，补贴怎么申请，需要多少户同意？",
        "想问一下外地老人在北京看病，异地就医备案怎么办理？",
        "家里老人失能了，想了解一下有没有护理补贴，怎么申请？",
        "请问孩子入学需要的居住证明在哪里开？",
    ],
    "illegal_construction": [
        "{bld_addr}楼顶有人私自加盖了一间房，还在继续施工，担心楼板承重。",
        "{bld_addr}一楼住户把院子圈起来搭了彩钢房，占了公共通道。",
        "{place}{spot}有商户私搭乱建，把门脸往外扩了两米。",
    ],
    "neighbour_dispute": [
        "楼上邻居家漏水泡了我家的天花板，找他们协商赔偿不理，希望社区帮忙调解，{addr}。",
        "邻居在楼道里堆放杂物还养了好多鸽子，说了也不听，{bld_addr}。",
        "对门邻居装修把我家门口的墙砸坏了，没法沟通，{addr}。",
    ],
    "old_renovation": [
        "{bld_addr}是八十年代的老楼，管线老化经常跑冒滴漏，什么时候能纳入老旧小区改造？",
        "我们{bld_addr}想加装电梯，楼里意见不统一，希望街道帮忙协调。",
        "老旧小区改造施工{days}了，到处挖得乱七八糟，进出很不方便，什么时候能完工？{bld_addr}。",
        "{bld_addr}改造后外墙保温层起鼓了，窗户周围还渗水。",
    ],
}
_OPENINGS = ["", "", "", "", "您好，", "你好，", "我是{community}的居民，", "喂，您好，我反映个事儿，"]
_CLOSINGS = [
    "",
    "",
    "麻烦尽快派人来看看。",
    "希望尽快解决。",
    "之前反映过一次，一直没人管。",
    "家里有老人孩子，比较着急。",
    "谢谢。",
    "请给我回个电话。",
]
_VULNERABLE = [
    "家里就我一个老人，腿脚不好，实在没办法了。",
    "我是独居老人，子女不在身边。",
    "家里有残疾人，行动不便。",
    "老伴卧床，家里就我一个人照顾。",
    "我八十多了，一个人住，心脏也不好。",
]
_RETURN_REASONS = [
    "经核实，该事项不属于本单位职责范围，请重新派单。",
    "该楼为产权单位自管房，不在本单位服务范围内。",
    "诉求地址不在本辖区，请核实后改派。",
    "经现场核实，该设施产权属于其他单位，请改派。",
]
_EXTEND_REASONS = [
    "需协调产权单位筹措维修资金，申请延期。",
    "维修材料需要订货，预计一周后到货。",
    "需召开居民议事会协商方案，申请延期。",
    "涉及多个部门，需联合踏勘后确定方案。",
    "施工受天气影响，申请顺延。",
]
_NOTES = [
    "已电话联系诉求人，约定明天上午上门查看。",
    "已到现场查看，正在协调维修。",
    "已吹哨产权单位、物业和相关科室，明日联合踏勘。",
    "已与诉求人沟通，说明处理进度。",
    "维修人员已进场。",
]
_SUMMARIES: dict[str, list[str]] = {
    "roof_leak": ["已对楼顶防水层进行修补，雨后复查不再渗漏。", "已更换漏雨部位防水卷材，并清理室内积水。"],
    "waterlogging": ["已组织抽排，积水已排除，雨水口已清掏。"],
    "heating": ["已对管线放风调试，室温恢复达标。", "已更换漏水暖气片阀门。"],
    "door_access": ["已更换单元门禁主机和电磁锁，门禁恢复正常。"],
    "noise": ["已责令施工单位停止夜间施工，并办理夜间施工许可核查。", "已约谈商户，整改排风设备。"],
    "policy_enquiry": ["已电话答复诉求人相关政策和办理流程。"],
}
_GENERIC_SUMMARIES = [
    "已上门查看并处理完毕，诉求人认可。",
    "已安排维修，现已恢复正常。",
    "已协调相关单位处理完毕。",
    "已现场整改完成。",
]
_CLOSE_REASONS = [
    "诉求超出政策范围，已做好解释说明，诉求人表示理解。",
    "已多次协调，诉求人认可处理结果。",
]
_REOPEN_REASONS = [
    "回访诉求人不满意，退回重办。",
    "诉求人反映问题仍未解决，重新办理。",
    "诉求人再次来电反映同一问题，重新办理。",
]
_UNREACHED_NOTES = ["电话无人接听。", "电话关机。", "电话占线，未接通。"]

# --------------------------------------------------------------------------- weights

#: Relative call volume per hour of the day (Beijing time): peaks 09–11 and 14–16.
_HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.3, 0.5, 1.5, 4, 8, 12, 12, 9, 6, 6, 11, 12, 10, 7, 5, 4, 3.5, 3, 2, 1.5]

_BASE_CATEGORY_WEIGHTS: dict[str, float] = {
    "waterlogging": 1,
    "gas_leak": 0.5,
    "building_safety": 1,
    "tree_hazard": 0.8,
    "manhole": 0.6,
    "roof_leak": 3,
    "water_outage": 4,
    "power_outage": 4,
    "gas": 2,
    "heating": 0.3,
    "sewer": 4,
    "elevator": 3,
    "door_access": 3,
    "noise": 8,
    "parking": 6,
    "property_mgmt": 7,
    "sanitation": 6,
    "tree": 3,
    "road_damage": 3,
    "street_light": 2.5,
    "pest": 2,
    "street_vendor": 2,
    "policy_enquiry": 7,
    "illegal_construction": 2,
    "neighbour_dispute": 2.5,
    "old_renovation": 2,
}

#: The surge of the season: (name, categories with weights).
_SURGES: dict[str, dict[str, float]] = {
    "rainstorm": {
        "roof_leak": 55,
        "waterlogging": 25,
        "tree_hazard": 7,
        "power_outage": 6,
        "sewer": 5,
        "building_safety": 2,
    },
    "cold_wave": {"heating": 60, "water_outage": 20, "gas": 10, "power_outage": 10},
    "gale": {"tree_hazard": 50, "building_safety": 20, "power_outage": 20, "street_light": 10},
}

_COMMUNITY_WEIGHTS = [
    1.2,
    1.0,
    0.9,
    1.1,
    1.2,
    0.9,
    1.3,
    1.4,
    0.8,
    1.5,
    1.0,
    0.8,
    0.9,
    0.7,
    1.1,
    0.8,
    0.9,
    0.7,
    1.0,
    0.9,
]

_CHANNELS = [Channel.phone, Channel.wechat, Channel.app, Channel.web, Channel.visit, Channel.meeting]
_CHANNEL_WEIGHTS = [90, 4.5, 2.5, 2.0, 0.7, 0.3]

#: Categories where several units are often called in (吹哨报到).
_WHISTLE = ["roof_leak", "building_safety", "old_renovation", "waterlogging", "neighbour_dispute", "sewer"]
_COMPLAINTS = ["noise", "street_vendor", "property_mgmt", "parking", "sanitation"]
_VULNERABLE_URGENT = ["roof_leak", "heating", "water_outage", "power_outage", "elevator", "gas"]

_KNOWN_UNITS = [u.id for u in UNITS]
_ON_DUTY = {u.id: u.on_duty for u in UNITS}


# --------------------------------------------------------------------------- generation


#: The share of requests that arrived during the current shift, and how far back it reaches.
BACKLOG_SHARE = 0.05
BACKLOG_WINDOW = timedelta(hours=3)


def demo_requests(seed: int, count: int, now: datetime) -> list[DemoRequest]:
    """`count` demo requests received before `now`, oldest first, with their histories.

    Deterministic: the same arguments give equal output. `now` must carry a timezone; every
    step happens at or before `now`.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a timezone")
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)
    gen = _Generator(rng, seed, now)
    return [gen.request(i, at) for i, at in enumerate(gen.arrival_times(count))]


class _Generator:
    def __init__(self, rng: random.Random, seed: int, now: datetime) -> None:
        self.rng = rng
        self.seed = seed
        self.now = now
        self.local_now = now.astimezone(BEIJING)
        month = self.local_now.month
        self.surge = "rainstorm" if 5 <= month <= 9 else "cold_wave" if month in (11, 12, 1, 2, 3) else "gale"
        # the surge: two days, starting mid-afternoon 8..20 days ago
        start_day = (self.local_now - timedelta(days=rng.randint(8, 20))).date()
        self.surge_start = datetime.combine(start_day, time(15, 0), BEIJING)
        self.surge_end = self.surge_start + timedelta(days=2)
        #: recent requests that later ones may duplicate
        self.recent: list[_Recent] = []
        #: callers who call again (one person, many complaints)
        self.regulars: list[tuple[str, str, str, str]] = []  # (name, phone, community, category)

    # ---- arrival times

    def arrival_times(self, count: int) -> list[datetime]:
        rng = self.rng
        times: list[datetime] = []
        for _ in range(count):
            roll = rng.random()
            if roll < BACKLOG_SHARE:  # this shift's incoming queue, still to triage
                at = self.now - timedelta(seconds=rng.uniform(60, BACKLOG_WINDOW.total_seconds()))
            elif roll < BACKLOG_SHARE + 0.15:
                at = self.surge_start + timedelta(seconds=rng.uniform(0, 2 * 86400))
                # more calls while it lasts in the evening and next morning, fewer deep at night
                if at.hour in (1, 2, 3, 4) and rng.random() < 0.6:
                    at += timedelta(hours=6)
            else:
                at = self._ordinary_time()
            at = min(at, self.now - timedelta(minutes=1))
            times.append(at.replace(microsecond=0))
        times.sort()
        return times

    def _ordinary_time(self) -> datetime:
        rng = self.rng
        for _ in range(50):
            day = (self.local_now - timedelta(days=rng.randrange(HISTORY.days))).date()
            hour = rng.choices(range(24), weights=_HOUR_WEIGHTS)[0]
            at = datetime.combine(day, time(hour), BEIJING) + timedelta(seconds=rng.randrange(3600))
            if at < self.now - timedelta(minutes=2):
                return at
        return self.now - timedelta(minutes=rng.randint(2, 600))

    # ---- one request

    def in_surge(self, at: datetime) -> bool:
        return self.surge_start <= at < self.surge_end

    def pick_category(self, at: datetime) -> str:
        rng = self.rng
        if self.in_surge(at) and rng.random() < 0.8:
            weights = _SURGES[self.surge]
            return rng.choices(list(weights), weights=list(weights.values()))[0]
        month = at.astimezone(BEIJING).month
        base = dict(_BASE_CATEGORY_WEIGHTS)
        if month in (11, 12, 1, 2, 3):
            base["heating"] = 8
        if 6 <= month <= 9:
            base["roof_leak"] = 6
            base["waterlogging"] = 3
            base["pest"] = 3
        return rng.choices(list(base), weights=list(base.values()))[0]

    def request(self, index: int, received: datetime) -> DemoRequest:
        rng = self.rng
        ref = f"demo-{self.seed}-{index:05d}"
        duplicate_of = self._duplicate_candidate(received)
        parent_ref: str | None = None
        if duplicate_of is not None:
            parent_ref, category, addr = duplicate_of.ref, duplicate_of.category, duplicate_of.address
            community = duplicate_of.community
        else:
            category = self.pick_category(received)
            community = rng.choices(COMMUNITIES, weights=_COMMUNITY_WEIGHTS)[0]
            addr = _address(rng, community.streets)
        channel = rng.choices(_CHANNELS, weights=_CHANNEL_WEIGHTS)[0]
        vulnerable = rng.random() < 0.08
        name, phone = self._caller(community.id, category)
        text = self._description(category, community.name, addr, vulnerable)
        lat, long = _coords(community.id, addr.building)
        req_type = _request_type(rng, category)
        cat = category_by_code(category)
        assert cat is not None
        tier: Tier | None = None
        if vulnerable and category in _VULNERABLE_URGENT and rng.random() < 0.5:
            tier = Tier.h2  # an elderly person alone: treat as an emergency
        new = NewRequest(
            channel=channel,
            type=req_type,
            category=category,
            description=text,
            location=Location(
                street=STREET_OFFICE, community=community.id, address=addr.full, lat=lat, long=long
            ),
            caller=Caller(name=name, phone=phone),
            vulnerable=vulnerable,
            received_at=received,
            tier=tier,
        )
        demo = DemoRequest(ref=ref, actor=rng.choice(_CALL_TAKERS), new=new)
        walk = _Walk(self.now)
        _history(rng, walk, demo, tier or cat.tier, parent_ref)
        demo.steps = walk.steps
        if parent_ref is None:
            self.recent.append(_Recent(ref, received, category, community, addr))
            del self.recent[:-60]
        return demo

    def _duplicate_candidate(self, received: datetime) -> _Recent | None:
        rng = self.rng
        chance = 0.14 if self.in_surge(received) else 0.015
        if not self.recent or rng.random() >= chance:
            return None
        window = [r for r in self.recent[-30:] if received - r.received <= timedelta(hours=48)]
        return rng.choice(window) if window else None

    def _caller(self, community: str, category: str) -> tuple[str, str]:
        rng = self.rng
        if self.regulars and rng.random() < 0.04:
            same = [r for r in self.regulars if r[2] == community] or self.regulars
            regular = rng.choice(same)
            return regular[0], regular[1]
        surname = rng.choice(_SURNAMES)
        title = rng.choices(["女士", "先生", "阿姨", "大爷"], weights=[46, 46, 4, 4])[0]
        name = "" if rng.random() < 0.02 else surname + title
        phone = rng.choice(_MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
        if name and rng.random() < 0.03:
            self.regulars.append((name, phone, community, category))
        return name, phone

    def _description(self, category: str, community: str, addr: _Address, vulnerable: bool) -> str:
        rng = self.rng
        slots = {
            "addr": addr.full,
            "bld_addr": addr.building,
            "place": addr.street,
            "floor": addr.floor or rng.randint(2, 6),
            "spot": rng.choice(_SPOTS),
            "days": rng.choice(_DAYS),
            "hours": rng.choice(_HOURS),
            "time": rng.choice(_TIMES),
            "night": rng.choice(_NIGHT),
            "temp": rng.randint(12, 16),
            "age": rng.randint(68, 91),
            "community": community,
        }
        body = rng.choice(_TEMPLATES[category]).format(**slots)
        opening = rng.choice(_OPENINGS).format(**slots)
        closing = rng.choice(_CLOSINGS)
        extra = rng.choice(_VULNERABLE) if vulnerable else ""
        return f"{opening}{body}{extra}{closing}"


@dataclass(frozen=True)
class _Recent:
    ref: str
    received: datetime
    category: str
    community: Community
    address: _Address


@dataclass(frozen=True)
class _Address:
    full: str  # down to the flat
    building: str  # down to the building
    street: str
    floor: int


def _address(rng: random.Random, streets: Sequence[str]) -> _Address:
    street = rng.choice(list(streets))
    compound = any(k in street for k in ("里", "院", "小区", "家园", "村", "丽景"))
    if compound:
        building = f"{street}{rng.randint(1, 24)}号楼"
        floors = rng.choice([5, 6, 6, 6, 16, 18, 22])
        floor = rng.randint(1, floors)
        unit = rng.randint(1, 6 if floors <= 6 else 3)
        full = f"{building}{unit}单元{floor}{rng.randint(1, 4):02d}"
        return _Address(full, f"{building}{unit}单元", street, floor)
    number = rng.randint(1, 120)
    if rng.random() < 0.5:
        building = f"{street}{number}号院{rng.randint(1, 8)}号楼"
        floor = rng.randint(1, 6)
        return _Address(f"{building}{floor}{rng.randint(1, 4):02d}", building, street, floor)
    return _Address(f"{street}{number}号", f"{street}{number}号", street, 1)


def _coords(community: str, building: str) -> tuple[float, float]:
    """A stable point near the community centre: the same building always lands on the same spot."""
    lat, long = COMMUNITY_CENTRES[community]
    jitter = random.Random(f"{community}/{building}")
    return round(lat + jitter.uniform(-0.0018, 0.0018), 6), round(long + jitter.uniform(-0.0022, 0.0022), 6)


def _request_type(rng: random.Random, category: str) -> RequestType:
    if category == "policy_enquiry":
        return RequestType.enquiry
    if category == "illegal_construction":
        return RequestType.tip_off if rng.random() < 0.6 else RequestType.complaint
    if category in _COMPLAINTS:
        return RequestType.complaint if rng.random() < 0.85 else RequestType.help
    roll = rng.random()
    if roll < 0.02 and category in ("tree", "parking", "old_renovation", "street_light", "road_damage"):
        return RequestType.suggestion
    if roll < 0.06:
        return RequestType.enquiry
    if roll < 0.12:
        return RequestType.complaint
    return RequestType.help


# --------------------------------------------------------------------------- histories


class _Walk:
    """Collects steps until one would fall after `now`."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.steps: list[DemoStep] = []
        self.at: datetime | None = None

    def step(self, at: datetime, actor: str, action: Action) -> bool:
        """Record the step; False (and nothing recorded) when it lies in the future."""
        if self.at is not None and at < self.at:
            at = self.at
        at = at.replace(microsecond=0)
        if at > self.now:
            return False
        self.steps.append(DemoStep(at=at, actor=actor, action=action))
        self.at = at
        return True


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def _office_hours(rng: random.Random, at: datetime, start: int = 8, end: int = 20) -> datetime:
    """`at`, or the next morning's office hours when it falls at night (Beijing time)."""
    local = at.astimezone(BEIJING)
    if local.hour < start:
        local = datetime.combine(local.date(), time(start), BEIJING)
    elif local.hour >= end:
        local = datetime.combine(local.date() + timedelta(days=1), time(start), BEIJING)
    else:
        return at
    return (local + _minutes(rng, 0, 90)).astimezone(at.tzinfo)


def _lead_and_co(
    rng: random.Random, category: str, community: str, vulnerable: bool
) -> tuple[str, list[str]]:
    units = [u for u in suggested_units(category, community) if _ON_DUTY[u]]
    specific = [u for u in units if u != FALLBACK_UNIT] or [FALLBACK_UNIT]
    lead = specific[0]
    co: list[str] = []
    if category in _WHISTLE and rng.random() < 0.4:
        pool = [u for u in specific[1:] if u != lead]
        co = pool[: rng.randint(1, 3)]
    office = community_office(community)
    if (
        vulnerable
        and office
        and _ON_DUTY.get(office)
        and office != lead
        and office not in co
        and rng.random() < 0.6
    ):
        co.append(office)
    return lead, co


def _wrong_unit(rng: random.Random, category: str, community: str, right: str) -> str:
    wrong = [
        u
        for u in _KNOWN_UNITS
        if u != right and _ON_DUTY[u] and u not in suggested_units(category, community) and u != FALLBACK_UNIT
    ]
    return rng.choice(wrong) if wrong else FALLBACK_UNIT


def _history(rng: random.Random, walk: _Walk, demo: DemoRequest, tier: Tier, parent_ref: str | None) -> None:
    """Append the steps that follow intake, stopping at the first one after `now`."""
    new = demo.new
    assert new.received_at is not None
    received = new.received_at
    category, community = new.category, new.location.community
    dispatcher = rng.choice(_DISPATCHERS)
    urgent = tier is Tier.h2
    if received >= walk.now - BACKLOG_WINDOW and not urgent and rng.random() < 0.85:
        return  # waiting in the incoming queue for the dispatcher on shift

    # 派单: a few minutes after intake; ordinary orders wait for the morning shift
    if urgent:
        t = received + _minutes(rng, 3, 15)
    elif rng.random() < 0.7:
        t = received + _minutes(rng, 5, 50)
    else:  # waits in the pool for a while
        t = received + _minutes(rng, 60, 360)
    if not urgent:
        t = _office_hours(rng, t, 7, 22)
    lead, co = _lead_and_co(rng, category, community, new.vulnerable)

    if parent_ref is not None:
        # a duplicate of an earlier request: merged (often straight away, sometimes after dispatch)
        if rng.random() < 0.25 and not walk.step(t, dispatcher, Dispatch(lead_unit=lead)):
            return
        if rng.random() < 0.75:
            walk.step(t + _minutes(rng, 2, 60), dispatcher, Merge(parent_id=parent_ref))
            return
        # a duplicate nobody noticed is handled on its own

    if rng.random() < 0.06:
        # wrong owner: the unit hands it back (退单) and it goes out again
        wrong = _wrong_unit(rng, category, community, lead)
        if not walk.step(t, dispatcher, Dispatch(lead_unit=wrong)):
            return
        t += _minutes(rng, 15, 240)
        if rng.random() < 0.3:
            if not walk.step(t, wrong, Accept()):
                return
            t += _minutes(rng, 30, 300)
        if not walk.step(t, wrong, Return(reason=rng.choice(_RETURN_REASONS))):
            return
        t += _minutes(rng, 10, 240)
    if not walk.step(t, dispatcher, Dispatch(lead_unit=lead, co_units=co)):
        return

    due = received + tier.duration
    for round_ in range(3):
        done = _handle(rng, walk, category, lead, tier, due, round_)
        if done is None:
            return
        t, due = done
        outcome = _callbacks(rng, walk, t, round_)
        if outcome is None:
            return
        t, closed = outcome
        if closed:
            if rng.random() < 0.006:  # the citizen calls again after closing
                t = _office_hours(rng, t + timedelta(hours=rng.uniform(12, 96)))
                if not walk.step(t, dispatcher, Reopen(reason=_REOPEN_REASONS[2])):
                    return
                continue
            return
        # the callback left it callback_logged: reopen for re-handling, or close with an explanation
        last = walk.steps[-1].action
        assert isinstance(last, LogCallback)
        unhappy = last.satisfaction is Satisfaction.not_satisfied
        reopen = rng.random() < (0.85 if unhappy else 0.35) and round_ < 2
        t += _minutes(rng, 10, 180)
        if reopen:
            if not walk.step(t, dispatcher, Reopen(reason=rng.choice(_REOPEN_REASONS[:2]))):
                return
            continue
        walk.step(t, dispatcher, Close(reason=rng.choice(_CLOSE_REASONS)))
        return


def _handle(
    rng: random.Random, walk: _Walk, category: str, lead: str, tier: Tier, due: datetime, round_: int
) -> tuple[datetime, datetime] | None:
    """签收, maybe notes and 延期, then 办结. Returns (resolved at, due) or None when cut off by `now`."""
    assert walk.at is not None
    t = walk.at
    if round_ > 0:  # reopened at `t`: the state machine gives a fresh deadline of the tier
        due = t + tier.duration
    window = response_window(tier)
    if rng.random() < 0.95:
        t += timedelta(seconds=rng.uniform(120, window.total_seconds() * 0.9))
    else:
        t += window + _minutes(rng, 5, 180)
    if not walk.step(t, lead, Accept()):
        return None
    if rng.random() < 0.3:
        t += _minutes(rng, 5, 120)
        if not walk.step(t, lead, AddNote(text=rng.choice(_NOTES))):
            return None
    extend_chance = {Tier.h2: 0.0, Tier.h24: 0.03, Tier.d7: 0.07, Tier.d15: 0.25}[tier]
    if rng.random() < extend_chance and due - t > timedelta(hours=1):  # 延期 is asked before the deadline
        before_due = t + (due - t) * rng.uniform(0.3, 0.9)
        new_due = due + (timedelta(days=2) if tier is Tier.h24 else timedelta(days=7))
        if not walk.step(before_due, lead, Extend(reason=rng.choice(_EXTEND_REASONS), new_due_at=new_due)):
            return None
        t, due = before_due, new_due
    # 办结: mostly in time, some late
    remaining = max(due - t, timedelta(minutes=20))
    if rng.random() < 0.93:
        t += timedelta(seconds=remaining.total_seconds() * rng.uniform(0.15, 0.95))
    else:
        t = max(t, due) + timedelta(seconds=tier.duration.total_seconds() * rng.uniform(0.05, 0.5))
    summary = rng.choice(_SUMMARIES.get(category, _GENERIC_SUMMARIES))
    if not walk.step(t, lead, Resolve(summary=summary)):
        return None
    return t, due


def _callbacks(rng: random.Random, walk: _Walk, t: datetime, round_: int) -> tuple[datetime, bool] | None:
    """回访 after 办结: maybe unreached attempts, then one reached callback.

    Returns (time, closed) — closed when the reached callback closed the request by itself —
    or None when cut off by `now` or when the citizen was never reached.
    """
    agent = rng.choice(_CALLBACK_AGENTS)
    t = _office_hours(rng, t + _minutes(rng, 60, 1440), 9, 19)
    attempts = 0
    while rng.random() < 0.06:
        if not walk.step(t, agent, LogCallback(reached=False, note=rng.choice(_UNREACHED_NOTES))):
            return None
        attempts += 1
        if attempts >= 2 and rng.random() < 0.5:
            return None  # never reached: the request stays resolved
        t = _office_hours(rng, t + _minutes(rng, 180, 1440), 9, 19)
    solved_roll, happy_roll = rng.random(), rng.random()
    first = round_ == 0
    solved = solved_roll < (0.955 if first else 0.9)
    if solved:
        satisfaction = (
            Satisfaction.satisfied
            if happy_roll < 0.992
            else Satisfaction.basically
            if happy_roll < 0.996
            else Satisfaction.not_satisfied
        )
    else:
        satisfaction = (
            Satisfaction.satisfied
            if happy_roll < 0.8
            else Satisfaction.basically
            if happy_roll < 0.9
            else Satisfaction.not_satisfied
        )
    note = "诉求人表示问题已解决。" if solved else "诉求人表示问题尚未解决。"
    callback = LogCallback(reached=True, solved=solved, satisfaction=satisfaction, note=note)
    if not walk.step(t, agent, callback):
        return None
    closes = solved and satisfaction in (Satisfaction.satisfied, Satisfaction.basically)
    return t, closes


# --------------------------------------------------------------------------- replay and seeding


def initial_request(new: NewRequest, request_id: str, *, version: int = 1) -> Request:
    """The request as a store holds it right after intake (state new, due = received + tier)."""
    assert new.received_at is not None
    cat = category_by_code(new.category)
    tier = new.tier or (cat.tier if cat is not None else Tier.d7)
    return intake(new, request_id=request_id, tier=tier, now=new.received_at).model_copy(
        update={"version": version}
    )


def replay(demo: DemoRequest, request_id: str | None = None) -> Request:
    """The request after all its steps, applied with `apply_action` at each step's time.

    Raises `TransitionRefused` if a step is not allowed (which would be a bug here).
    """
    request = initial_request(demo.new, request_id or demo.ref)
    for step in demo.steps:
        request = apply_action(request, step.action, actor=step.actor, now=step.at, known_units=_KNOWN_UNITS)
    return request


def seed_store(
    store: Store,
    *,
    seed: int = 12345,
    count: int = 2000,
    now: datetime | None = None,
    backdate: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write `count` demo requests and their histories into `store`; return how many were created.

    Every intake and action goes through the `Store` protocol (`create_request`, then `apply`
    with `if_match` = the version just returned), interleaved across requests in time order,
    so the change feed reads like a month of real work.

    All writes are one transaction (`store.batch()`). With `backdate` (the default) the store's
    clock is set to each step's time while it is written, so state timestamps
    (dispatched_at, accepted_at, callbacks ...), audit times and the three rates are those of
    the demo history rather than all "now"; it is restored afterwards. Seed before serving:
    other writes made meanwhile would be stamped with demo times too.

    `progress(done, total)` is called every 500 writes and at the end. Seeding the same store
    twice adds the requests again (no idempotency keys are used).
    """
    now = now or datetime.now(UTC)
    demos = demo_requests(seed, count, now)
    events: list[tuple[datetime, int, int]] = []
    for i, demo in enumerate(demos):
        assert demo.new.received_at is not None
        events.append((demo.new.received_at, i, -1))
        events.extend((step.at, i, j) for j, step in enumerate(demo.steps))
    events.sort()

    original_clock = store.clock
    moment = [now]
    if backdate:
        store.clock = lambda: moment[0]
    ids: dict[str, str] = {}
    versions: dict[int, int] = {}
    total = len(events)
    try:
        with store.batch():
            for done, (at, i, j) in enumerate(events, start=1):
                moment[0] = at.astimezone(UTC)
                demo = demos[i]
                if j < 0:
                    created = store.create_request(demo.new, actor=demo.actor, idempotency_key=None).request
                    ids[demo.ref] = created.id
                    versions[i] = created.version
                else:
                    step = demo.steps[j]
                    action = step.action
                    if isinstance(action, Merge):
                        action = Merge(parent_id=ids[action.parent_id])
                    outcome = store.apply(
                        ids[demo.ref], action, actor=step.actor, if_match=versions[i], idempotency_key=None
                    )
                    versions[i] = outcome.request.version
                if progress is not None and (done % 500 == 0 or done == total):
                    progress(done, total)
    finally:
        store.clock = original_clock
    return len(demos)
