"""The channel-neutral notice: stored once, mapped by each channel when the worker sends it; rows stored in
a channel's own form before the change still go out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.outbound.mapping import render
from bot.outbound.notice import CASE, Field, Notice
from bot.outbound.worker import OutboxWorker
from bot.services import Services
from storage.db import Database
from storage.migrate import upgrade
from storage.outbox import enqueue
from tests.conftest import make_config
from tests.unit.reminders.fakes import RecordingChannel

MOMENT = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
NOTICE = Notice(
    "新的举报线索",
    (
        Field("案件编号", "YC20261120-0001", "code", "case_no"),
        Field("类别", "工业废水", "text", "category"),
        Field("区县", "盐湖区", "unit", "county"),
        Field("提交时间", MOMENT, "time", "time"),
    ),
    "某厂夜间排放",
    "http://example.org/console/reports/YC20261120-0001",
    template=CASE,
    todo=("新举报YC20261120-0001", MOMENT, "工业废水", "盐湖区"),
)


def test_a_notice_survives_its_json_payload() -> None:
    again = Notice.from_payload(NOTICE.as_payload())
    assert again == NOTICE
    dated = Notice("t", (Field("截止", date(2026, 12, 31), "time"),))
    assert Notice.from_payload(dated.as_payload()).fields[0].value == date(2026, 12, 31)
    with pytest.raises(ValueError):
        Field("x", "y", "colour")
    with pytest.raises(ValueError):
        Notice.from_payload({"template_id": "T", "data": {}})


def test_each_channel_maps_the_notice(tmp_path: Path) -> None:
    named = make_config(tmp_path, "sqlite://", YCBOT_NOTICES_CASE_TEMPLATE_ID="CASE-TPL")
    kind, payload = render(named, "mp", NOTICE)
    assert (kind, payload["template_id"]) == ("template", "CASE-TPL")
    assert payload["data"] == {
        "character_string1": "YC20261120-0001", "thing2": "工业废水", "thing3": "盐湖区",
        "time4": "2026年11月20日 10:30",
    }  # fmt: skip
    todo = make_config(tmp_path, "sqlite://", YCBOT_REMINDERS_TEMPLATE_ID="TODO-TPL")
    kind, payload = render(todo, "mp", NOTICE)
    assert payload["template_id"] == "TODO-TPL"
    assert payload["data"] == {
        "thing1": "新举报YC20261120-0001", "time2": "2026年11月20日 10:30", "thing3": "工业废水", "thing4": "盐湖区",
    }  # fmt: skip
    kind, card = render(todo, "wecom", NOTICE)
    assert kind == "textcard" and card["title"] == "新的举报线索" and card["url"] == NOTICE.link
    assert card["description"].splitlines()[:2] == ["案件编号：YC20261120-0001", "类别：工业废水"]
    assert "提交时间：2026年11月20日 10:30" in card["description"] and "某厂夜间排放" in card["description"]


async def test_the_worker_sends_notices_and_old_rows(tmp_path: Path, sqlite_url: str) -> None:
    config = make_config(tmp_path, sqlite_url, YCBOT_REMINDERS_TEMPLATE_ID="TODO-TPL")
    database = Database(sqlite_url)
    await upgrade(database)
    channels = {"mp": RecordingChannel("mp"), "wecom": RecordingChannel("wecom")}
    services = Services(config=config, database=database, channels=dict(channels))
    try:
        async with database.session() as s:
            now = services.now()
            for channel, recipient in (("mp", "o-1"), ("wecom", "zhang.san")):
                await enqueue(s, channel=channel, kind="notice", recipient=recipient, payload=NOTICE.as_payload(),
                              now=now, dedup_key=f"n-{recipient}")  # fmt: skip
            old = {"template_id": "TODO-TPL", "data": {"thing1": "旧格式的通知"}, "url": "http://example.org/x"}
            await enqueue(s, channel="mp", kind="template", recipient="o-2", payload=old, now=now, dedup_key="old")
            await s.commit()
        assert await OutboxWorker(services).run_once() == 3
    finally:
        await database.dispose()
    by_recipient = {m.recipient: m for c in channels.values() for m in c.sent}
    assert by_recipient["o-1"].data["thing1"] == "新举报YC20261120-0001"
    assert by_recipient["o-1"].client_msg_id == "n-o-1"
    assert "类别：工业废水" in by_recipient["zhang.san"].data["description"]
    assert by_recipient["o-2"].data == {"thing1": "旧格式的通知"}
