"""The log redaction: what a future log line may not show, and the malformed-request limiter."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

from bot import logsafe
from bot.scrub import scrub


@pytest.mark.parametrize(
    "phone",
    [
        "13712345678",
        "8613712345678",
        "+86 137 1234 5678",
        "0086-137-1234-5678",
        "１３７１２３４５６７８",
        "＋８６１３７１２３４５６７８",
    ],
)
def test_phone_numbers_in_every_spelling_are_masked(phone: str) -> None:
    assert "5678" not in logsafe.redact(f"call {phone} now")
    assert "5678" not in scrub(f"电话{phone}")


def test_openids_and_keyed_values_are_masked() -> None:
    line = logsafe.redact(
        "push from oAbCdEfGhIjKlMnOpQrStUvWx-12 openid=user-u name='张三' latitude=35.0312 lon: 111.0075 "
        "<FromUserName><![CDATA[user-x]]></FromUserName>"
    )
    for secret in ("oAbCdEfGhIjKlMnOpQrStUvWx-12", "user-u", "张三", "35.0312", "111.0075", "user-x"):
        assert secret not in line
    assert "push from" in line


def test_values_remembered_by_the_task_are_masked_only_there() -> None:
    async def inside() -> str:
        logsafe.remember("王小明", 35.123456)
        return logsafe.redact("王小明 at 35.123456")

    assert asyncio.run(inside()) == "*** at ***"
    assert logsafe.redact("王小明") == "王小明"  # another task never declared it


def test_a_scope_forgets_what_was_remembered_inside() -> None:
    async def pushes() -> list[str]:
        seen = []
        for name in ("甲某某", "乙某某"):  # two pushes on one keep-alive connection: one task
            with logsafe.scope():
                logsafe.remember(name)
                seen.append(logsafe.redact("甲某某 乙某某"))
        seen.append(logsafe.redact("甲某某 乙某某"))
        return seen

    assert asyncio.run(pushes()) == ["*** 乙某某", "甲某某 ***", "甲某某 乙某某"]


def test_tracebacks_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    logsafe.install()
    try:
        raise ValueError("insert failed for 13712345678")
    except ValueError:
        logging.getLogger("test.logsafe").exception("boom for %s", "oAbCdEfGhIjKlMnOpQrStUvWx-12")
    assert "13712345678" not in caplog.text and "oAbCdEfGhIjKlMnOpQrStUvWx-12" not in caplog.text
    assert "insert failed for ***" in caplog.text


def test_malformed_requests_are_one_short_line_and_rate_limited() -> None:
    now = [0.0]
    limiter = logsafe.MalformedRequestFilter(per_minute=3, clock=lambda: now[0])

    def record(exc: BaseException) -> logging.LogRecord:
        return logging.LogRecord(
            "aiohttp.server",
            logging.ERROR,
            __file__,
            1,
            "Error handling request from 10.0.0.1",
            None,
            (type(exc), exc, None),
        )

    kept = [r for r in (record(LineTooLong(b"GET /?openid=x" * 500, 8190)) for _ in range(10)) if limiter.filter(r)]
    assert len(kept) == 3
    assert kept[0].getMessage() == "malformed HTTP request from 10.0.0.1: LineTooLong (400)"
    assert kept[0].exc_info is None and kept[0].levelname == "WARNING"
    now[0] = 61.0
    later = record(BadHttpMessage("bad"))
    assert limiter.filter(later)
    assert later.getMessage().endswith("7 more in the last minute not logged")
    other = logging.LogRecord(
        "aiohttp.server", logging.ERROR, __file__, 1, "other", None, (ValueError, ValueError(), None)
    )
    assert limiter.filter(other) and other.exc_info is not None  # other errors pass unchanged
