"""Regex patterns and small vocabularies for entity work (classification, rankings, policies).

Everything textual that the entity code matches lives here so that tuning happens in one place.
Inputs are assumed to be normalized by `pipelines.text.normalize_text` (NFKC: ASCII `:,()%`,
single spaces). Patterns are structural (question shapes, hospital-name suffixes, "X位医生",
"地址 :" cues); no seed-specific hospital or place names appear here.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- classification
# A page asks "which hospital is best/ranked for <condition> in <region>".
RANKING_TITLE = re.compile(
    r"医院排名|医院排行|医院榜|(?:哪个|哪家|哪所|哪些|什么)医院|医院有哪些|医院推荐|推荐.{0,4}医院"
    r"|去哪[个家所里儿]?(?:医院|看|治)|哪里(?:看|治)|最好的医院|好的医院|(?:看|治).{0,3}哪[个家]好"
    r"|医院哪[家个所](?!科|医生|位|专家|大夫)|哪家医院|十大医院|医院前十|医院top|治疗.{1,20}的医院$"
)
# Rarer title shapes, tried on titles containing 哪 only (keeps the common scan short): 哪家中医院好,
# 哪个儿童医院好 (a kind of hospital between the question word and 医院), 看皮肤病哪里好.
RANKING_TITLE_MORE = re.compile(
    r"哪[个家所](?:中|中医|中西医结合|专科|私立|公立|民营|三甲|二甲|儿童|妇幼|妇产|妇科|男科|眼科|口腔|肿瘤|骨科|皮肤病?"
    r"|精神|整形|美容|康复|胸科|耳鼻喉|肛肠|传染病)医院|(?:看|治)[^,，。?？]{1,8}哪里好"
)
# "广州十佳肿瘤医院": a title with 医院 and one of these words ranks hospitals (plain `in` checks:
# a gapped regex alternative made every classification ~30% slower).
RANKING_TOP_WORDS = ("十佳", "十强", "十大", "最佳", "顶尖")
# The same for English titles (lower-cased; only tried on ASCII titles).
RANKING_TITLE_EN = re.compile(
    r"best (?:[a-z'’-]+ ){0,2}hospitals?|top \d* ?(?:[a-z'’-]+ )?hospitals|hospital rankings?|which hospitals?"
    r"|hospitals? (?:for|to treat)"
)
# A question about one hospital's own facts (grade, ownership): not a ranking.
HOSPITAL_FACT_TITLE = re.compile(
    r"医院(?:是)?(?:几甲|几级|什么级别|哪个级别|等级|是公立|是私立|是民营|是正规|正规吗|怎么样|地址|电话|挂号|上班时间)"
    r"|几甲|是三甲吗|是二甲吗"
)
POLICY_KEYWORDS = re.compile(
    r"医保|社保|养老金|养老保险|退休金|报销|缴费|缴纳|参保|补缴|补交|断缴|断交|停缴|停保|医疗保险|社会保险|社会保障"
    r"|失业保险|工伤保险|生育保险|公积金|统筹|异地就医|备案|个人账户|电子凭证|医保码|新农合|大病保险|医疗救助"
    r"|长期护理保险|长护险|生育津贴|失业金|退休工资|灵活就业"
    r"|insurance|social security|pension|reimburse"
)  # callers lower-case text with ASCII letters: IGNORECASE makes `re` several times slower
# Insurance words that mark a policy TITLE only (门诊特殊病种有哪些); kept out of POLICY_KEYWORDS, which
# also scans bodies, where every extra alternative costs on every page.
POLICY_TITLE_MORE = re.compile(r"慢特病|特殊病种|门诊慢性病|门诊特殊病|起付|封顶线|支付限额|退休年龄|岁退休|延迟退休|视同缴费|缴费年限"
                               r"|补助标准|补贴标准|津贴标准|医疗补助|大额医疗|(?:每年|每月|一年|一个月)要?(?:交|缴)多少"
                               r"|maternity allowance|maternity leave|unemployment benefit|provident fund|housing fund")
# A ranking-shaped title about insurance rules for hospitals (异地就医哪些医院可以直接结算, 哪些医院能用医保报销)
# asks a policy question, not which hospital treats a condition best.
POLICY_OVER_RANKING = re.compile(r"直接结算|异地就医|医保定点|定点医院|报销|备案|医保卡|刷医保")
# Body evidence for untitled/ambiguous pages: this many distinct policy keywords near the start.
POLICY_BODY_MIN_KEYWORDS = 3
BODY_LEAD_REGION_CHARS = 16  # a policy answer opening with a place (成都长期护理保险…) is about it
BODY_EVIDENCE_CHARS = 300

# --------------------------------------------------------------------------- policy topics
# Ordered: the first topic whose pattern matches the title (then the body) wins.
POLICY_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (topic, re.compile(pattern))
    for topic, pattern in (
        ("医保码/电子凭证", r"医保码|电子凭证|电子社保卡|electronic (?:medical insurance )?certificate"),
        ("密码", r"密码|password"),
        ("激活", r"激活|activat"),
        ("异地就医", r"异地|跨省|转诊|备案"),
        ("补缴", r"补缴|补交|往前交|追缴|back ?pay"),
        ("断缴/停缴", r"断缴|断交|停缴|停保|停交|暂停参保|中断|不交了|没交"),
        ("养老金", r"养老金|退休金|(?:能|可以|每月|退休)?(?:领|拿)(?:多少|取)|pension"),
        ("缴费比例", r"缴费比例|缴纳比例|缴存比例|费率|扣费比例|contribution rates?|insurance rates?\b"),
        ("缴费基数", r"基数|缴费档次|几档"),
        ("缴费金额", r"(?:交|缴|缴纳|扣|缴费)(?:多少|标准|金额)|每月要多少钱|一年多少钱|费用"
                 r"|how much (?:is|does|do) .{0,40}(?:premium|cost|pay)|(?:annual|monthly|individual) premium"),
        # 个人账户 before 退休待遇: "退休人员个人账户…" asks about the account, 退休 only says whose
        ("个人账户", r"个人账户|余额|钱用完|钱没了|钱不够|额度|家庭共济|家里的|personal account|mutual aid"),
        # 长期护理保险待遇 is care paid for (报销), not a pension benefit
        ("退休待遇", r"退休|待遇(?<!护理保险待遇)(?<!长护险待遇)"),
        ("报销", r"报销|统筹|自费|结算|起付|支付限额|封顶线|慢特病|特殊病种|门诊慢性病|门诊特殊病|长期护理|长护险|reimburse"),
        ("医保卡", r"医保卡|医保号|卡号|insurance (?:number|card)"),
        ("社保卡", r"社保卡|社会保障卡|社会保障号|social security (?:card|number)"),
        ("参保", r"参保|投保|办理医保|医保(?:怎么|如何|在哪)?办理|insured|registration"),
    )
)
POLICY_TOPIC_OTHER = "其他"

# Insurance schemes: canonical name -> literal surface forms (English ones lower-case; callers
# lower-case the text). Matched with one Aho-Corasick automaton, leftmost-longest, so 职工医保 hides
# the 医保 inside it.
INSURANCE_SURFACES: dict[str, tuple[str, ...]] = {
    "城乡居民医保": ("城乡居民基本医疗保险", "城乡居民医疗保险", "城乡居民医保", "城乡医保"),
    "职工医保": ("城镇职工基本医疗保险", "职工基本医疗保险", "职工医疗保险", "城镇职工医保", "职工医保"),
    "居民医保": ("居民基本医疗保险", "居民医疗保险", "居民医保"),
    "养老保险": ("基本养老保险", "养老保险", "pension insurance"),
    "医疗保险": ("基本医疗保险", "医疗保险", "医保", "medical insurance"),
    "失业保险": ("失业保险", "失业金", "unemployment insurance"),
    "工伤保险": ("工伤保险", "工伤", "work-related injury insurance"),
    "生育保险": ("生育保险", "maternity insurance"),
    "社会保险": ("社会保险", "社保", "social insurance", "social security"),
    "住房公积金": ("住房公积金", "公积金"),
}
INSURANCE_OF_SURFACE = {surface: name for name, forms in INSURANCE_SURFACES.items() for surface in forms}
# Insurance items that label figures ("养老保险 个人缴费比例"); generic 医保/社保 are not used.
ITEM_SCHEMES = frozenset({"城乡居民医保", "职工医保", "居民医保", "养老保险", "医疗保险", "失业保险", "工伤保险",
                          "生育保险", "住房公积金"})
# An item opening a section ("一、医疗保险…", " 养老保险 :") stays in force until the next one:
# it is preceded by one of these characters (or starts the text).
HEADING_BEFORE = frozenset("。 \n")
HEADING_NUMERALS = frozenset("一二三四五六七八九十0123456789")
# Surface forms that name an item fully enough to label a figure.
ITEM_SURFACES = ("养老保险", "基本养老保险", "医疗保险", "基本医疗保险", "失业保险", "工伤保险", "生育保险", "公积金",
                 "住房公积金", "职工医保", "城镇职工医保", "居民医保", "城乡居民医保", "城乡医保", "职工基本医疗保险",
                 "居民基本医疗保险", "城乡居民基本医疗保险", "职工医疗保险", "居民医疗保险", "城乡居民医疗保险",
                 "城镇职工基本医疗保险")

# --------------------------------------------------------------------------- hospital names
# Hospital-name suffixes, longest first. "院区/分院" branches are appended by BRANCH_SUFFIX.
HOSPITAL_SUFFIX = re.compile(
    r"(?:妇幼保健院|妇幼保健计划生育服务中心|精神卫生中心|医学中心|医疗中心|卫生服务中心|健康服务中心|卫生院|保健院|医院|疗养院|诊所|门诊部"
    r"|防治中心|防治院|眼科中心|临床中心)"
)
BRANCH_SUFFIX = re.compile(
    r"第[一二三四五六七八九十\d]{1,3}(?:医学中心|分院|院区)|[\u4e00-\u9fff〇0-9]{0,6}?(?:分院|院区|分部)"
    r"|[东南西北]院(?![区长士内外办务系部])"  # 北京安贞医院南院
)
# Characters a hospital name may NOT contain (names are CJK, 〇, digits, Latin letters, ·).
# A run of name characters, matched on a REVERSED window (`.match` at 0 is cheap; a `$`-anchored
# search would be tried at every position).
NAME_CHARS_RUN = re.compile(r"[\u4e00-\u9fff〇0-9A-Za-z·]*")
# Words that end a leftward scan: the name starts right after them.
NAME_LEFT_STOPS = re.compile(
    r"的话|或者|个人觉得|觉得|认为|感觉|包括|包含|例如|比如|譬如|推荐|首选|建议|可选择|选择|可选|可以|前往|可去|考虑|考察|了解|咨询|查询|比较|对比|同时|去|到|至|在(?!线)|于|由|如|以|为|是|有|"
    r"和|与|及|或|并|但|其中|其次|其他|其它|其余|其实|另外|此外|还有|以及|的|了|被|让|将|把|给|从|对|跟|即|及其|其|也|就|则|"
    r"而|还|作为|属于|位于|依托|凭借|治疗|诊治|就诊|就医|看|找|挂|比|不如|没有"
)
# Up to this many characters before a place name are dropped as a lead-in ("可选北京…医院"),
# unless they look like part of an institution's name (首都医科大学附属北京同仁医院).
PLACE_LEAD_MAX = 3
ORG_LEAD = re.compile(r"大学|学院|附属|医科|医专|军|部队|武警|集团")
# "和" inside names (协和, 和平, 和睦家...) must not split them.
HE_INSIDE_NAME = re.compile(r"协和|和平|和睦|和美|和谐|和信|和济")
# Characters ending a department or place word; a 和 right after one joins two phrases.
HE_SEPARATES_AFTER = frozenset("科室部院区市县省心所")
# A suffix directly followed by these is a generic use of the word 医院 ("医院排名", "医院简介").
GENERIC_FOLLOWERS = re.compile(r"排名|排行|榜|推荐|列表|名单|大全|哪家|哪个|有哪些|挂号平台")
# (简介/介绍/等级/科室 follow real names too: 某某医院简介. A bare 医院简介 is rejected as generic anyway.)
# Modifiers that make "<modifiers>医院" a generic phrase, not a name.
GENERIC_MODIFIER = re.compile(
    r"(?:备选|优选|首选|候选|推荐|选择|一些|一家|一所|多家|几家|数家|各大|各级|各类|各|大型|中型|小型|公立|私立|民营|国有|国家|国家级|省级|市级|县级|区级|地市级|"
    r"基层|社区|乡镇|实体|线下|转诊|协作|合作|签约|对口|帮扶|指定|上级|下级|私人|个体|街边|路边|无资质|国内|国际|全国|省内|市内|区内|县内|全省|全市|区域|本市|本省|莆田系|线上|互联网|网上|大|小|三级|二级|一级|甲等|乙等|丙等|三甲|二甲|三乙|二乙|一甲|综合性|综合|专科|专业|中医|西医|"
    r"中西医结合|正规|权威|知名|著名|优质|顶尖|顶级|一流|好|最好|较好|比较好|靠谱|本地|当地|附近|周边|外地|异地|定点|医保定点|"
    r"非营利性|营利性|非营利|教学|附属|特色|重点|眼科|儿童|儿科|妇产|妇幼|精神|心理|口腔|肿瘤|骨科|皮肤|皮肤病|男科|传染病|"
    r"胸科|心血管|脑科|康复|耳鼻喉|耳鼻咽喉|整形|美容|体检|中心|人民|性|的|和|或|、|及|与|该|此|这|那|本|其|其他|其它|"
    r"任何|每|哪家|哪个|哪所|什么|这家|那家|这些|那些|该所|所|家|等|军队|部队|军区|\s)+"
)
# One character left after removing the modifiers still makes a generic phrase when it is one of
# these (市医院, 县医院, 某医院, 总医院); any other character is a name (北大人民医院 → 北).
GENERIC_LEFTOVER = frozenset("市县区省镇乡村某新老旧总分本该此这那其各上下前后内外些一二两三四五六七八九十几多数")
# A prefix with a question word or starting with a grade is a description ("二级专科脑病医院").
GENERIC_PREFIX = re.compile(r"什么|哪[个家所些里]|几[家所个甲级]|怎么|^(?:[一二三]级|[一二三][甲乙])")
# Platforms and publishers that are not hospitals even when followed by 医院.
PLATFORM_NAMES = re.compile(
    r"名医汇|好大夫|微医|丁香医生|丁香园|平安好医生|春雨医生|医鹿|百度|健康界|寻医问药|39健康|快速问医生|有来医生|"
    r"京东健康|阿里健康|美团|大众点评|小红书|知乎|抖音|微信|支付宝"
)
# A leading organisation prefix that does not distinguish hospitals (dropped by hospital_key).
KEY_DROP_PREFIX = re.compile(r"^(?:中国人民解放军|解放军|中国人民武装警察部队|武警)")

# An alias in parentheses after a name may be introduced and quoted: A医院(以下简称“B医院”).
ALIAS_LEADS = frozenset(("简称", "以下简称", "下称", "以下称", "俗称", "又称", "原名", "原称", "原"))
ALIAS_QUOTES = "\"'“”‘’「」『』"

# Warnings in a ranking answer: names after one, in the same clause, are not recommendations.
ADVISED_AGAINST = re.compile(r"不建议|不推荐|不要去|别去|避开|慎选|不要选")
CLAUSE_ENDS = ",，。;；!！?？\n而"
WARNING_WINDOW = 8  # characters before a name read for a warning (不建议大家去…)
NAME_JOINERS = frozenset("和、或及与")
WARNING_LAST_CHARS = frozenset("去议荐开选择要")  # 不建议去|不建议|不推荐|避开|慎选|不要选择…: the last character

# --------------------------------------------------------------------------- hospital details
GRADE = re.compile(r"([一二三])级([甲乙丙])等|([一二三])([甲乙])(?!等)|([一二三])级(?![甲乙丙])")
ADDRESS = re.compile(
    r"地址\s*[:：]\s*(?P<a>(?:[^\s。;；,，()]+|\([^)]{0,20}\))+)"  # stops at an unmatched ")": (地址:X号)
    r"|位于(?P<b>[\u4e00-\u9fff0-9A-Za-z]{2,30}?(?:号|交汇处|交叉口)(?:\([^)]{0,20}\))?"
    r"|[\u4e00-\u9fff0-9A-Za-z]{2,30}?(?:路|街|大道|大街|巷)(?![\u4e00-\u9fff0-9]))"
)
# A sentence after the one holding the name that still talks about it (作为三级甲等综合医院,…).
CONTINUES_SUBJECT = re.compile(r"\s*(?:作为|该院|该医院|医院等级|是|为|其)")
DEPARTMENTS = re.compile(r"(\d+)\s*个(?:临床|专业|医技|临床医技)?科室")
DOCTOR_COUNT = re.compile(r"(\d+)\s*[位名](?:收录|在职|入驻)?(?:医生|医师)")
SCORE = re.compile(r"评分\s*[:：为]?\s*(\d+(?:\.\d+)?)")  # 综合评分 :60, 评分9.2, 评分:9.6

# Doctors: a 2-3 character personal name (common surname first) with a title or a specialty.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
    "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄"
    "窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查"
    "麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴"
    "盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况"
    "那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
_NAME = rf"[{SURNAMES}][\u4e00-\u9fff]{{1,2}}?"
DOCTOR_TITLE = r"副主任医师|主任医师|主治医师|住院医师|副主任|主任|副教授|教授|医师"
# An academic role written after the clinical title (主任医师、博士生导师): skipped, not a title.
_ACADEMIC = r"(?:\s*(?:[、,，]\s*|\()(?:博士生导师|硕士生导师|博士研究生导师|硕士研究生导师|博导|硕导|研究生导师)\)?)*"
# 陈水明副主任医师 ; 王霍乔、石剑英等主任医师
DOCTOR_WITH_TITLE = re.compile(
    rf"(?P<names>{_NAME}(?:[、,和]{_NAME})*)(?:等|等多位|两位)?\s*\(?(?P<title>{DOCTOR_TITLE})\)?{_ACADEMIC}"
    rf"(?:\s*[:：,，]?\s*(?:擅长|专精|专长|主攻|精通)[:：]?(?P<spec>[^。;；]{{1,60}}))?"
)
# 主任医师张友胜擅长… (title first)
DOCTOR_TITLE_FIRST = re.compile(
    rf"(?P<title>{DOCTOR_TITLE}){_ACADEMIC}\s*[:：]?\s*(?P<names>{_NAME}(?:、{_NAME})*)(?=[,，;；。\s(]|等|擅长|专精|主攻|$)"
)
# 张友胜(擅长视网膜脱离、视神经疾病)
DOCTOR_WITH_SPECIALTY = re.compile(
    rf"(?P<name>{_NAME})\((?:擅长|专精|专长|主攻|精通)[:：]?(?P<spec>[^)]{{1,60}})\)"
)
# 专家如张友胜、郑俊森等擅长… / 曹效平医生团队
DOCTOR_AFTER_CUE = re.compile(
    rf"(?:专家|医生|医师|名医|教授)(?:团队)?(?:如|有|包括|是)?(?P<names>{_NAME}(?:、{_NAME})*)(?=等|、|\(|,|医生|团队|擅长|专精)"
    rf"|(?P<name2>{_NAME})(?=医生团队|医生在|医生[,，]?(?:擅长|专精|主攻))"
)
DOCTOR_CUE = re.compile(r"医师|主任|教授|医生|擅长|专精|专长|主攻|精通|专家")
DOCTOR_CUE_WORDS = re.compile(r"专家|医生|医师|名医|教授")
SPECIALTY_TAIL = re.compile(r"等?[,，]?(?:擅长|专精|专长|主攻)[:：]?(?P<spec>[^。;；]{1,60})")
# Words that look like names after a surname-char but are not (e.g. 周边, 高水平).
NOT_A_NAME = re.compile(r"^(?:周边|高水平|高级|常见|经验|成员|左右|全面|明显|史上|向日|方面|特色|多位|主治|主任|医师)")

# --------------------------------------------------------------------------- titles
YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年(?!\d)")
# English text states a year without 年: "in 2025", "Since January 1, 2025", "from 2024": the words
# right before a 4-digit year (policy._find_year_en finds the candidates).
YEAR_EN_BEFORE = re.compile(
    r"(?:\b(?:[Ii]n|[Ss]ince|[Ff]rom|[Ff]or|[Bb]y|[Uu]ntil|[Oo]f|[Yy]ear)|(?:January|February|March|April|May|June|July"
    r"|August|September|October|November|December)(?: \d{1,2},?)?) $"
)
# Strip the question part of a ranking title to leave "<condition>".
RANKING_TAIL = re.compile(
    r"(?:的)?(?:医院排名.*|医院排行.*|医院榜.*|(?:十佳|十强|十大|最佳|顶尖).*|医院哪[个家所].*|医院|(?:去|到)?(?:哪个|哪家|哪所|哪些|什么)[\u4e00-\u9fff]{0,4}?医院.*|医院有哪些.*|医院推荐.*|推荐.{0,4}医院.*"
    r"|去哪[个家所里儿]?.*|哪里(?:看|治|好).*|最好的医院.*|好的医院.*|(?:看|治).{0,3}哪[个家]好.*|比较好.*|好吗.*)$"
)
# "哪家医院看眼科好": the condition comes after the question word.
CONDITION_AFTER_QUESTION = re.compile(
    r"^(?:去|到)?(?:哪个|哪家|哪所|什么)医院(?:(?:看|治疗|治|做)(?P<c>.+?)|(?P<d>[\u4e00-\u9fff]{1,6}科))"
    r"(?:比较|最|更)?(?:好|强|专业|厉害)")  # 哪家医院看眼科好 / 哪个医院心内科好 (a department needs no verb)
# Generic quality words left at the end of a condition ("不孕不育正规医院有哪些"); stripped with
# endswith (an end-anchored regex is tried at every position).
CONDITION_TRAIL_WORDS = ("正规", "专业", "公立", "私立", "三甲", "专科", "权威", "靠谱", "比较好", "最好", "较好", "好")
CONDITION_LEAD = re.compile(r"^(?:地区|市|省)?(?:的)?(?:治疗|诊治|医治|出现|看|治|患|得了|有|查|做)")

# --------------------------------------------------------------------------- figures
CN_NUM_CHARS = "零〇一二两三四五六七八九十百千万亿"
# 角/分 right after an amount in 元 (18元7角2分, 83元5角): tenths and hundredths of that amount.
JIAO_FEN = re.compile(r"(?P<jiao>\d)角(?:(?P<fen>\d)分)?|(?P<fen_only>\d)分(?!钟)")
# The lookahead on the unit's first character rejects "number not followed by a unit" (most
# numbers: phone numbers, ids) before trying ~25 alternatives one by one.
# English units (`30 days`, `400 yuan`, `8 percent`) come after the Chinese ones and need a word
# boundary; UNIT_CANON maps them to the same units.
_UNITS = (r"(?:余|多)?\s*(?=[\\%元块个工年天日周岁小分位次倍项档人家dmywRCpP])"
          r"(?P<unit>\\?%|元|块钱|块|个月|个工作日|工作日|个百分点|年(?!\d{1,2}月)|天|日(?!\d)|周岁|岁|小时|分钟|位|个科室|个|次|倍|项|档|人|家|周"
          r"|(?:working days?|days?|months?|years?|yuan|RMB|CNY|percent|per cent)\b)"
          r"(?!性|级|甲|乙|险|线|卡)")
_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
# The same, written so that a match starts with ONE `\d`: `re` then skips to digit positions in C
# (its "charset prefix" scan) instead of trying the pattern at every character (2x faster over
# a text). `(?<!\d\d)` after that digit = "not inside a longer number".
_ARABIC_FIRST = r"\d(?<!\d\d)\d*(?:,\d{3})*(?:\.\d+)?"
# Arabic quantities (one scan; a leading-digit pattern is ~2x cheaper than one that also starts
# on Chinese numerals, and Arabic numbers are the vast majority). Never starts inside a number
# (such a match was discarded by the caller anyway, after a costly attempt).
FIGURE = re.compile(
    rf"(?P<a>{_ARABIC_FIRST})(?P<am>万亿|万|千|亿)?(?:\s*(?:-|~|～|至|到| to | and )\s*(?P<b>{_ARABIC})(?P<bm>万亿|万|千|亿)?)?"
    + _UNITS
)
# 40万 / 1.5亿 with no unit after it: an amount of money when its label names one (封顶线40万).
FIGURE_BARE_WAN = re.compile(rf"(?P<a>{_ARABIC_FIRST})(?P<am>万|亿)(?P<b>)(?P<bm>)(?![\d万亿余多元块个工年天日周岁小分位次倍项档人家%\-~至到])")
MONEY_LABEL = re.compile(r"额|线|费|金|资|款|补助|补贴|报销|收入|基数|限|存款|余额|支付|赔付|津贴")
# Currency written before the number (RMB 1,800, ¥500): always yuan.
FIGURE_CURRENCY_FIRST = re.compile(r"(?:RMB|CNY|¥)\s?(?P<a>\d[\d,]*(?:\.\d+)?)(?P<am>万|千|亿)?(?P<b>)(?P<bm>)(?![\d元])")
# 百分之八, 百分之十六, 百分之零点五, 百分之8: a percentage written out.
FIGURE_CN_PERCENT = re.compile(r"百分之(?P<a>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百点]+)(?P<am>)(?P<b>)(?P<bm>)")
# 千分之五 (a rate per mille): reported in % (0.5 %). 万分之五 (a daily late-fee rate) is not a figure.
FIGURE_CN_PERMILLE = re.compile(r"(?<!万)千分之(?P<a>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百点]+)(?P<am>)(?P<b>)(?P<bm>)")
# A count of digits/characters of an identifier (18位身份证号码, 12位数字) is a format, not a quantity.
# So is a 位 count in a sentence about a number/code (医保卡号由2位地区代码和7位个人编号组成; 长度通常为8-16位).
DIGIT_COUNT_NEXT = ("数字", "数", "身份证", "号码", "编码", "代码", "编号", "流水号", "字符", "字母", "密码", "卡号")
ID_CONTEXT_WORDS = ("号", "码")
PEOPLE_AFTER_COUNT = ("医生", "医师", "专家", "护士", "工作人员", "员工", "职工")
# A Chinese-numeral 一 + unit followed by these reads as "per unit" (一年社保费用, 一个月多少钱, 一年交…),
# not as a stated duration (断缴一年以上, 有效期至少一年且…).
ONE_PER_UNIT_NEXT = ("社保", "医保", "费用", "保费", "交", "缴", "要", "大约", "大概", "多少", "需", "下来", "能", "可")
# Text between two figures that makes the second the other end of a range (60%-80%, 600元至800元).
RANGE_JOINERS = frozenset({"-", "~", "至", "到", "—", "–", "－"})
# Chinese-numeral quantities (三千元, 十五年, 六个月); only scanned when CN_FIGURE_HINTS finds one of
# its unit bigrams, because most texts have none.
CN_FIGURE_UNITS = ("元", "块", "个月", "年", "天", "岁", "倍", "小时", "分钟", "周岁")
CN_FIGURE = re.compile(
    rf"(?P<a>[{CN_NUM_CHARS}]+)(?P<am>)(?:(?:-|~|至|到)(?P<b>[{CN_NUM_CHARS}]+))?(?P<bm>)"
    rf"(?P<unit>{'|'.join(sorted(CN_FIGURE_UNITS, key=len, reverse=True))})(?!性|级|甲|乙|大|险|线|卡)"
)
CN_FIGURE_HINTS = tuple(c + u for c in CN_NUM_CHARS for u in CN_FIGURE_UNITS)
UNIT_CANON = {"\\%": "%", "个百分点": "%", "块钱": "元", "块": "元", "个工作日": "工作日", "周岁": "岁", "个科室": "个",
              "day": "天", "days": "天", "working day": "工作日", "working days": "工作日", "month": "个月",
              "months": "个月", "year": "年", "years": "年", "yuan": "元", "RMB": "元", "CNY": "元",
              "percent": "%", "per cent": "%"}
# English figure labels: the words before the number in its clause, minus these at either end.
EN_LABEL_STOPWORDS = frozenset(
    "a an the of to in on at by for from with within about around approximately roughly nearly up is are "
    "was be been will shall should must can may and or is it its their his her your our this that these "
    "those than more less least most over under only just each every per which who whom whose where when between".split()
)
EN_LABEL_MAX_WORDS = 4
# Filler words trimmed from the right of a figure label.
# Filler words trimmed from the right of a figure label (stripped with endswith, not a `$` regex:
# an end-anchored alternation is tried at every position and is slow in `re`).
LABEL_TRAIL_WORDS = tuple(sorted((
    "为", "是", "约", "约为", "达", "达到", "共", "共计", "总计", "合计", "需", "需要", "要", "可", "可以", "按", "即",
    "等于", "在", "满", "至少", "最低", "最高", "仅", "每月", "每年", "每人", "大约", "左右", "不低于", "不超过", "不少于",
), key=len, reverse=True))
# A figure with no phrase before it may name itself after it: "按8%的比例缴纳" → 比例.
FOLLOWING_NOUN = re.compile(r"的([\u4e00-\u9fff]{2,4}?)(?=缴纳|缴费|计入|记入|划入|支付|报销|领取|[,，。;；、)]|$)")
# One-character labels that still say what a figure is (男满60周岁、女满55周岁).
LABEL_ONE_CHAR_OK = frozenset("男女")
LABEL_TRAIL_CHARS = " \t:：=×*+-/0123456789.,"
LABEL_LEAD = re.compile(r"^(?:[0-9.、)\]】]+|[一二三四五六七八九十]+、|的|和|及|与|或|其中|其|如|即|若|假设|按|以|例如|比如|\s)+")
LABEL_SPLIT = re.compile(r"[,，。;；:：()（）【】\[\]“”\"'!?！？=×*/、+\\]|\s[:：]?")
LABEL_NOISE = re.compile(r"(?:19|20)\d{2}年(?:度|起|的)?")

# --------------------------------------------------------------------------- English place names
# Pinyin/English names of provincial-level divisions and of large cities, mapped to the Chinese
# name the gazetteer resolves (English pages: "rates in Shenzhen", "hospitals in Beijing").
# Ambiguous romanizations keep the usual reading (Suzhou 苏州, Fuzhou 福州, Jilin 吉林省).
EN_PLACE_NAMES = {
    "Beijing": "北京", "Peking": "北京", "Tianjin": "天津", "Shanghai": "上海", "Chongqing": "重庆",
    "Hebei": "河北", "Shanxi": "山西", "Shaanxi": "陕西", "Inner Mongolia": "内蒙古", "Liaoning": "辽宁",
    "Jilin": "吉林", "Heilongjiang": "黑龙江", "Jiangsu": "江苏", "Zhejiang": "浙江", "Anhui": "安徽",
    "Fujian": "福建", "Jiangxi": "江西", "Shandong": "山东", "Henan": "河南", "Hubei": "湖北", "Hunan": "湖南",
    "Guangdong": "广东", "Guangxi": "广西", "Hainan": "海南", "Sichuan": "四川", "Guizhou": "贵州",
    "Yunnan": "云南", "Tibet": "西藏", "Xizang": "西藏", "Gansu": "甘肃", "Qinghai": "青海", "Ningxia": "宁夏",
    "Xinjiang": "新疆", "Hong Kong": "香港", "Macau": "澳门", "Macao": "澳门",
    "Shenzhen": "深圳", "Guangzhou": "广州", "Canton": "广州", "Hangzhou": "杭州", "Nanjing": "南京",
    "Wuhan": "武汉", "Chengdu": "成都", "Xi'an": "西安", "Xian": "西安", "Shenyang": "沈阳", "Dalian": "大连",
    "Qingdao": "青岛", "Xiamen": "厦门", "Ningbo": "宁波", "Suzhou": "苏州", "Wuxi": "无锡", "Harbin": "哈尔滨",
    "Changchun": "长春", "Changsha": "长沙", "Zhengzhou": "郑州", "Jinan": "济南", "Hefei": "合肥",
    "Fuzhou": "福州", "Nanchang": "南昌", "Kunming": "昆明", "Guiyang": "贵阳", "Nanning": "南宁",
    "Haikou": "海口", "Sanya": "三亚", "Lanzhou": "兰州", "Xining": "西宁", "Yinchuan": "银川",
    "Urumqi": "乌鲁木齐", "Lhasa": "拉萨", "Hohhot": "呼和浩特", "Taiyuan": "太原",
    "Shijiazhuang": "石家庄", "Dongguan": "东莞", "Foshan": "佛山", "Zhuhai": "珠海",
}
EN_PLACE = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, EN_PLACE_NAMES), key=len, reverse=True)) + r")\b")

# --------------------------------------------------------------------------- English hospitals
# "Peking Union Medical College Hospital", "Zhongshan Hospital of Fudan University": capitalized
# words ending in a facility word, optionally followed by "of <Capitalized words>" (no "and").
EN_HOSPITAL = re.compile(
    r"\b(?:[A-Z][\w'’.&-]*\s+){1,8}?(?:Hospital|Medical Cent(?:er|re)|Clinic|Health Cent(?:er|re)|Cancer Cent(?:er|re))\b"
    r"(?:\s+of\s+(?:(?:[A-Z][\w'’.-]*|of|the)\s+)*[A-Z][\w'’.-]*)?"
)
# Capitalized words that open a sentence or describe a kind of hospital, not a name.
EN_GENERIC_WORDS = frozenset(
    "The A An In At And Or Both Also Try Visit Choose Consider Top Best Leading Recommended Other Each This "
    "That These Those Which What General Public Private Tertiary Grade Class International Chinese Local "
    "Specialized Specialist Children's Women's Large Major Many Most Some Such Our Your".split()
)
# The sentence openers among them: "Children's Hospital of Fudan University" keeps its descriptive
# word when the name goes on with "of <Name>" (only openers are dropped then).
EN_OPENER_WORDS = frozenset(
    "The A An In At And Or Both Also Try Visit Choose Consider Top Best Leading Recommended Other Each This "
    "That These Those Which What Many Most Some Such Our Your".split()
)
# "Best hospitals for cataract surgery in Beijing" -> "cataract surgery".
EN_CONDITION = re.compile(
    r"\b(?:for|to treat|treating)\s+(?:the\s+)?(?P<c>[A-Za-z][\w' -]*?)"
    r"(?:\s+(?:in|near|around)\s+[A-Z][\w' ]*)?\s*[?.!]*$"
)
