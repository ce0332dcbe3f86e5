"""Logs: JSON lines with time, level, logger, message and request id; one line per push; the access log;
no openid, phone number or name in any line of a run through the callback, console, Open311 and jobs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import aiohttp
import pytest

from bot.logging_setup import JsonFormatter, configure
from bot.outbound.worker import OutboxWorker
from bot.reminders.dispatch import run_pass
from bot.reports.photos import download_pending_photos
from storage.contacts import add_wecom_contact, resolve_department
from tests.conftest import RunningService
from tests.e2e.test_reports import api_service, file_report  # noqa: F401  (fixture)
from tests.support.fake_wechat_api import FakeWechatApi
from tests.unit.reminders.helpers import add_contact, load_tasks, task_toml
from tests.unit.reports import imagefactory as imgs

OPENID = "oXk9-logtest-openid-7781"
PHONE = "13912345678"
NAME = "欧阳静怡"
OFFICIAL = "司马振华"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every record at INFO and above, as the service writes it with format = "json"."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


async def test_a_full_run_logs_json_lines_without_personal_data(
    api_service: RunningService,  # noqa: F811  (the fixture imported above)
    fake_wechat: FakeWechatApi,
    json_lines: io.StringIO,
) -> None:
    service, wx = api_service, api_service.wx
    now = service.clock()
    async with service.services.database.session() as session:
        epb = await resolve_department(session, "市生态环境局")
        await add_wecom_contact(session, epb, "wecom-duty-9", name=OFFICIAL, now=now)
        await session.commit()
    await wx.send_text(OPENID, "PFOS是什么")
    # A real-name report: the wizard asks for the name and phone.
    fake_wechat.put_media("M1", imgs.jpeg(), "image/jpeg")
    assert "第1步" in (await wx.send_text(OPENID, "举报")).content
    await wx.send_text(OPENID, "1")
    await wx.send_text(OPENID, "某化工厂夜间通过暗管向河道偷排废水")
    await wx.send_location(OPENID, 35.0312, 111.0075, "山西省运城市盐湖区解放南路")
    await wx.send_image(OPENID, "M1")
    await wx.send_text(OPENID, "完成")
    assert NAME in (await wx.send_text(OPENID, f"{NAME} {PHONE}")).content  # the summary shows it back
    assert "案件编号" in (await wx.send_text(OPENID, "确认")).content
    await file_report(service, "second-reporter-openid")
    await download_pending_photos(service.services, now=now)
    await OutboxWorker(service.services).run_once()
    await load_tasks(service.services.database, task_toml("T1", deadline="2026-11-20"), now)
    await add_contact(service.services.database, "市卫健委", "o-health-official", name=OFFICIAL, now=now)
    await run_pass(service.services, now)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{service.url}/console/login", headers={"X-Request-Id": "trace-0001-abcd"}) as resp:
            assert resp.headers["X-Request-Id"] == "trace-0001-abcd"
        async with http.get(f"{service.url}/open311/v2/requests.json?api_key=secret-key-in-query") as resp:
            assert len(resp.headers["X-Request-Id"]) == 32
        async with http.get(f"{service.url}/console/no-such-page") as resp:
            page = await resp.text()
            assert resp.headers["X-Request-Id"] in page  # the error page shows the request id

    lines = json_lines.getvalue().splitlines()
    assert lines
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"time", "level", "logger", "message", "request_id"} <= record.keys()
        assert datetime.fromisoformat(record["time"]).tzinfo is not None
    pushes = [r for r in records if r["logger"] == "ycbot.push"]
    assert len(pushes) >= 10 and any(r["message"].startswith("push text answered") for r in pushes)
    assert any(r["message"].startswith("push location answered") for r in pushes)
    access = [r["message"] for r in records if r["logger"] == "ycbot.access"]
    assert "GET /console/login 200" in " ".join(access)
    assert any(m.startswith("GET /open311/v2/requests.json 200") for m in access)
    assert not any("secret-key-in-query" in m for m in access)
    everything = json_lines.getvalue()
    for secret in (OPENID, "second-reporter-openid", "o-health-official", "wecom-duty-9", PHONE, NAME, OFFICIAL):
        assert secret not in everything, f"{secret} reached the log"


def test_configure_writes_json_or_text(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        stream = io.StringIO()
        configure("json", "INFO", stream)
        logging.getLogger("ycbot.test").info("hello %s", "world")
        logging.getLogger("ycbot.test").debug("not shown")
        (line,) = stream.getvalue().splitlines()
        record = json.loads(line)
        assert (record["level"], record["logger"], record["message"], record["request_id"]) == (
            "INFO", "ycbot.test", "hello world", "-",
        )  # fmt: skip
        stream = io.StringIO()
        configure("text", "WARNING", stream)
        logging.getLogger("ycbot.test").warning("plain")
        assert stream.getvalue().rstrip().endswith("WARNING ycbot.test [-]: plain")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)
