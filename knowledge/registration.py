"""Registration-duty helper: a stated yearly volume → 常规登记 / 简易登记 / 备案 (生态环境部令第12号).

常规登记: ≥ 10 t/yr; 简易登记: ≥ 1 t and < 10 t; 备案: < 1 t. Exactly 1 t is 简易, exactly 10 t is 常规.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STANDARD, SIMPLE, FILING = "standard", "simple", "filing"
ENTRY_FOR_KIND = {STANDARD: "reg-standard", SIMPLE: "reg-simple", FILING: "reg-filing"}

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两俩三四五六七八九十百千万点半]+)"
_UNIT = r"(?P<unit>万吨|吨|公吨|tons?(?![a-z])|tonnes?(?![a-z])|t(?![a-z])|公斤|千克|kg(?![a-z])|市斤|斤|克|g(?![a-z]))"
_UNIT_TONNES = {"万吨": 10000.0, "吨": 1.0, "公吨": 1.0, "t": 1.0, "ton": 1.0, "tons": 1.0, "tonne": 1.0,
                "tonnes": 1.0, "公斤": 0.001, "千克": 0.001, "市斤": 0.0005, "斤": 0.0005,
                "kg": 0.001, "克": 1e-6, "g": 1e-6}
_VOLUME = re.compile(
    rf"(?P<below>不到|不足|少于|低于|小于|未满|不超过|不满)?\s*"
    rf"(?:(?P<low>{_NUM})\s*(?:到|至|-|~|～|或)\s*)?"
    rf"(?P<num>{_NUM})\s*(?P<more>多|余|来)?\s*{_UNIT}\s*(?P<more2>多|左右)?"
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
_EXEMPT_WORDS = ("医药", "药品", "农药", "兽药", "化妆品", "食品添加剂", "食品", "饲料添加剂", "饲料", "肥料")


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
    for m in _VOLUME.finditer(text):
        value = cn_to_number(m.group("num"))
        if value is None:
            continue
        tonnes = value * _UNIT_TONNES[m.group("unit")]
        if m.group("low"):
            low = cn_to_number(m.group("low"))
            if low is not None:
                tonnes = max(tonnes, low * _UNIT_TONNES[m.group("unit")])
        below = bool(m.group("below") or m.group("below2"))
        if below and m.group("below") == "不超过":
            below = False  # 不超过1吨 includes 1 t itself
        elif below:
            tonnes -= 1e-9
        if m.group("more") or m.group("more2") == "多":
            tonnes += 1e-9
        per = ""
        period = _PERIOD.search(text, max(0, m.start() - 10), m.start())
        if period:
            per = next(k for k in _PER_YEAR if k in period.group("per"))
            tonnes *= _PER_YEAR[per]
        return Volume(round(tonnes, 9), m.group(0).strip(), below, per)
    return None


def classify(tonnes: float) -> str:
    if tonnes >= 10:
        return STANDARD
    if tonnes >= 1:
        return SIMPLE
    return FILING


def detect(text: str) -> RegistrationQuery | None:
    """A registration question that states a volume, e.g. "我们每年进口5吨新化学物质要办什么登记"."""
    volume = parse_volume(text)
    if volume is None or volume.tonnes <= 0:
        return None
    has_reg = any(w in text for w in _REG_WORDS)
    acts = [w for w in ("生产", "进口") if w in text]
    has_activity = bool(acts) or any(w in text for w in _ACTIVITY_WORDS)
    bare = not _FILLER.sub("", text.replace(volume.stated, "", 1))
    if not (has_reg or has_activity or bare):
        return None
    activity = "或".join(acts) if acts else "生产或进口"
    exempt = next((w for w in _EXEMPT_WORDS if w in text), None)
    return RegistrationQuery(volume, classify(volume.tonnes), activity, exempt, "聚合物" in text)


def format_tonnes(tonnes: float) -> str:
    t = round(tonnes, 6)
    if t >= 1 or t == 0:
        return f"{t:g}吨"
    kg = round(t * 1000, 3)
    return f"{kg:g}公斤（{t:g}吨）"
