"""Log lines for operators: ISO-8601 timestamps in the service's local zone, with their offset.

``2026-12-04T10:15:02.311+08:00 WARNING bot.outbound.worker: …`` reads the same as the times the console
shows (China Standard Time by default, ``[reminders] timezone``), and the offset says so explicitly.
"""

from __future__ import annotations

import logging

from bot.logging_setup import DEFAULT_ZONE, ZonedFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
