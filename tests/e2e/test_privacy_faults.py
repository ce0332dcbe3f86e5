"""Faults must not put reporters into the logs: the database failing mid-report, malformed HTTP floods."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot import logsafe
from storage.models import Report
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock

OPENID = "oAbCdEfGhIjKlMnOpQrStUvWx-12"  # the shape of a real openid (28 characters)
NAME = "欧阳明华"
PHONE = "13712345678"
SPOT = (35.031247, 111.007513)
LABEL = "山西省运城市盐湖区解放南路88号"

_SQLITE_FAIL = (
    "CREATE TRIGGER reports_disk_full BEFORE INSERT ON reports "
    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
)
# PostgreSQL: the server process handling the INSERT ends itself, as when the database is stopped.
_PG_FAIL = (
    "CREATE FUNCTION reports_db_stops() RETURNS trigger AS $$ "
    "BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER reports_db_stops BEFORE INSERT ON reports FOR EACH ROW EXECUTE FUNCTION reports_db_stops()",
)
_PG_HEAL = ("DROP TRIGGER reports_db_stops ON reports", "DROP FUNCTION reports_db_stops()")


@pytest.fixture
async def svc(tmp_path: Path, db_url: str, knowledge_base, clock: FakeClock) -> AsyncIterator[RunningService]:
    running = await start_service(make_config(tmp_path, db_url), knowledge_base, clock)
    yield running
    await stop_service(running)


async def _execute(service: RunningService, *statements: str) -> None:
    async with service.services.database.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


def _personal_strings() -> list[str]:
    lat, lon = SPOT
    return [OPENID, NAME, PHONE, "137-1234-5678", str(lat), str(lon), f"{lat:.5f}", f"{lon:.5f}", "解放南路88号"]


async def test_database_failing_mid_report_logs_no_personal_data(
    svc: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wx = svc.wx
    for message in ("举报", "1", "某化工厂夜间通过暗管向河道偷排废水"):
        await wx.send_text(OPENID, message)
    await wx.send_location(OPENID, *SPOT, LABEL)
    await wx.send_text(OPENID, "跳过")
    assert "姓名 手机号" in (await wx.send_text(OPENID, "2")).content
    summary = (await wx.send_text(OPENID, f"{NAME} 137-1234-5678")).content
    assert NAME in summary
    caplog.clear()

    sqlite = svc.services.database.is_sqlite
    await _execute(svc, *((_SQLITE_FAIL,) if sqlite else _PG_FAIL))
    failed = await wx.send_text(OPENID, "确认")
    assert failed.status in {200, 500}
    async with svc.services.database.session() as session:
        assert (await session.scalars(select(Report))).all() == []
    logged = caplog.text
    assert "reports" in logged  # the failed INSERT was logged ...
    leaks = [value for value in _personal_strings() if value in logged]
    assert leaks == [], f"personal data in the log: {leaks}"  # ... without who filed it

    # Nothing was lost: with the database back, the same confirmation files the report.
    await _execute(svc, "DROP TRIGGER reports_disk_full" if sqlite else _PG_HEAL[0], *(() if sqlite else _PG_HEAL[1:]))
    svc.clock.advance(seconds=1)
    done = await wx.send_text(OPENID, "确认")
    assert "编号" in done.content or "已受理" in done.content or "YC" in done.content
    async with svc.services.database.session() as session:
        (report,) = (await session.scalars(select(Report))).all()
    assert (report.reporter_name, report.reporter_phone) == (NAME, PHONE)
    leaks = [value for value in _personal_strings() if value in caplog.text]
    assert leaks == []


async def _raw(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(4096), 5)
    except (ConnectionError, TimeoutError):
        return b""
    finally:
        writer.close()


async def test_malformed_request_flood_keeps_the_log_small(
    service: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    svc = service
    logsafe.MALFORMED.reset()
    caplog.set_level(logging.DEBUG)
    port = svc.server.port
    assert port is not None
    body = b"<xml>" + b"A" * 20000 + b"</xml>"
    short_length = b"POST /wechat?openid=" + OPENID.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
    short_length += b"Transfer-Encoding: chunked\r\n\r\n" + body
    long_line = b"GET /wechat?openid=" + OPENID.encode() + b"&x=" + b"B" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    bad_header = b"GET / HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"\x01" * 100 + PHONE.encode() + b"\r\n\r\n"
    payloads = [short_length, long_line, bad_header] * 40
    answers = [await _raw(port, payload) for payload in payloads]
    assert {answer.split(b"\r\n", 1)[0] for answer in answers} <= {b"HTTP/1.0 400 Bad Request", b""}
    # `python -m bot serve` runs without an access log; everything else the service logs counts.
    logged = "\n".join(
        f"{r.levelname} {r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if r.name != "aiohttp.access"
    )
    assert len(logged) < 4000, f"{len(logged)} bytes of log for {len(payloads)} malformed requests"
    assert OPENID not in logged and PHONE not in logged and "BBBB" not in logged
    assert "malformed HTTP request" in logged
