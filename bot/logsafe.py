"""Keeps personal data out of every log line, whatever logs it.

``install()`` (called by the app factory and the command line) does two things:

* a log-record factory masks, in the message and in any traceback, openids, phone numbers (also with
  86 / +86 in front or written in full-width digits), ``openid=`` / ``name=`` / ``phone=`` /
  ``latitude=`` style values, and the exact values the current task declared sensitive with
  ``remember()`` (the sender's openid, a reporter's name, phone and coordinates);
* a filter on aiohttp's server logger turns a malformed request's traceback (which quotes the raw
  request bytes) into one short line, at most ``MALFORMED_PER_MINUTE`` lines a minute.

The database engine never puts statement parameters into exceptions (``hide_parameters=True`` in
``storage.db``); this module is the second line, for log lines written in the future.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

from bot.scrub import MASK, MOBILE, OPENID, normalize

MALFORMED_PER_MINUTE = 10

_sensitive: ContextVar[frozenset[str]] = ContextVar("ycbot_sensitive_values", default=frozenset())

_KEYED = re.compile(
    r"(?P<key>\b(?:\w*openid|from_?user(?:_?name)?|to_?user(?:_?name)?|reporter_name|name|real_name|phone"
    r"|reporter_phone|mobile|lat|lng|lon|long|latitude|longitude|location_x|location_y)\b|姓名|电话|手机)"
    r"(?P<sep>['\"]?\s*(?:=|:|：)\s*['\"]?)(?P<value>[^\s'\",;&)}\]<]+)",
    re.IGNORECASE,
)
_XML_FIELDS = re.compile(
    r"(<(FromUserName|ToUserName|Location_X|Location_Y|Latitude|Longitude|Label)>)(.*?)(</\2>)", re.DOTALL
)


@contextmanager
def scope() -> Iterator[None]:
    """Values remembered inside are forgotten on leaving (one WeChat push; a keep-alive connection
    serves many pushes in one task, so without a scope the set would only grow)."""
    token = _sensitive.set(_sensitive.get())
    try:
        yield
    finally:
        _sensitive.reset(token)


def remember(*values: object) -> None:
    """Declare values (an openid, a name, a phone, coordinates) that no log line of this task may show."""
    extra = {str(v) for v in values if v is not None and len(str(v)) >= 2}
    if extra:
        _sensitive.set(_sensitive.get() | extra)


def redact(text: str) -> str:
    """``text`` with every personal detail this module knows how to find replaced by ***."""
    if not text:
        return text
    for value in sorted(_sensitive.get(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    text = normalize(text)
    text = _XML_FIELDS.sub(lambda m: f"{m.group(1)}{MASK}{m.group(4)}", text)
    text = _KEYED.sub(lambda m: f"{m.group('key')}{m.group('sep')}{MASK}", text)
    text = OPENID.sub(MASK, text)
    return MOBILE.sub(MASK, text)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what can be shown
        message = f"{record.msg!r} {record.args!r}"
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        # Formatters print a cached exc_text instead of formatting exc_info again.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class MalformedRequestFilter(logging.Filter):
    """One short line per malformed HTTP request, and no more than ``per_minute`` of them a minute."""

    def __init__(self, per_minute: int = MALFORMED_PER_MINUTE, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.per_minute = per_minute
        self.clock = clock
        self._lock = threading.Lock()
        self._window_start = clock()
        self._count = 0
        self._suppressed = 0

    def reset(self) -> None:
        """Start a fresh one-minute window."""
        with self._lock:
            self._window_start, self._count, self._suppressed = self.clock(), 0, 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not _is_malformed_http(exc):
            return True
        with self._lock:
            now = self.clock()
            if now - self._window_start >= 60:
                suppressed, self._suppressed = self._suppressed, 0
                self._window_start, self._count = now, 0
            else:
                suppressed = 0
            if self._count >= self.per_minute:
                self._suppressed += 1
                return False
            self._count += 1
        remote = record.getMessage().rsplit(" ", 1)[-1]
        status = getattr(exc, "code", 400)
        record.msg = "malformed HTTP request from %s: %s (%s)"
        record.args = (str(remote)[:64], type(exc).__name__, status)
        if suppressed:
            record.msg += "; %d more in the last minute not logged"
            record.args = (*record.args, suppressed)
        record.exc_info, record.exc_text = None, None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _is_malformed_http(exc: BaseException) -> bool:
    return isinstance(exc, HttpProcessingError)


MALFORMED = MalformedRequestFilter()
_installed = False
_install_lock = threading.Lock()


def install() -> None:
    """Mask personal data in every log record from now on, and shorten malformed-request logs (idempotent)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        logging.getLogger("aiohttp.server").addFilter(MALFORMED)
        # aiosqlite's debug lines repeat every statement with its parameters, from a worker thread.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        _installed = True
