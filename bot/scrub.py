"""Finding personal details in free text: phone numbers, ID numbers, e-mail addresses, openids.

Text is NFKC-normalised first, so full-width digits (１３７…) and full-width signs (＋８６) match like
their ASCII forms. Used for what the service publishes (Open311) and for every log line (``bot.logsafe``).
"""

from __future__ import annotations

import re
import unicodedata

MASK = "***"

# A mainland mobile number, with or without +86 / 0086 / 86 in front and spaces or dashes inside.
MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[\s-]?)?0\d{2,3}[\s-]?\d{7,8}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# WeChat openids: 28 characters of URL-safe base64 starting with "o".
OPENID = re.compile(r"(?<![A-Za-z0-9_-])o[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])")

PUBLIC_PATTERNS = (MOBILE, LANDLINE, ID_NUMBER, EMAIL)


def normalize(text: str) -> str:
    """NFKC: full-width digits, letters and signs become their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


def scrub(text: str, patterns: tuple[re.Pattern[str], ...] = PUBLIC_PATTERNS) -> str:
    """``text`` normalised, with every phone number, ID number and e-mail address replaced by ***."""
    text = normalize(text)
    for pattern in patterns:
        text = pattern.sub(MASK, text)
    return text
