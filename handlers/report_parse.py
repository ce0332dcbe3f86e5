"""Reading what a reporter typed: category choices, descriptions, addresses, contacts, case numbers.

Pure functions, no database: the wizard in ``handlers.report_wizard`` decides what to do with them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.reports import geo
from bot.reports.catalog import categories
from storage.report_queries import normalize_case_no

_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NUMBER = re.compile(r"^(?:第|选)?\s*([0-9]{1,2})\s*(?:项|个|类|号)?[.、。:：）)]?$")
_CASE_NO = re.compile(r"YC(\d{8})-?(\d{1,9})(?!\d)")
_CASE_ATTEMPT = re.compile(r"YC\d|[\d-]{4,}$")
_PHONE_CANDIDATE = re.compile(r"(?:\+?86[-\s]?)?(\d[\d\s-]{6,16}\d)")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_CONTACT_LABELS = re.compile(r"(姓名|名字|联系人|电话号码|电话|手机号码|手机号|手机|联系方式|实名|[:：,，;；/、\s])")
_NAME = re.compile(r"^[\u4e00-\u9fffA-Za-z·•.\s]{2,20}$")

# Places a typed address usually contains.
_ADDRESS_MARKERS = (
    "省",
    "市",
    "县",
    "区",
    "镇",
    "乡",
    "村",
    "路",
    "街",
    "巷",
    "道",
    "号",
    "弄",
    "组",
    "社区",
    "小区",
    "园",
    "厂",
    "公司",
    "附近",
    "旁",
    "对面",
    "东侧",
    "西侧",
    "南侧",
    "北侧",
    "交叉口",
    "路口",
    "广场",
    "大道",
    "工业",
    "河",
    "桥",
    "站",
    "门口",
    "楼",
    "院",
    "场",
    "店",
    "学校",
    "医院",
)
_NOT_ADDRESS = ("不知道", "不清楚", "不确定", "没有", "忘了", "随便")

# Nuisances whose source is usually not where the reporter stands (FACTS §6).
_AT_A_DISTANCE = ("异味", "臭", "气味", "味道", "刺鼻", "烟", "粉尘", "噪声", "噪音", "吵")
# Water reports: the pollution is where the reporter stands (a smell of sewage is part of the report).
_WATER = ("废水", "污水", "排水", "排污口", "暗管", "渗坑", "下水道", "臭水", "黑水", "水沟", "水渠", "河水", "河道")

DONE_WORDS = frozenset({"完成", "好了", "好", "发完了", "发完", "就这些", "没有了", "结束", "ok", "完毕"})
SKIP_WORDS = frozenset({"跳过", "没有", "无", "不用", "没有照片", "不发", "略过", "skip"})
CLEAR_WORDS = frozenset({"清空", "清空照片", "删除照片", "重新发", "重发"})
ANONYMOUS_WORDS = frozenset({"匿名", "1", "匿名举报", "不留", "不实名", "不留名"})
REAL_NAME_WORDS = frozenset({"2", "实名", "实名举报", "留名"})
UNSURE_WORDS = frozenset({"不确定", "不知道", "不清楚", "不晓得", "不懂", "都不是", "0"})
UNKNOWN_OBJECT_WORDS = frozenset({"不清楚", "不知道", "不确定", "没有", "无", "不晓得", "跳过"})
CONFIRM_WORDS = frozenset({"确认", "确定", "提交", "确认提交", "是", "对", "没问题", "ok", "yes"})
EDIT_WORDS = frozenset({"修改", "改", "更改", "编辑", "返回", "重填"})
YES_WORDS = frozenset({"是的", "对的", "对", "是", "没错", "正确", "好", "好的", "嗯", "可以"})
NO_WORDS = frozenset({"不是", "不对", "错了", "否", "不", "no"})


def clean(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), trimmed, trailing punctuation dropped."""
    return unicodedata.normalize("NFKC", text).strip().strip("。.!！?？~～").strip()


def word(text: str) -> str:
    """The normalized form used to compare one-word answers."""
    return clean(text).lower()


def hanzi_count(text: str) -> int:
    return len(_HANZI.findall(text))


def choose_number(text: str, count: int) -> int | None:
    """A 1-based choice typed as "2", "第2项", "２." …; None when not a number in range."""
    match = _NUMBER.match(clean(text))
    if not match:
        return None
    value = int(match.group(1))
    return value if 1 <= value <= count else None


def category_match(text: str) -> tuple[str | None, str]:
    """(code, how): how is number, label or keyword; (None, "") when nothing or several match."""
    known = categories()
    number = choose_number(text, len(known))
    if number is not None:
        return known[number - 1].code, "number"
    typed = clean(text)
    if not typed:
        return None, ""
    for cat in known:
        if typed == cat.label:
            return cat.code, "label"
    if len(typed) <= 20:
        in_label = {cat.code for cat in known if hanzi_count(typed) >= 2 and typed in cat.label}
        if len(in_label) == 1:
            return in_label.pop(), "label"
    if len(typed) > 60:
        return None, ""
    hits = {cat.code for cat in known for kw in cat.keywords if kw.lower() in typed.lower()}
    if len(hits) == 1:
        return hits.pop(), "keyword"
    return None, ""


def choose_category(text: str) -> str | None:
    """A category code from a number, a label or an unambiguous keyword."""
    return category_match(text)[0]


@dataclass(frozen=True)
class Checked:
    ok: bool
    value: str = ""
    problem: str = ""  # short | long | empty


def check_description(text: str, *, min_hanzi: int, max_chars: int) -> Checked:
    value = text.strip()
    if not value:
        return Checked(False, problem="empty")
    if len(value) > max_chars:
        return Checked(False, value, "long")
    if hanzi_count(value) < min_hanzi:
        return Checked(False, value, "short")
    return Checked(True, value)


def looks_like_address(text: str) -> bool:
    """Heuristic: a typed place has a county name or an address word and is not a shrug."""
    value = clean(text)
    if len(value) < 2 or any(value.startswith(w) for w in _NOT_ADDRESS):
        return False
    if geo.counties_in_text(value) or geo.mentions_zone(value):
        return True
    return hanzi_count(value) >= 3 and any(marker in value for marker in _ADDRESS_MARKERS)


def needs_source(description: str, category: str = "") -> bool:
    """True when the description is about smell, smoke or noise: the pin may not be the source.

    Not for water (wastewater, sewage, a stinking ditch): that is reported where it is seen.
    """
    text = clean(description)
    if any(w in text for w in _WATER):
        return False
    return any(w in text for w in _AT_A_DISTANCE)


def guess_category(description: str) -> str | None:
    """The one category a description's words point to (keywords of exactly one category), else None."""
    typed = clean(description).lower()
    hits = {cat.code for cat in categories() for kw in cat.keywords if kw.lower() in typed}
    return hits.pop() if len(hits) == 1 else None


@dataclass(frozen=True)
class Contact:
    name: str = ""
    phone: str = ""
    problem: str = ""  # "" | phone | name | none


def parse_contact(text: str) -> Contact:
    """Name and mainland mobile number from "张三 13812345678", "电话：138-1234-5678 姓名：张三" …"""
    value = clean(text)
    candidates = _PHONE_CANDIDATE.findall(value)
    if not candidates:
        return Contact(problem="none")
    digits = re.sub(r"\D", "", candidates[0])
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not _MOBILE.fullmatch(digits):
        return Contact(problem="phone")
    name_part = _PHONE_CANDIDATE.sub(" ", value)
    name_part = re.sub(r"\+?86", " ", name_part)
    name = _CONTACT_LABELS.sub(" ", name_part)
    name = " ".join(name.split())
    if not _NAME.fullmatch(name) or hanzi_count(name) + sum(c.isalpha() for c in name) < 2:
        return Contact(phone=digits, problem="name")
    return Contact(name=name, phone=digits)


def find_case_no(text: str) -> str | None:
    """The case number in ``text`` in its stored form: lower case, spaces, full-width characters, a missing
    dash and a short sequence number are accepted (``查询 yc20261204-7`` → ``YC20261204-0007``)."""
    match = _CASE_NO.search(normalize_case_no(text))
    return f"YC{match.group(1)}-{int(match.group(2)):04d}" if match else None


def looks_like_case_attempt(rest: str) -> bool:
    """What follows 查询 (or a bare "YC…") was meant as a case number: starts with YC and a digit, or is
    only digits and dashes."""
    return bool(_CASE_ATTEMPT.match(normalize_case_no(rest)))
