"""WeChat's published limits on what an official account may send, as pure functions.

* A text message (passive reply or customer-service text) is at most 2,048 bytes of UTF-8 (45002 beyond).
* Template and subscription values are typed by their key's prefix (``thing3``, ``time2`` …); a value that
  breaks its type is refused with 47003. ``value_problem`` says why a value does not fit its key.
* Menu names are counted in bytes: 16 for a top-level button, 60 for a sub-button.

The strict sandbox, the start-up check of the configured key maps and the text splitter all use these.
"""

from __future__ import annotations

import re

TEXT_MAX_BYTES = 2048
MENU_TOP_NAME_MAX_BYTES = 16
MENU_SUB_NAME_MAX_BYTES = 60

KEY = re.compile(r"(?P<prefix>[a-z_]+?)(?P<number>\d+)")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_DATE = r"(\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2})"
_CLOCK = r"([01]?\d|2[0-3])[:：][0-5]\d([:：][0-5]\d)?"
_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "thing": (re.compile(r"[^\r\n]{1,20}"), "at most 20 characters on one line"),
    "character_string": (re.compile(r"[\x21-\x7e]{1,32}"), "at most 32 letters, digits or symbols"),
    "number": (re.compile(r"[-+]?\d{1,32}(\.\d+)?"), "a number of at most 32 digits"),
    "letter": (re.compile(r"[A-Za-z]{1,32}"), "at most 32 letters"),
    "symbol": (re.compile(r"[^\sA-Za-z0-9" + _CJK + r"]{1,5}"), "at most 5 symbols"),
    "amount": (re.compile(r"[¥￥$]?\d{1,10}(\.\d{1,2})?元?"), "an amount such as 12.50元"),
    "date": (re.compile(_DATE + r"( " + _CLOCK + r")?"), "a date such as 2026年11月20日 or 2026-11-20"),
    "time": (
        re.compile(r"(" + _DATE + r" )?" + _CLOCK),
        "a 24-hour time such as 15:01, optionally after a date",
    ),
    "phrase": (re.compile(r"[" + _CJK + r"]{1,5}"), "at most 5 Chinese characters"),
    "car_number": (re.compile(r"[" + _CJK + r"A-Za-z0-9]{1,8}"), "a car number of at most 8 characters"),
    "name": (re.compile(r"[" + _CJK + r"·]{1,10}|[A-Za-z .]{1,20}"), "a name: 10 Chinese or 20 Latin characters"),
    "phone_number": (re.compile(r"[0-9+\-() ]{1,17}"), "a phone number of at most 17 digits or symbols"),
}
KEY_TYPES = frozenset(_PATTERNS)


def key_type(key: str) -> str | None:
    """The value type of a template key (``time2`` → ``time``), or None when the prefix is not a WeChat type."""
    match = KEY.fullmatch(key or "")
    if match is None:
        return None
    prefix = match.group("prefix")
    return prefix if prefix in _PATTERNS else None


def value_problem(key: str, value: object) -> str | None:
    """Why ``value`` does not fit template key ``key`` (None when it fits)."""
    kind = key_type(key)
    if kind is None:
        return f"{key!r} is not a template key (a type such as thing, time or phrase followed by a number)"
    pattern, rule = _PATTERNS[kind]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        return f"{key} must be {rule}"
    return None


def type_rule(key: str) -> str:
    """The rule of ``key``'s type, in words (for configuration errors)."""
    kind = key_type(key)
    return _PATTERNS[kind][1] if kind else "a WeChat template key type"


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def text_fits(text: str) -> bool:
    return utf8_len(text) <= TEXT_MAX_BYTES


_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")


def split_text(text: str, limit: int = TEXT_MAX_BYTES) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-8 bytes, cut after a sentence end (。！？；or a line
    break) where one exists; a sentence longer than ``limit`` on its own is cut at a character boundary."""
    if utf8_len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        if utf8_len(current + sentence) <= limit:
            current += sentence
            continue
        if current:
            pieces.append(current)
            current = ""
        while utf8_len(sentence) > limit:
            head = sentence.encode("utf-8")[:limit].decode("utf-8", errors="ignore")
            pieces.append(head)
            sentence = sentence[len(head) :]
        current = sentence
    if current:
        pieces.append(current)
    return pieces


def menu_name_problem(name: str, *, top: bool) -> str | None:
    """Why a menu button name is refused (None when it fits): 16 bytes at the top, 60 in a sub-menu."""
    limit = MENU_TOP_NAME_MAX_BYTES if top else MENU_SUB_NAME_MAX_BYTES
    if not name:
        return "a menu button needs a name"
    if utf8_len(name) > limit:
        return f"menu name {name!r} is {utf8_len(name)} bytes (at most {limit})"
    return None
