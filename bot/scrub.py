"""Finding personal details in free text: phone numbers, ID numbers, e-mail addresses, openids.

Matching runs on the NFKC-normalised text, so full-width digits (１３７…) and signs (＋８６) match like
their ASCII forms; what is kept of the text keeps its own characters (Chinese punctuation stays).
Used for what the service publishes (Open311) and for every log line (``bot.logsafe``).
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


def _normalized_with_origin(text: str) -> tuple[str, list[int]]:
    """NFKC of each character, and for each normalised character the index it came from."""
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        normal = unicodedata.normalize("NFKC", char)
        parts.append(normal)
        origin.extend([index] * len(normal))
    return "".join(parts), origin


def scrub(text: str, patterns: tuple[re.Pattern[str], ...] = PUBLIC_PATTERNS) -> str:
    """``text`` with every phone number, ID number and e-mail address replaced by ***."""
    normal, origin = _normalized_with_origin(text)
    matches = [m for pattern in patterns for m in pattern.finditer(normal) if m.end() > m.start()]
    spans = sorted((origin[m.start()], origin[m.end() - 1] + 1) for m in matches)
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        if end <= position:
            continue
        if start >= position:
            pieces.append(text[position:start])
            pieces.append(MASK)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
