"""Log lines for operators: ISO-8601 timestamps in the service's local zone, with their offset.

``2026-12-04T10:15:02.311+08:00 WARNING bot.outbound.worker: …`` reads the same as the times the console
shows (China Standard Time by default, ``[reminders] timezone``), and the offset says so explicitly.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DEFAULT_ZONE = "Asia/Shanghai"


class ZonedFormatter(logging.Formatter):
    """``logging.Formatter`` whose ``asctime`` is an ISO-8601 time with offset in ``zone``."""

    def __init__(self, fmt: str = FORMAT, zone: str = DEFAULT_ZONE) -> None:
        super().__init__(fmt)
        self.zone = ZoneInfo(zone)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="milliseconds")


class _ServiceHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure`` installs (told apart from handlers others installed)."""


def configure(level: int | str = logging.WARNING, zone: str = DEFAULT_ZONE) -> None:
    """Log to stderr with zoned timestamps, unless the root logger already has other handlers (tests)."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _ServiceHandler)]
    if not root.handlers:
        handler = _ServiceHandler()
        root.addHandler(handler)
        ours = [handler]
    for handler in ours:
        handler.setFormatter(ZonedFormatter(FORMAT, zone))
    root.setLevel(level.upper() if isinstance(level, str) else level)
