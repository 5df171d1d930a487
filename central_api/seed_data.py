"""The demo data's tables: who works the hotline, what citizens say, and how calls spread over
the day, the categories, the communities and the channels (`central_api.seed` draws from them, and
so does `central_api.storm`). Data only."""

from __future__ import annotations

from datetime import timedelta, timezone

from api_client.models import Channel

#: Beijing time (UTC+08:00, no daylight saving). Requests are generated in local time.
BEIJING = timezone(timedelta(hours=8), "CST")
#: How far back the demo data reaches.
HISTORY = timedelta(days=30)
#: The share of requests that arrived during the current shift, and how far back it reaches.
BACKLOG_SHARE = 0.05
BACKLOG_WINDOW = timedelta(hours=3)

# --------------------------------------------------------------------------- people

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
#: Mobile number prefixes of the three carriers (134 and 154 left out).
MOBILE_PREFIXES = [
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
CALL_TAKERS = ["话务-李娜", "话务-郑爽", "话务-高远", "话务-孙倩", "话务-马骁", "话务-许晴"]
DISPATCHERS = ["派单-张丽", "派单-王磊", "派单-刘洋", "派单-陈静", "派单-杨帆"]
CALLBACK_AGENTS = ["回访-赵敏", "回访-孙悦", "回访-周婷", "回访-吴昊"]

# --------------------------------------------------------------------------- texts

DAYS = ["两天", "三天", "四五天", "一个星期", "好几天", "半个多月"]
HOURS = ["两个多小时", "大半天", "一整天", "十几个小时", "一晚上"]
TIMES = ["昨天晚上", "今天早上六点多", "今天上午", "中午", "夜里十一点多", "凌晨两点"]
NIGHT = ["晚上十点以后", "夜里十二点", "凌晨", "早上六点", "半夜"]
SPOTS = [
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

TEMPLATES: dict[str, list[str]] = {
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
OPENINGS = ["", "", "", "", "您好，", "你好，", "我是{community}的居民，", "喂，您好，我反映个事儿，"]
CLOSINGS = [
    "",
    "",
    "麻烦尽快派人来看看。",
    "希望尽快解决。",
    "之前反映过一次，一直没人管。",
    "家里有老人孩子，比较着急。",
    "谢谢。",
    "请给我回个电话。",
]
VULNERABLE = [
    "家里就我一个老人，腿脚不好，实在没办法了。",
    "我是独居老人，子女不在身边。",
    "家里有残疾人，行动不便。",
    "老伴卧床，家里就我一个人照顾。",
    "我八十多了，一个人住，心脏也不好。",
]
RETURN_REASONS = [
    "经核实，该事项不属于本单位职责范围，请重新派单。",
    "该楼为产权单位自管房，不在本单位服务范围内。",
    "诉求地址不在本辖区，请核实后改派。",
    "经现场核实，该设施产权属于其他单位，请改派。",
]
EXTEND_REASONS = [
    "需协调产权单位筹措维修资金，申请延期。",
    "维修材料需要订货，预计一周后到货。",
    "需召开居民议事会协商方案，申请延期。",
    "涉及多个部门，需联合踏勘后确定方案。",
    "施工受天气影响，申请顺延。",
]
NOTES = [
    "已电话联系诉求人，约定明天上午上门查看。",
    "已到现场查看，正在协调维修。",
    "已吹哨产权单位、物业和相关科室，明日联合踏勘。",
    "已与诉求人沟通，说明处理进度。",
    "维修人员已进场。",
]
SUMMARIES: dict[str, list[str]] = {
    "roof_leak": ["已对楼顶防水层进行修补，雨后复查不再渗漏。", "已更换漏雨部位防水卷材，并清理室内积水。"],
    "waterlogging": ["已组织抽排，积水已排除，雨水口已清掏。"],
    "heating": ["已对管线放风调试，室温恢复达标。", "已更换漏水暖气片阀门。"],
    "door_access": ["已更换单元门禁主机和电磁锁，门禁恢复正常。"],
    "noise": ["已责令施工单位停止夜间施工，并办理夜间施工许可核查。", "已约谈商户，整改排风设备。"],
    "policy_enquiry": ["已电话答复诉求人相关政策和办理流程。"],
}
GENERIC_SUMMARIES = [
    "已上门查看并处理完毕，诉求人认可。",
    "已安排维修，现已恢复正常。",
    "已协调相关单位处理完毕。",
    "已现场整改完成。",
]
CLOSE_REASONS = [
    "诉求超出政策范围，已做好解释说明，诉求人表示理解。",
    "已多次协调，诉求人认可处理结果。",
]
REOPEN_REASONS = [
    "回访诉求人不满意，退回重办。",
    "诉求人反映问题仍未解决，重新办理。",
    "诉求人再次来电反映同一问题，重新办理。",
]
UNREACHED_NOTES = ["电话无人接听。", "电话关机。", "电话占线，未接通。"]

# --------------------------------------------------------------------------- weights

#: Relative call volume per hour of the day (Beijing time): peaks 09–11 and 14–16.
HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.3, 0.5, 1.5, 4, 8, 12, 12, 9, 6, 6, 11, 12, 10, 7, 5, 4, 3.5, 3, 2, 1.5]

BASE_CATEGORY_WEIGHTS: dict[str, float] = {
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
SURGES: dict[str, dict[str, float]] = {
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

COMMUNITY_WEIGHTS = [
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

CHANNELS = [Channel.phone, Channel.wechat, Channel.app, Channel.web, Channel.visit, Channel.meeting]
CHANNEL_WEIGHTS = [90, 4.5, 2.5, 2.0, 0.7, 0.3]

#: Categories where several units are often called in (吹哨报到).
WHISTLE = ["roof_leak", "building_safety", "old_renovation", "waterlogging", "neighbour_dispute", "sewer"]
COMPLAINTS = ["noise", "street_vendor", "property_mgmt", "parking", "sanitation"]
VULNERABLE_URGENT = ["roof_leak", "heating", "water_outage", "power_outage", "elevator", "gas"]
