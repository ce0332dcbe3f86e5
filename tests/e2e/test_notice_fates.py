"""Delivery you can see: WeChat's results for department notices are stored against the notice, shown on
the console's case page, and a notice that never reached an official alerts the coordinator department."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.reports import geo
from bot.reports.notice_log import case_notices
from storage.models import NoticeDelivery
from tests.conftest import RunningService, start_service, stop_service
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config
from tests.support.notices import drain
from tests.unit.console.helpers import seed_report
from tests.unit.reminders.helpers import add_contact

CASE_KEYS = ["character_string1", "thing2", "thing3", "time4"]
TODO_KEYS = ["thing1", "time2", "thing3", "thing4"]


@pytest.fixture
async def api_service(  # type: ignore[no-untyped-def]
    tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi, clock: FakeClock
) -> AsyncIterator[RunningService]:
    config = make_api_config(
        tmp_path,
        sqlite_url,
        fake_wechat,
        YCBOT_REMINDERS_TEMPLATE_ID="TPL-TODO",
        YCBOT_NOTICES_CASE_TEMPLATE_ID="TPL-CASE",
    )
    fake_wechat.add_template("TPL-CASE", CASE_KEYS)
    fake_wechat.add_template("TPL-TODO", TODO_KEYS)
    running = await start_service(config, object(), clock, platform=fake_wechat)
    yield running
    await stop_service(running)


async def test_a_blocked_and_an_unfollowed_official_are_shown_and_alert_the_coordinator(
    api_service: RunningService, fake_wechat: FakeWechatApi
) -> None:
    services = api_service.services
    county = geo.county_government("盐湖区")
    assert services.config.reminders.coordinator_department == "市生态环境局"
    await add_contact(services.database, "市生态环境局", "o-coord", name="赵六", now=services.now())
    await add_contact(services.database, county, "o-blocks", name="孙七", now=services.now())
    await add_contact(services.database, county, "o-gone", name="周八", now=services.now())
    fake_wechat.follow("o-coord", "o-blocks")  # o-gone unfollowed: WeChat answers 43004
    fake_wechat.block("o-blocks")  # accepted, then reported as "failed:user block"
    case_no = await seed_report(services, county="盐湖区")
    await drain(services, fake_wechat)  # notices, their fates, the alerts they cause
    await drain(services, fake_wechat)

    async with services.database.session() as session:
        lines = {line.recipient: line for line in await case_notices(session, case_no)}
        results = dict((await session.execute(select(NoticeDelivery.notice_key, NoticeDelivery.result))).all())
    assert lines["市生态环境局 赵六"].result == "送达" and lines["市生态环境局 赵六"].route == "模板消息"
    assert lines[f"{county} 孙七"].result.startswith("失败：failed:user block")
    assert lines[f"{county} 周八"].result.startswith("失败：errcode 43004")
    assert all(result != "accepted" for result in results.values()), results  # every fate came back

    alerts = [d for d in fake_wechat.sent_to("o-coord") if d.body["template_id"] == "TPL-TODO"]
    assert len(alerts) == 2
    assert {d.body["data"]["thing3"]["value"] for d in alerts} == {"已拒收模板消息", "未关注公众号"}
    assert {d.body["data"]["thing4"]["value"] for d in alerts} == {county}
