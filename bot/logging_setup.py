"""Log output: ``[logging] format = "text" | "json"``, a request id per HTTP request, the access log.

JSON lines carry ``time`` (ISO 8601 with the zone), ``level``, ``logger``, ``message`` and ``request_id``
(plus ``exception`` when there is one). The request id is taken from a well-formed ``X-Request-Id`` header
(nginx can set one) or made here, returned in the response's ``X-Request-Id`` and shown on the console's
error page. The access log covers the console and Open311 (method, path without the query string, status,
milliseconds); the WeChat callback logs one line per push (message type, outcome, milliseconds) and never
the sender. Rotation is left to journald or docker: the service writes to standard error only.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

REQUEST_ID_HEADER = "X-Request-Id"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
ACCESS = logging.getLogger("ycbot.access")
PUSHES = logging.getLogger("ycbot.push")
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_ACCESS_LOGGED = ("/console", "/open311")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
push_type: contextvars.ContextVar[str] = contextvars.ContextVar("push_type", default="-")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


DEFAULT_ZONE = "Asia/Shanghai"


class ZonedFormatter(logging.Formatter):
    """``logging.Formatter`` whose ``asctime`` is an ISO-8601 time with offset in ``zone``.

    ``2026-12-04T10:15:02.311+08:00`` reads the same as the times the console shows, and says its zone.
    """

    def __init__(self, fmt: str = "%(asctime)s %(levelname)s %(name)s: %(message)s", zone: str = DEFAULT_ZONE) -> None:
        super().__init__(fmt)
        self.zone = ZoneInfo(zone)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="milliseconds")


class TextFormatter(ZonedFormatter):
    def __init__(self, zone: str = DEFAULT_ZONE) -> None:
        super().__init__(TEXT_FORMAT, zone)

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = request_id.get()
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def __init__(self, zone: str = DEFAULT_ZONE) -> None:
        super().__init__()
        self.zone = ZoneInfo(zone)

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(log_format: str, level: str, stream: object = None, zone: str = DEFAULT_ZONE) -> logging.Handler:
    """Replace the root logger's handlers with one writing ``log_format`` lines to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter(zone) if log_format == "json" else TextFormatter(zone))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def note_push_type(msg_type: str) -> None:
    """The callback names the push's message type for its log line."""
    push_type.set(msg_type)


def request_logging(access_log: bool, busy: Callable[[], bool]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The middleware: request id in and out, the access log, one line per WeChat push.

    aiohttp's own access log is silenced: it prints the whole query string, and the callback's carries the
    sender's openid (and the console's may carry secrets).
    """
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if _WELL_FORMED.match(given) else secrets.token_hex(16)
        request_id.set(rid)
        push_type.set("-")
        started = time.monotonic()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            response.headers[REQUEST_ID_HEADER] = rid
            return response
        except web.HTTPException as exc:
            status = exc.status
            exc.headers[REQUEST_ID_HEADER] = rid
            raise
        finally:
            ms = (time.monotonic() - started) * 1000
            if request.path == "/wechat" and request.method == "POST":
                outcome = "busy" if busy() else "answered" if status < 400 else f"rejected_{status}"
                PUSHES.info("push %s %s %.0f ms", push_type.get(), outcome, ms)
            elif access_log and request.path.startswith(_ACCESS_LOGGED):
                ACCESS.info("%s %s %d %.0f ms", request.method, request.path, status, ms)

    return middleware
