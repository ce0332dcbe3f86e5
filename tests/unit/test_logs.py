"""Log timestamps carry their zone and read as the console shows the same moment."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from datetime import UTC, datetime

from bot.cli.logs import ZonedFormatter
from bot.console.common import local_time


def _record(at: datetime) -> logging.LogRecord:
    record = logging.LogRecord("bot.test", logging.WARNING, __file__, 1, "outbox retry", None, None)
    record.created = at.timestamp()
    return record


def test_timestamp_has_the_offset_and_matches_the_console() -> None:
    at = datetime(2026, 12, 4, 2, 15, 2, 311000, tzinfo=UTC)
    line = ZonedFormatter().format(_record(at))
    assert line == "2026-12-04T10:15:02.311+08:00 WARNING bot.test: outbox retry"
    assert line[:16].replace("T", " ") == local_time(at)  # the console's "2026-12-04 10:15"


def test_another_configured_zone_says_so() -> None:
    at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert ZonedFormatter(zone="Europe/Berlin").format(_record(at)).startswith("2026-07-01T14:00:00.000+02:00 ")


def test_the_command_line_logs_with_zoned_timestamps() -> None:
    code = (
        "import logging; from bot.cli import logs; "
        "logs.configure('INFO'); logging.getLogger('bot.x').warning('hello')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00 WARNING bot\.x: hello\n", result.stderr)
