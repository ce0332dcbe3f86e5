"""The staff console in a real headless Chromium (Debian's /usr/bin/chromium), against the real API channel.

The service runs with ``[channel] kind = "wechat"`` pointed at the fake WeChat API on loopback. An official
logs in, filters the list, opens a case whose photo loads, accepts it, sets it to investigating and
resolves it with a reply; one outbox pass later the reporter's update is at the fake API. Refusals are
checked in the browser too: no session, no CSRF token, another department's case.

Screenshots of the list and the case page at phone and desktop widths go to /tmp/console-*.png.
If Chromium is missing, the setup runs ``apt-get install -y chromium`` and skips (saying why) only when
that fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.outbound.worker import OutboxWorker
from storage.contacts import create_binding_code, resolve_department
from tests.conftest import RunningService, start_service, stop_service
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config
from tests.support.fonts import ensure_chinese_font
from tests.unit.console.helpers import PASSWORD, make_staff, sample_jpeg, seed_report, seed_tasks

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
REPORTER = "o-reporter-browser"
LOCAL = ZoneInfo("Asia/Shanghai")
REPLY = "经现场核查，该企业确有偷排行为，已责令停产整改并立案处罚。感谢您的监督！"


def _chromium_problem() -> str | None:
    if CHROMIUM.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "install", "-y", "chromium"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "chromium"],
    ):
        if CHROMIUM.exists():
            break
        try:
            subprocess.run(command, env=env, capture_output=True, timeout=1200, check=False)
        except (OSError, subprocess.TimeoutExpired):
            break
    return None if CHROMIUM.exists() else "apt-get install -y chromium failed"


@pytest.fixture(scope="module")
def chromium_path() -> str:
    problem = _chromium_problem()
    if problem:
        pytest.skip(f"console browser test skipped: {problem}")
    ensure_chinese_font()  # readable screenshots; the assertions do not depend on it
    return str(CHROMIUM)


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def api_service(tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi) -> AsyncIterator[RunningService]:
    config = make_api_config(tmp_path, sqlite_url, fake_wechat, YCBOT_CONSOLE_SECRET_KEY="browser-test-key")
    running = await start_service(config, object(), FakeClock(), platform=fake_wechat)
    yield running
    await stop_service(running)


async def _login(page: Any, base: str, username: str) -> None:
    await page.goto(f"{base}/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/console/reports")


async def _open_action(page: Any, title: str) -> None:
    """Unfold the action whose <summary> reads exactly ``title``."""
    await page.locator("summary", has_text=re.compile(f"^{re.escape(title)}$")).click()


async def _photo_loaded(page: Any) -> bool:
    return bool(await page.eval_on_selector(".photos img", "img => img.complete && img.naturalWidth > 0"))


async def test_official_resolves_a_case_and_the_reporter_is_told(
    browser: Any, api_service: RunningService, fake_wechat: FakeWechatApi
) -> None:
    services = api_service.services
    base = api_service.url
    await make_staff(services, "eco", "市生态环境局")
    case_no = await seed_report(services, openid=REPORTER, photos=(sample_jpeg(),))
    fake_wechat.user_message(REPORTER)  # the report was the reporter's own messages: WeChat opened the window
    for index in range(3):
        await seed_report(
            services,
            openid=f"o-other-{index}",
            category="banned_chemical" if index else "other",
            latitude=35.3 + index * 0.1,
            longitude=111.2,
            county="夏县",
            description="化工厂疑似生产已淘汰的全氟辛基磺酸类产品",
        )

    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = await context.new_page()
    await _login(page, base, "eco")
    assert await page.locator("#total").inner_text() == "4"

    # Filter the list by category and county; the form is a plain GET form.
    await page.select_option("select[name=category]", "discharge")
    await page.select_option("select[name=county]", "盐湖区")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**/console/reports?*category=discharge*")
    assert await page.locator("#total").inner_text() == "1"
    await page.screenshot(path="/tmp/console-list-desktop.png", full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path="/tmp/console-list-phone.png", full_page=True)
    await page.set_viewport_size(DESKTOP)

    await page.click(f"text={case_no}")
    await page.wait_for_url(f"**/console/reports/{case_no}")
    assert await _photo_loaded(page)
    assert "在地图中查看" in await page.content()
    await page.screenshot(path="/tmp/console-case-desktop.png", full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path="/tmp/console-case-phone.png", full_page=True)
    await page.set_viewport_size(DESKTOP)

    # Accept, set investigating, resolve with a reply: each is a form behind a <details>.
    await _open_action(page, "受理")
    await page.click("button:has-text('受理并通知举报人')")
    await page.wait_for_selector("text=已受理案件")
    await _open_action(page, "开始调查处理")
    await page.fill("details[open] textarea[name=note]", "已派执法人员到现场")
    await page.click("button:has-text('设为调查处理中')")
    await page.wait_for_selector("text=已进入调查处理")
    await _open_action(page, "办结并答复举报人")
    await page.fill("details[open] textarea[name=note]", "现场查实，责令停产整改")
    await page.fill("details[open] textarea[name=public_reply]", REPLY)
    await page.click("button:has-text('办结并发送答复')")
    await page.wait_for_selector("text=答复已发送给举报人")
    assert await page.locator("#status").inner_text() == "已办结"
    assert REPLY in await page.locator("#public-reply").inner_text()
    await page.screenshot(path="/tmp/console-case-resolved-desktop.png", full_page=True)
    await context.close()

    # The outbox worker sends the updates through the 公众号 API to the reporter.
    sent = 0
    while True:
        handled = await OutboxWorker(services).run_once()
        sent += handled
        if not handled:
            break
    delivered = [d for d in fake_wechat.sent_to(REPORTER) if d.kind == "text"]
    assert len(delivered) == 3
    assert REPLY in delivered[-1].text and case_no in delivered[-1].text


async def test_refusals_in_the_browser(browser: Any, api_service: RunningService) -> None:
    services = api_service.services
    base = api_service.url
    await make_staff(services, "eco", "市生态环境局")
    await make_staff(services, "agri", "市农业农村局")
    case_no = await seed_report(services, photos=(sample_jpeg(),))

    # With a session: find the photo's opaque address.
    staff = await browser.new_context(viewport=DESKTOP)
    page = await staff.new_page()
    await _login(page, base, "eco")
    await page.goto(f"{base}/console/reports/{case_no}")
    photo_url = await page.get_attribute(".photos img", "src")
    assert photo_url and photo_url.startswith("/console/photos/")

    # A form without the CSRF token is refused and changes nothing.
    await _open_action(page, "受理")
    await page.eval_on_selector_all("input[name=csrf_token]", "inputs => inputs.forEach(i => i.remove())")
    response_holder: list[Any] = []
    page.on("response", lambda r: response_holder.append(r) if r.request.method == "POST" else None)
    await page.click("button:has-text('受理并通知举报人')")
    await page.wait_for_selector("text=表单校验失败")
    assert response_holder and response_holder[-1].status == 403
    await page.goto(f"{base}/console/reports/{case_no}")
    assert await page.locator("#status").inner_text() == "待受理"
    await staff.close()

    # Without a session: the case page sends to the log-in page, the photo is refused.
    anonymous = await browser.new_context(viewport=DESKTOP)
    page = await anonymous.new_page()
    response = await page.goto(f"{base}/console/reports/{case_no}")
    assert "/console/login" in page.url and "偷排" not in await page.content()
    response = await page.goto(f"{base}{photo_url}")
    assert response is not None and response.status == 401
    await anonymous.close()

    # Another department cannot open the case (nor its photo).
    other = await browser.new_context(viewport=PHONE)
    page = await other.new_page()
    await _login(page, base, "agri")
    response = await page.goto(f"{base}/console/reports/{case_no}")
    assert response is not None and response.status == 404
    assert "不属于您的部门" in await page.content()
    response = await page.goto(f"{base}{photo_url}")
    assert response is not None and response.status == 404
    await other.close()


async def test_task_pages(browser: Any, api_service: RunningService, tmp_path: Path) -> None:
    from playwright.async_api import expect

    services = api_service.services
    base = api_service.url
    await seed_tasks(services)
    await make_staff(services, "eco", "市生态环境局")
    # The co-operating bureau's contact reports T01 done in the chat; the console shows who and when.
    async with services.database.session() as session:
        unit = await resolve_department(session, "市工信局")
        code, _row = await create_binding_code(session, unit, name="钱七", now=api_service.clock())
        await session.commit()
    assert "绑定成功" in (await api_service.wx.send_text("o-gongxin", f"绑定 {code}")).content
    assert "已记录：市工信局完成了任务 T01" in (await api_service.wx.send_text("o-gongxin", "完成 T01")).content
    done_at = api_service.clock().astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = await context.new_page()
    await _login(page, base, "eco")
    await page.click("nav >> text=方案任务")
    await page.wait_for_url(f"{base}/console/tasks")
    ids = await page.locator("#tasks tbody tr td:first-child").all_inner_texts()
    assert ids == ["T01", "T02"]  # overdue first
    await page.screenshot(path="/tmp/console-tasks-desktop.png", full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path="/tmp/console-tasks-phone.png", full_page=True)
    await page.click("text=T01")
    chat_row = page.locator("#departments tbody tr", has_text="市工信局")
    for shown in ("配合", "已完成", done_at, "钱七（联络人#", "微信"):
        await expect(chat_row).to_contain_text(shown)
    await page.click("button:has-text('记录为已完成')")
    await page.wait_for_selector("text=完成了任务 T01")
    own_row = page.locator("#departments tbody tr", has_text="市生态环境局")
    for shown in ("牵头", "已完成", "eco", "控制台"):
        await expect(own_row).to_contain_text(shown)
    history = page.locator("#completions tbody tr")
    await expect(history).to_have_count(2)
    await expect(page.locator("#completions")).to_contain_text("钱七（联络人#")
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(tmp_path / "console-task-page.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path="/tmp/console-task-phone.png", full_page=True)
    await context.close()
