"""Chinese numerals → Arabic digits where they state a year, a date or a quantity (cn2an does the arithmetic).

Only numerals in those positions are converted: chemical names (二氯甲烷, 六溴环十二烷, 三氯杀螨醇), set phrases
(一清单和一名单, 统一, 十四五) and hotline numbers keep their characters. Examples:
二〇二三年底 → 2023年底, 一九年 → 2019年, 十二月三十一日 → 12月31日, 十五吨 → 15吨, 零点五吨 → 0.5吨, 三吨半 → 3.5吨,
十四类 → 14类. Rough ranges (两三百公斤) are left to the registration helper, which reads them itself.
"""

from __future__ import annotations

import re
import warnings

import cn2an

_DIGIT = "〇零一二三四五六七八九"
_DIGIT_VALUE = {"〇": "0", "零": "0", **{c: str(i) for i, c in enumerate("一二三四五六七八九", 1)}}
_NUMBER = "〇零一二三四五六七八九十百千万两点"
# a year written digit by digit: 二〇二三年, 二零二五年底; two digits only with a year word after (一九年底)
_YEAR4 = re.compile(rf"(?<![{_NUMBER}])([{_DIGIT}]{{4}})(?=\s*年)")
_YEAR2 = re.compile(
    rf"(?<![{_NUMBER}\d])([〇零一二][{_DIGIT}])(?=\s*年(?:底|初|前|后|以前|以后|开始|起|的|[\d{_DIGIT}十]+月))"
)
_MONTH_DAY = re.compile(
    rf"(?<![{_NUMBER}\d])([一二三四五六七八九十]{{1,3}})(?=\s*(?:月(?!份?[子亮饼])|日(?![子常本])|号(?![码召])))"
)
_UNITS = (
    "万吨|吨|公吨|公斤|千克|市斤|斤|克|毫克|升|毫升|类|种|项|批|个月|个|家|条|位|人|次|天|日|周|年|小时|分钟|"
    "元|万元|亿元|块钱|倍|台|瓶|件|处|所|户|县|区|部门|款"
)
# 三吨半 / 两年半: the half after the unit
_HALF_AFTER = re.compile(rf"(?<![{_NUMBER}])([{_NUMBER}]+)(吨|公斤|千克|斤|年|个月|小时|天)半(?![吨公斤千克斤])")
_QUANTITY = re.compile(rf"(?<![{_NUMBER}\d])([{_NUMBER}]*[{_NUMBER.replace('点', '')}])(?=\s*(?:{_UNITS}))")
# what must not be read as a number even before a unit word: a numeral that is part of a word
_NOT_NUMBER_BEFORE = re.compile(r"[统唯万之第其逐专初单]$")
# 令第十二号 → 令第12号 (the number of an order or a notice is written in digits in the sources)
_ORDER_NUMBER = re.compile(r"第([一二三四五六七八九十百]+)号")
_ROUGH = re.compile(r"^[一二两三四五六七八九]{2}")  # 两三 / 三四: a range, not a figure


def _convert(span: str) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = cn2an.cn2an(span.replace("两", "二"), "smart")
        except (ValueError, KeyError, IndexError):
            return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _year(m: re.Match[str]) -> str:
    digits = "".join(_DIGIT_VALUE[c] for c in m.group(1))
    return ("20" + digits) if len(digits) == 2 else digits


def _half(m: re.Match[str]) -> str:
    whole = _convert(m.group(1))
    if whole is None or "." in whole:
        return m.group(0)
    return f"{whole}.5{m.group(2)}"


def _quantity(text: str, m: re.Match[str]) -> str:
    span = m.group(1)
    if span in ("点", "一") or _NOT_NUMBER_BEFORE.search(text[: m.start()]):
        return span
    if _ROUGH.match(span) and not span.startswith("十"):
        return span  # 两三吨, 三四十家: the registration helper reads ranges itself
    return _convert(span) or span


def normalize_numerals(text: str) -> str:
    """Years, dates and quantities written in Chinese numerals become digits; everything else is kept."""
    if not any(c in _NUMBER for c in text):
        return text
    text = _ORDER_NUMBER.sub(lambda m: f"第{_convert(m.group(1)) or m.group(1)}号", text)
    text = _YEAR4.sub(_year, text)
    text = _YEAR2.sub(_year, text)
    text = _HALF_AFTER.sub(_half, text)
    text = _MONTH_DAY.sub(lambda m: _convert(m.group(1)) or m.group(1), text)
    return _QUANTITY.sub(lambda m: _quantity(text, m), text)
