"""Checking what the simulator page sends before it becomes a push: clear Chinese errors, nothing half-done."""

from __future__ import annotations

import math
import re
from typing import Any

from bot import texts

OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TEXT_CHARS = 2000
MAX_LABEL_CHARS = 100
MAX_JSON_BYTES = 16 * 1024

# Magic numbers of the image formats WeChat users can send.
_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class InputError(ValueError):
    """What the person typed cannot be sent; the message says why, in Chinese."""


def openid(value: Any) -> str:
    if not isinstance(value, str) or not OPENID.fullmatch(value.strip()):
        raise InputError(texts.SIM_BAD_OPENID)
    return value.strip()


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(texts.SIM_EMPTY_TEXT)
    if len(value) > MAX_TEXT_CHARS:
        raise InputError(texts.SIM_TEXT_TOO_LONG.format(limit=MAX_TEXT_CHARS))
    return value


def _number(value: Any, low: float, high: float, message: str) -> float:
    if isinstance(value, bool):
        raise InputError(message)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(message) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InputError(message)
    return number


def latitude(value: Any) -> float:
    return _number(value, -90.0, 90.0, texts.SIM_BAD_LATITUDE)


def longitude(value: Any) -> float:
    return _number(value, -180.0, 180.0, texts.SIM_BAD_LONGITUDE)


def label(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(texts.SIM_LABEL_TOO_LONG.format(limit=MAX_LABEL_CHARS))
    value = value.strip()
    if len(value) > MAX_LABEL_CHARS:
        raise InputError(texts.SIM_LABEL_TOO_LONG.format(limit=MAX_LABEL_CHARS))
    return value


def menu_key(value: Any, known: set[str]) -> str:
    if not isinstance(value, str) or value not in known:
        raise InputError(texts.SIM_UNKNOWN_MENU)
    return value


def image_type(content: bytes) -> str:
    """The image's content type, from its first bytes (the browser's claim is not trusted)."""
    if not content:
        raise InputError(texts.SIM_NO_PHOTO)
    for magic, content_type in _IMAGE_SIGNATURES:
        if content.startswith(magic):
            return content_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    raise InputError(texts.SIM_PHOTO_NOT_IMAGE)


def after_id(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise InputError(texts.SIM_BAD_AFTER)
    return int(value)
