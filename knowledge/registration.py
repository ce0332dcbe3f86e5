"""Registration-duty helper: a stated yearly volume of a NEW chemical → 常规登记 / 简易登记 / 备案 (生态环境部令第12号).

常规登记: ≥ 10 t/yr; 简易登记: ≥ 1 t and < 10 t; 备案: < 1 t. Exactly 1 t is 简易, exactly 10 t is 常规.
A limit stated in words ("不超过1吨", "1吨以下", "不到1吨") is read as below it: 备案.

It fires only for registering a new substance: a tonnage of hazardous waste or of emissions is not a registration
question, a user who only buys and uses a registered substance registers nothing (the answerer serves the
knowledge base's entry), and a substance already in 《中国现有化学物质名录》 is not new (the answerer says so).
When several figures are stated, a planned one wins ("去年0.5吨，今年计划15吨" → 15 t) and separate substances
each get their class ("甲40吨，乙6吨，丙半吨").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STANDARD, SIMPLE, FILING = "standard", "simple", "filing"
ENTRY_FOR_KIND = {STANDARD: "reg-standard", SIMPLE: "reg-simple", FILING: "reg-filing"}

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两俩三四五六七八九十百千万点半几]+)"
_UNIT = r"(?P<unit>万吨|吨|公吨|tons?(?![a-z])|tonnes?(?![a-z])|t(?![a-z])|公斤|千克|kg(?![a-z])|市斤|斤|克|g(?![a-z]))"
_UNIT_TONNES = {"万吨": 10000.0, "吨": 1.0, "公吨": 1.0, "t": 1.0, "ton": 1.0, "tons": 1.0, "tonne": 1.0,
                "tonnes": 1.0, "公斤": 0.001, "千克": 0.001, "市斤": 0.0005, "斤": 0.0005,
                "kg": 0.001, "克": 1e-6, "g": 1e-6}
_VOLUME = re.compile(
    rf"(?P<below>不到|不足|少于|低于|小于|未满|不超过|不满)?\s*"
    rf"(?:(?P<low>{_NUM})\s*(?:到|至|-|~|～|或)\s*)?"
    rf"(?P<num>{_NUM})\s*(?P<more>多|余|来)?\s*{_UNIT}(?P<half>半)?\s*(?P<more2>多|左右)?"
    rf"(?P<below2>以下|以内|之内|之下)?"
)
_REG_WORDS = ("登记", "备案", "申报", "新化学", "新物质", "化学物质", "化学品", "新化学品")
_ACTIVITY_WORDS = ("生产", "进口", "产量", "年产", "进口量", "用量", "制造")
_FILLER = re.compile(
    r"每年|一年|年均|全年|年|我们|我司|公司|企业|工厂|厂里|单位|如果|假如|大概|大约|一共|总共|的|呢|吗|呀|啊|了|"
    r"是|有|要|怎么办|什么|啥|哪种|哪类|算|属于|[\s,，。.?？!！:：;；、]"
)
# a figure stated per month / week / day is scaled to a year (the thresholds are yearly)
_PERIOD = re.compile(
    r"(?P<per>每个?季度|一个?季度|每个?月|一个?月|月均|月产|每周|一周|每个?星期|每天|每日|一天|日均|日产)"
    r"[^\d零〇一二两俩三四五六七八九十百千万半]{0,6}$"
)
_PER_YEAR = {"季度": 4, "月": 12, "周": 52, "星期": 52, "天": 365, "日": 365}
_EXEMPT_WORDS = ("医药", "药品", "原料药", "新药", "农药", "兽药", "化妆品", "食品添加剂", "食品", "饲料添加剂", "饲料",
                 "肥料")
_ABOUT_REGISTRATION = ("新化学", "登记", "12号令", "令第12号", "备案")
# a tonnage of waste or emissions is not about registering a substance
_NOT_REGISTRATION = re.compile(
    r"危险废物|废(?!止|除)|污泥|垃圾|产生|排放|排污|排了|外排|偷排|泄漏|处置|焚烧"
)
# only buying / using a substance someone else registered
_USE_ONLY = re.compile(r"使用|用量|用到|采购|购买|买来|买的|加工|下游|配料|用来|拿来用|每年用|一年用|年用")
# a planned figure wins over last year's: "去年0.5吨，今年计划15吨"
_PLANNED = re.compile(
    r"(计划|打算|预计|准备|今年|明年|以后|将来|扩产|扩大到|增加到|提高到|增到|涨到|达到|要到|上到)[^,，。;；]{0,6}$"
)
# a later figure that only compares ("差一点10吨", "接近10吨") does not count
_COMPARISON = re.compile(r"(差一点|差点|接近|快到|快|不到|超过|超|多于|少于|比|离|还是|或者|或)\s*$")
# "small amounts need nothing, right?": a claim to answer as a claim
_CLAIM = re.compile(
    r"不用(管|登记|备案|办|报)|不需要(登记|备案|办|管)|什么都不用|啥都不用|不用办|免登记|免于|不必|没事吧|随便"
)


@dataclass(frozen=True)
class Volume:
    tonnes: float
    stated: str  # the words that stated it, e.g. "十五吨"
    below: bool = False  # "不到1吨" style: strictly below the stated figure
    per: str = ""  # "月" / "周" / "天" when the figure was stated per month, week or day (tonnes is yearly)


@dataclass(frozen=True)
class RegistrationQuery:
    volume: Volume
    kind: str
    activity: str  # "生产" / "进口" / "生产或进口"
    exempt_word: str | None  # a product type the 办法 does not cover (医药, 农药 …), if mentioned
    polymer: bool
    planned: bool = False  # several figures were given and the planned one was used
    others: tuple[Volume, ...] = ()  # further substances stated in the same message, each classed on its own
    claim: bool = False  # the message states a belief to check ("少量的不用登记吧")


def cn_to_number(s: str) -> float | None:
    """Chinese or Arabic numerals → float: 十五 → 15, 一千二百 → 1200, 三点五 → 3.5, 半 → 0.5, 两三 → 3."""
    s = s.strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        pass
    if s == "半":
        return 0.5
    if "几" in s:  # 零点几 / 几 / 十几 / 几十 / 几百: a rough figure, taken in the middle of its range
        rough = {"零点几": 0.5, "点几": 0.5, "几": 5, "十几": 15, "几十": 50, "几百": 500, "几千": 5000, "几万": 50000}
        return float(rough[s]) if s in rough else None
    if s.endswith("半") and len(s) > 1:
        base = cn_to_number(s[:-1])
        return None if base is None else base + 0.5
    if "点" in s:
        whole, _, frac = s.partition("点")
        w = cn_to_number(whole) if whole else 0.0
        if w is None or not frac or any(c not in _CN_DIGIT for c in frac):
            return None
        return w + float("0." + "".join(str(_CN_DIGIT[c]) for c in frac))
    if "万" in s:
        high, _, low = s.partition("万")
        h = cn_to_number(high) if high else 1.0
        rest = cn_to_number(low) if low else 0.0
        return None if h is None or rest is None else h * 10000 + rest
    if len(s) >= 2 and all(c in _CN_DIGIT for c in s[:2]) and _CN_DIGIT[s[1]] == _CN_DIGIT[s[0]] + 1:
        # 两三吨 / 两三百公斤 / 三四十吨: a rough range, take the upper figure
        return cn_to_number(s[1:])
    total, digit = 0, None
    for c in s:
        if c in "零〇":
            continue  # 一百零五: a place-holder zero
        if c in _CN_DIGIT:
            if digit is not None:
                return None  # 一二 without a unit between is not a number
            digit = _CN_DIGIT[c]
        elif c in _CN_UNIT:
            total += (digit if digit is not None else 1) * _CN_UNIT[c]
            digit = None
        else:
            return None
    if digit is not None:
        total += digit
    return float(total)


def parse_volume(text: str) -> Volume | None:
    """The yearly volume stated in normalized text, in tonnes: the first figure given (later ones are usually
    comparisons: "年进口9.9吨，差一点10吨，办简易还是常规")."""
    volumes = parse_volumes(text)
    return volumes[0][0] if volumes else None


def parse_volumes(text: str) -> list[tuple[Volume, int]]:
    """Every volume stated in normalized text, with where it starts."""
    out = []
    for m in _VOLUME.finditer(text):
        value = cn_to_number(m.group("num"))
        if value is None:
            continue
        if m.group("half"):
            value += 0.5
        tonnes = value * _UNIT_TONNES[m.group("unit")]
        if m.group("low"):
            low = cn_to_number(m.group("low"))
            if low is not None:
                tonnes = max(tonnes, low * _UNIT_TONNES[m.group("unit")])
        below = bool(m.group("below") or m.group("below2"))
        if below:  # 不超过1吨 / 1吨以下 / 不到1吨: a limit in words, read as below it (备案 for 1 t)
            tonnes -= 1e-9
        if m.group("more") or m.group("more2") == "多":
            tonnes += 1e-9
        per = ""
        period = _PERIOD.search(text, max(0, m.start() - 10), m.start())
        if period:
            per = next(k for k in _PER_YEAR if k in period.group("per"))
            tonnes *= _PER_YEAR[per]
        out.append((Volume(round(tonnes, 9), m.group(0).strip(), below, per), m.start()))
    return out


def classify(tonnes: float) -> str:
    if tonnes >= 10:
        return STANDARD
    if tonnes >= 1:
        return SIMPLE
    return FILING


def _choose(text: str, volumes: list[tuple[Volume, int]]) -> tuple[Volume, bool, tuple[Volume, ...]]:
    """(the volume that counts, whether it is a planned figure, further substances' volumes)."""
    first = volumes[0][0]
    if len(volumes) == 1:
        return first, False, ()
    planned = [v for v, at in volumes if _PLANNED.search(text[max(0, at - 10):at])]
    if planned:
        return planned[-1], True, ()
    later = [(v, at) for v, at in volumes[1:] if not _COMPARISON.search(text[max(0, at - 6):at])]
    separate = re.search(r"分别|各自|各要|每种|每个|几种|[两三四五2-5]种", text) or len(
        {classify(v.tonnes) for v, _ in volumes}
    ) > 1
    if later and separate and len({round(v.tonnes, 6) for v, _ in volumes}) == len(volumes):
        return first, False, tuple(v for v, _ in later)  # 甲40吨，乙6吨，丙半吨: one class each
    return first, False, ()


def is_use_only(text: str) -> bool:
    """Buying or using a substance, with no production or import of it."""
    return bool(_USE_ONLY.search(text)) and not any(w in text for w in ("生产", "进口", "产量", "年产", "制造", "合成"))


def detect(text: str) -> RegistrationQuery | None:
    """A registration question that states a volume, e.g. "我们每年进口5吨新化学物质要办什么登记"."""
    volumes = [(v, at) for v, at in parse_volumes(text) if v.tonnes > 0]
    if not volumes or _NOT_REGISTRATION.search(text):
        return None
    volume, planned, others = _choose(text, volumes)
    has_reg = any(w in text for w in _REG_WORDS)
    acts = [w for w in ("生产", "进口") if w in text]
    has_activity = bool(acts) or any(w in text for w in _ACTIVITY_WORDS)
    bare = not _FILLER.sub("", text.replace(volume.stated, "", 1))
    if not (has_reg or has_activity or bare):
        return None
    activity = "或".join(acts) if acts else "生产或进口"
    exempt = next((w for w in _EXEMPT_WORDS if w in text), None)
    return RegistrationQuery(
        volume, classify(volume.tonnes), activity, exempt, "聚合物" in text, planned, others, bool(_CLAIM.search(text))
    )


def format_tonnes(tonnes: float) -> str:
    t = round(tonnes, 6)
    if t >= 1 or t == 0:
        return f"{t:g}吨"
    kg = round(t * 1000, 3)
    return f"{kg:g}公斤（{t:g}吨）"


_POLYMER_SHARE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|％)|百分之(\d+(?:\.\d+)?)")


def polymer_share(text: str) -> float | None:
    """The weight share (in %) of new monomers or reactants stated for a polymer ("新单体占1.5%")."""
    if "聚合物" not in text and "单体" not in text:
        return None
    m = _POLYMER_SHARE.search(text)
    if m is None:
        return None
    return float(m.group(1) or m.group(2))


def about_registration(text: str) -> bool:
    """The question is about the registration of new chemical substances (with or without a tonnage)."""
    return any(w in text for w in _ABOUT_REGISTRATION)


def asks_exemption(text: str) -> bool:
    """A product type the 办法 does not cover (化妆品, 农药 …) asked about registration: the exclusion leads."""
    return any(w in text for w in _EXEMPT_WORDS) and about_registration(text)
