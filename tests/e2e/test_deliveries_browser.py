"""The failed-delivery page in headless Chromium: a notice the strict fake WeChat API refuses (server IP not
whitelisted) shows with its code, meaning and an alert; once the fake is fixed, "retry now" sends it.
Discarding is audited. Reuses the console browser test's Chromium and login."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.outbound.notify import notify_department
from bot.outbound.worker import OutboxWorker
from storage.models import OutboxMessage
from tests.conftest import RunningService, start_service, stop_service
from tests.e2e.test_console_browser import DESKTOP, _login, browser, chromium_path  # noqa: F401  (fixtures)
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config
from tests.unit.console.helpers import make_staff
from tests.unit.reminders.helpers import add_contact

pytestmark = pytest.mark.browser

DUTY = "o-duty-officer-77"
OTHER = "o-other-officer-88"


@pytest.fixture
async def api_service(tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi) -> AsyncIterator[RunningService]:
    config = make_api_config(
        tmp_path, sqlite_url, fake_wechat, YCBOT_CONSOLE_SECRET_KEY="browser-test-key", YCBOT_REMINDERS_TEMPLATE_ID="T1"
    )
    running = await start_service(config, object(), FakeClock())
    yield running
    await stop_service(running)


async def _notice(service: RunningService, department: str, key: str) -> None:
    services = service.services
    async with services.database.session() as session:
        await notify_department(
            session, services, department=department, title="新案件", fields={"事项": "新案件待受理"},
            detail="", url=service.url, dedup_key=key, now=services.now(),
        )  # fmt: skip
        await session.commit()


async def test_a_refused_notice_is_shown_and_retried_after_the_fix(
    browser: Any,  # noqa: F811
    api_service: RunningService,
    fake_wechat: FakeWechatApi,
) -> None:
    services, base = api_service.services, api_service.url
    await make_staff(services, "admin", "市生态环境局", admin=True)
    await make_staff(services, "eco", "市生态环境局")
    now = services.now()
    await add_contact(services.database, "市生态环境局", DUTY, name="值班员", now=now)
    await add_contact(services.database, "市卫健委", OTHER, name="联络员", now=now)
    fake_wechat.add_template("T1", ["thing1", "time2", "thing3", "thing4"])  # the reminders template, as picked
    fake_wechat.follow(DUTY, OTHER)
    fake_wechat.set_errcode_for(DUTY, 40164)  # the server's IP is not on the account's whitelist
    fake_wechat.set_errcode_for(OTHER, 43004)  # the official unfollowed the account
    await _notice(api_service, "市生态环境局", "notice:case-1")
    await _notice(api_service, "市卫健委", "notice:case-2")
    await OutboxWorker(services).run_once()
    assert fake_wechat.sent_to(DUTY) == []

    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = await context.new_page()
    await _login(page, base, "admin")
    await page.click("nav >> text=发送失败")
    await page.wait_for_url(f"{base}/console/deliveries")
    duty = page.locator("#deliveries tbody tr", has_text="o-du…77")
    assert await duty.locator(".errcode").inner_text() == "40164"
    assert "IP 不在公众号白名单" in await duty.locator(".meaning").inner_text()
    assert await duty.get_attribute("data-state") == "retrying"
    alert = await page.locator("p.alert").inner_text()
    assert "40164" in alert and "IP白名单" in alert
    assert DUTY not in await page.content()  # recipients are masked
    other = page.locator("#deliveries tbody tr", has_text="o-ot…88")
    assert await other.get_attribute("data-state") == "dead"
    assert "未关注" in await other.locator(".meaning").inner_text()
    await page.screenshot(path="/tmp/console-deliveries-desktop.png", full_page=True)

    # The operator whitelists the IP (the fake stops refusing) and retries now.
    fake_wechat.set_errcode_for(DUTY, 0)
    await duty.locator("button", has_text="立即重发").click()
    await page.wait_for_selector("text=已安排立即重发")
    assert await page.locator("#deliveries tbody tr", has_text="o-du…77").count() == 0
    await OutboxWorker(services).run_once()
    (delivered,) = fake_wechat.sent_to(DUTY)
    assert delivered.kind == "template"

    # Discarding the other one is audited.
    await other.locator("button", has_text="放弃").click()
    await page.wait_for_selector("text=已放弃发送")
    assert await page.locator("#no-deliveries").count() == 1
    await page.goto(f"{base}/console/audit")
    assert "消息放弃发送" in await page.locator("#audit").inner_text()
    async with services.database.session() as session:
        statuses = sorted((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == ["discarded", "sent"]
    await context.close()

    # A department account may not see the page or act.
    staff = await browser.new_context(viewport=DESKTOP)
    page = await staff.new_page()
    await _login(page, base, "eco")
    assert "发送失败" not in await page.locator("nav").inner_text()
    response = await page.goto(f"{base}/console/deliveries")
    assert response is not None and response.status == 403
    await staff.close()
