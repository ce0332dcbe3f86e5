"""Text normalization shared by indexing and querying.

NFKC folds full-width letters, digits and punctuation to half width; OpenCC folds Traditional to
Simplified characters; control and format characters are dropped; every dash variant becomes "-"
(CAS numbers are typed with all kinds of dashes).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

MAX_QUESTION_CHARS = 300  # longer input is cut before any processing (a WeChat text may be 2,000+ chars)

_T2S = OpenCC("t2s")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d\u30fc]")
_SPACES = re.compile(r"\s+")
_QUOTES = re.compile(r"[\"'“”‘’「」『』〝〞]")  # quotation marks split words: 叫“新”的化学物质
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KEEP = re.compile(rf"[{_CJK}a-z0-9\-\.\+%]+")
_HAN = re.compile(rf"[{_CJK}]")
_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2B00, 0x2BFF),
    (0xFE00, 0xFE0F),
    (0x1F1E6, 0x1F1FF),
)


# OpenCC turns a few characters into rare Extension-B forms nobody types (噁 → 𫫇 in 二噁英): fold them to the
# common simplified character, so the question matches the knowledge base's wording (二恶英).
_RARE_FOLD = {"\U0002BAC7": "恶"}
_RARE_FORMS = re.compile("|".join(_RARE_FOLD))


def _is_dropped(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\n\t"


def to_simplified(text: str) -> str:
    return _T2S.convert(text)


def normalize(text: str, max_len: int = MAX_QUESTION_CHARS, simplify: bool = True) -> str:
    """Canonical form of a user question: half width, Simplified, lower-case ASCII, single spaces.

    simplify=False skips the Traditional→Simplified step (the project's own data is Simplified already).
    """
    if not isinstance(text, str):
        text = str(text)
    text = text[: max_len * 2]  # NFKC may expand, so cut generously first, exactly after
    text = "".join(" " if ch in "\n\t" else ch for ch in text if not _is_dropped(ch))
    text = unicodedata.normalize("NFKC", text)
    text = _QUOTES.sub("", _DASHES.sub("-", text))
    text = (to_simplified(text) if simplify else text).lower()
    if _RARE_FORMS.search(text):
        text = _RARE_FORMS.sub(lambda m: _RARE_FOLD[m.group(0)], text)
    return _SPACES.sub(" ", text).strip()[:max_len]


_SPOKEN_DIGIT = {"幺": "1", "〇": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
                 "六": "6", "七": "7", "八": "8", "九": "9"}
_SPOKEN_NUMBER = re.compile("[" + "".join(_SPOKEN_DIGIT) + "]{5,}")


def spoken_digits(text: str) -> str:
    """Hotline and phone numbers typed as spoken digits become digits: 幺二三六九 → 12369 (runs of five or more)."""
    return _SPOKEN_NUMBER.sub(lambda m: "".join(_SPOKEN_DIGIT[c] for c in m.group(0)), text)


def compact(text: str) -> str:
    """Only letters, digits, CJK and a few symbols, no spaces: used for substring and fuzzy matching."""
    return "".join(_KEEP.findall(text))


@lru_cache(maxsize=4096)
def compact_name(name: str) -> str:
    """Comparable form of a chemical name or alias: normalized, and brackets/commas/quotes dropped."""
    return re.sub(r"[\s,，'’()（）\[\]【】\-·]", "", normalize(name, max_len=200))


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _EMOJI_RANGES) or ch in "\u200d\u20e3"


def meaningful_chars(text: str) -> str:
    """The letters, digits and CJK characters of text (no punctuation, symbols or emoji)."""
    return "".join(ch for ch in text if ch.isalnum() and not is_emoji(ch))
