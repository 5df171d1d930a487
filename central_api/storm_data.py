"""The storm's tables: the places water gathers, how callers say places and spots, their typing
slips, what they say about leaks, floods, outages and fallen trees, and the kinds of incident with
their shares and report counts (`central_api.storm` draws from them). Data only."""

from __future__ import annotations

#: Where water gathers on public roads: (street, spot), the spot as people name it.
UNDERPASSES = [
    ("北三环中路", "马甸桥下"),
    ("德胜门外大街", "德胜门桥下"),
    ("北三环中路", "裕中桥下"),
    ("新街口外大街", "铁路桥下"),
    ("黄寺大街", "下穿通道"),
    ("安德路", "铁路桥涵洞"),
]
#: Other ways to say a spot (as callers do).
SPOT_SAYINGS: dict[str, list[str]] = {
    "路口": ["路口", "十字路口", "交叉口", "路口那儿"],
    "公交站旁边": ["公交站旁边", "公交车站", "公交站附近", "车站边上"],
    "小区南门": ["小区南门", "南门口", "小区南门外"],
    "菜市场门口": ["菜市场门口", "菜市场前面", "菜市场那儿"],
    "便利店门口": ["便利店门口", "便利店前面", "超市门口"],
    "过街天桥下": ["过街天桥下", "天桥底下", "过街桥下面"],
    "学校门口": ["学校门口", "小学门口", "学校大门外"],
    "北口": ["北口", "北边路口", "北头"],
    "东侧": ["东侧", "东边", "东面"],
    "马甸桥下": ["马甸桥下", "马甸桥底下", "马甸桥下面辅路", "马店桥下"],
    "德胜门桥下": ["德胜门桥下", "德胜门桥底下", "德胜门立交桥下"],
    "裕中桥下": ["裕中桥下", "裕中桥底下", "裕中桥那个下凹桥"],
    "铁路桥下": ["铁路桥下", "火车桥底下", "铁道桥下面"],
    "下穿通道": ["下穿通道", "地下通道", "下穿隧道"],
    "铁路桥涵洞": ["铁路桥涵洞", "涵洞", "铁路桥底下涵洞"],
}
#: Typing slips of a pinyin input method: a homophone instead of the right character.
HOMOPHONES = {
    "德": "得",
    "胜": "盛",
    "区": "去",
    "里": "理",
    "旗": "棋",
    "杆": "竿",
    "甸": "店",
    "寺": "四",
    "裕": "玉",
    "康": "糠",
    "湖": "胡",
    "明": "名",
    "风": "峰",
    "安": "按",
}

RAIN_SINCE = ["从下午开始", "刚才", "雨一大就", "从三点多开始", "半个小时前", "这一下午", "昨天夜里开始"]
LEAK_DETAILS = [
    "用盆接都接不过来",
    "天花板的墙皮都泡掉了",
    "灯口那里也在往下滴水，怕漏电",
    "床和柜子都湿了",
    "墙上全是水印子",
    "屋里地上全是水",
    "家里的电器都拿塑料布盖上了",
    "顺着墙往下流",
]
ROOF = [
    "{addr}，顶楼漏雨了，{since}雨水顺着天花板往下流，{detail}。",
    "我家住{bld}顶层，这么大雨屋顶漏了，{detail}，麻烦赶紧派人来。",
    "{addr}，楼顶漏水，我们这层好几家都漏了，{detail}。",
    "房顶漏雨，{detail}。地址是{addr}。",
    "{addr}，{since}屋里开始滴水，卧室和客厅都漏，{detail}。",
    "顶层漏雨！{addr}，{detail}，物业电话打不通。",
    "{bld}的楼顶防水不行了，我家{floor}层，{since}一直漏，{detail}。",
]
HOUSE_LEAK = [
    "{addr}，窗户往屋里渗水，窗台下面全湿了，{detail}。",
    "{addr}，外墙渗水，卧室墙面都湿透了，{detail}。",
    "下大雨我家阳台往里灌水，{detail}，地址{addr}。",
]
COMPOUND_WATER = [
    "{place}积水特别深，快没过膝盖了，{bldno}门口的水都往楼道里灌了。",
    "我们{place}全是水，下水道排不出去，车都泡了一半。",
    "{place}{bldno}门口积水很深，老人出不了门，{since}一直没退。",
    "{place}里水排不出去，一楼住户家门口都进水了，赶紧来抽水。",
    "{place}积水，地势低，每次下雨都淹，这回更厉害，{bldno}那边最深。",
]
ROAD_WATER = [
    "{place}积水太深了，有辆车熄火泡在里面了，太危险了。",
    "{place}全淹了，车过不去，行人也过不去，赶紧封路吧。",
    "路过{place}，积水都到车门了，赶紧派人来排水。",
    "{place}的水有半米多深，公交车都停了，请尽快处理。",
    "{place}积水很深，看着有一米了，还有人往里开车，得有人管一管。",
    "我在{place}，水太深了，电动车都被冲倒了。",
]
BASEMENT = [
    "{bld}地下室进水了，水还在往里灌，里面放着不少东西。",
    "{bld}地下车库进水了，好多车泡在水里，赶紧来抽水。",
    "{bld}的地下室淹了，水快到台阶了，底下还住着人。",
]
OUTAGE = [
    "{place}整个小区都停电了，{since}就没电，冰箱里的东西都要坏了。",
    "{addr}停电了，问了邻居也都没电，已经{hours}了。",
    "{place}{bldno}没电了，整个院都黑着，家里有老人用制氧机，很着急。",
    "{place}停电了，供电那边说在抢修，到底什么时候能来电？",
    "{addr}，雨下大了以后就停电了，整片都没电。",
]
OUTAGE_LIFT = [
    "{bld}停电了，电梯也停了，我家老人在{floor}层下不来。",
    "{bld}一停电电梯就停了，有人被困在电梯里了，赶紧来人！",
]
OUTAGE_WATER = [
    "{place}停电以后水泵也停了，{bldno}楼上都没水了。",
    "{addr}，停电了，二次供水的泵不转，{floor}层一点水都没有。",
]
TREE = [
    "{place}一棵大树被风刮倒了，横在路上，车过不去。",
    "{place}大树倒了压在一辆车上，树枝还搭在电线上。",
    "{place}有棵树被雨泡倒了，把人行道堵死了。",
    "{place}的大树折了，好大一根树枝掉在路中间。",
]
DRAIN = [
    "{place}雨水箅子堵了，水下不去，路面全是水。",
    "{place}下水道堵了，脏水往外冒。",
    "{place}雨水口被树叶和垃圾堵住了，水排不走。",
]
LIFT = [
    "{bld}电梯停了，底坑进水了，{floor}层的老人下不了楼。",
    "{bld}电梯不走了，物业说进水了得等雨停，我们住{floor}层怎么办？",
    "{bld}电梯进水停运了，家里有残疾人出不了门。",
]
AGAIN = [
    "我一个小时前打过电话了，到现在还没人来，",
    "刚才已经反映过了，再催一下，",
    "第二次打电话了，",
]
HOURS_SAID = ["一个多小时", "两个小时", "大半天", "好几个小时", "四十分钟"]

# ordinary requests that go on during the storm (and in buildings near the storm's incidents)
ORDINARY = {
    "noise": 3,
    "parking": 3,
    "property_mgmt": 3,
    "policy_enquiry": 4,
    "door_access": 2,
    "sanitation": 2,
    "street_light": 2,
    "gas": 1,
    "pest": 1,
}
#: Different problems in the same building (near-misses of a building's incident).
OTHER_IN_BUILDING = ["door_access", "elevator", "gas", "property_mgmt", "sewer", "street_light", "pest"]

#: Kinds of storm incident: (share of storm requests, category, scope).
KINDS: dict[str, tuple[float, str]] = {
    "roof": (0.36, "roof_leak"),
    "house_leak": (0.13, "roof_leak"),
    "road_water": (0.11, "waterlogging"),
    "compound_water": (0.10, "waterlogging"),
    "basement": (0.04, "waterlogging"),
    "outage": (0.07, "power_outage"),
    "tree": (0.05, "tree_hazard"),
    "drain": (0.04, "sewer"),
    "lift": (0.02, "elevator"),
    "ordinary": (0.08, ""),
}
#: Mean reports per incident of a kind (see `central_api.storm`).
MEAN_REPORTS = {
    "roof": 2.3,
    "house_leak": 1.0,
    "road_water": 6.5,
    "compound_water": 3.2,
    "basement": 1.9,
    "outage": 4.5,
    "tree": 1.7,
    "drain": 1.4,
    "lift": 1.5,
    "ordinary": 1.0,
}
#: How long after an incident starts its reports come in (mean minutes of an exponential).
REPORT_DELAY_MIN = {
    "roof": 35,
    "road_water": 25,
    "compound_water": 30,
    "basement": 30,
    "outage": 15,
    "tree": 25,
    "drain": 30,
    "lift": 25,
}
