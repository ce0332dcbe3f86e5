"""Reporter notices that arrive weeks later, over real HTTP against the strict fake 公众号 API.

A case is resolved 20 days after the reporters last wrote: the first reporter (still following) gets the
outcome as a template message; the second granted a subscription on the case page and unfollowed, and gets it
as a subscription notification (bizsend); the third has neither, and gets it as a customer-service text on
their next message. WeChat's delivery results come back to /wechat and the console's case page shows each
notice's route and result.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.outbound.channels.wechat_mp import WechatMpChannel
from bot.reports import workflow as api
from bot.reports.reporter_notice import case_page_url
from bot.services import Services
from bot.wechat.jssdk import signature
from bot.wechat.push import subscribe_popup_xml
from tests.conftest import RunningService, start_service, stop_service
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import APP_ID, FakeWechatApi, make_api_config
from tests.support.notices import drain
from tests.unit.console.helpers import ConsoleClient, make_staff, seed_report

REPORT_KEYS = ["character_string1", "phrase2", "thing3", "time4"]


@pytest.fixture
async def api_service(  # type: ignore[no-untyped-def]
    tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi, clock: FakeClock
) -> AsyncIterator[RunningService]:
    config = make_api_config(
        tmp_path,
        sqlite_url,
        fake_wechat,
        YCBOT_NOTICES_REPORT_TEMPLATE_ID="TPL-REPORT",
        YCBOT_NOTICES_SUBSCRIBE_TEMPLATE_ID="TPL-SUB",
    )
    fake_wechat.add_template("TPL-REPORT", REPORT_KEYS)
    fake_wechat.add_template("TPL-SUB", REPORT_KEYS)
    running = await start_service(config, object(), clock, platform=fake_wechat)
    yield running
    await stop_service(running)


async def change(services: Services, case_no: str, status: str, **fields: str) -> None:
    async with services.database.session() as session:
        await api.change_status(session, services, case_no, status, actor="张科长", now=services.now(), **fields)
        await session.commit()


async def test_outcomes_reach_reporters_weeks_later_by_template_subscription_and_next_message(
    api_service: RunningService, fake_wechat: FakeWechatApi
) -> None:
    services, wx, clock = api_service.services, api_service.wx, api_service.clock
    reporters = {"o-follows": "", "o-granted": "", "o-neither": ""}
    for n, openid in enumerate(reporters):  # three places far apart: three separate cases
        await wx.send_text(openid, "帮助")  # the reporter writes: a follower with a 48-hour window
        reporters[openid] = await seed_report(services, openid=openid, latitude=35.0 + n * 0.2, address=f"{n}号")
    # On the case page the second reporter accepts the subscription popup; WeChat pushes the choice.
    fake_wechat.grant_subscription("o-granted", "TPL-SUB")
    await wx.post_xml(subscribe_popup_xml(wx.account, "o-granted", "TPL-SUB"), openid="o-granted")
    await drain(services, fake_wechat)
    seen = {openid: len(fake_wechat.sent_to(openid)) for openid in reporters}

    def news(openid: str) -> list:  # type: ignore[type-arg]
        return fake_wechat.sent_to(openid)[seen[openid]:]

    for case_no in reporters.values():
        await change(services, case_no, "accepted", public_summary="某厂疑似偷排废水", public_reply="已受理")
    await drain(services, fake_wechat)
    for openid in reporters:  # inside the window: customer-service texts
        assert [d.kind for d in news(openid)] == ["text"], [d.text for d in news(openid)]
    for openid in ("o-granted", "o-neither"):
        await wx.send_event(openid, "unsubscribe")

    clock.advance(days=20)
    for case_no in reporters.values():
        await change(services, case_no, "investigating")
        await change(services, case_no, "resolved", note="责令整改", public_reply="经查属实，已责令整改")
    await drain(services, fake_wechat)

    by_template = news("o-follows")[1:]
    assert [d.kind for d in by_template] == ["template", "template"]
    assert by_template[-1].body["template_id"] == "TPL-REPORT"
    assert by_template[-1].body["data"]["phrase2"]["value"] == "已办结"
    assert by_template[-1].body["data"]["character_string1"]["value"] == reporters["o-follows"]
    # One-time grant: the first of the two notices goes by bizsend, the outcome waits for the next message.
    assert [d.kind for d in news("o-granted")[1:]] == ["subscribe"]
    assert news("o-neither")[1:] == []
    assert {r.errcode for r in fake_wechat.refused_for("o-neither")} == {43004}  # templates refused: unfollowed

    await wx.send_event("o-neither", "subscribe")
    await wx.send_text("o-neither", f"查询 {reporters['o-neither']}")
    await drain(services, fake_wechat)
    late = [d.text for d in news("o-neither")[1:]]
    assert len(late) == 2 and "已办结" in late[-1] and "经查属实" in late[-1]
    assert all(d.kind == "text" for d in news("o-neither"))

    await make_staff(services, "admin", "市生态环境局", admin=True)
    console = ConsoleClient(api_service.url)
    try:
        assert await console.login("admin") == 303
        pages = {}
        for openid, case_no in reporters.items():
            status, pages[openid], _ = await console.get(f"/console/reports/{case_no}")
            assert status == 200
    finally:
        await console.close()
    section = {k: page.split('id="notices"')[1].split("</section>")[0] for k, page in pages.items()}
    assert "模板消息" in section["o-follows"] and "送达" in section["o-follows"]
    assert "订阅通知" in section["o-granted"] and "送达" in section["o-granted"]
    assert "等待用户互动" in section["o-neither"] and "失败：errcode 43004" in section["o-neither"]
    assert section["o-neither"].count("客服消息") == 3  # 1 on day 0, 2 after the next message
    assert "已提交微信" not in "".join(section.values())  # every accepted message's fate came back


async def test_the_case_page_shows_status_and_reply_and_offers_the_subscription_signed_with_one_ticket(
    api_service: RunningService, fake_wechat: FakeWechatApi
) -> None:
    services = api_service.services
    case_no = await seed_report(services, openid="o-page", description="某厂偷排，电话13912345678")
    await change(services, case_no, "accepted", public_summary="某厂疑似偷排废水", public_reply="已派员核查")
    async with services.database.session() as session:
        url = await case_page_url(session, services.config, case_no, services.now())
        await session.commit()
    path = url.removeprefix(services.config.server.public_base_url.rstrip("/"))
    assert path.startswith("/case/") and len(path) > len("/case/") + 40  # 256 random bits
    async with aiohttp.ClientSession() as http:
        pages = []
        for _ in range(2):
            async with http.get(api_service.url + path) as resp:
                assert resp.status == 200 and resp.headers["Referrer-Policy"] == "no-referrer"
                pages.append(await resp.text())
        async with http.get(api_service.url + "/case/not-a-token") as resp:
            assert resp.status == 404
        async with http.get(api_service.url + "/case/" + "A" * 5000) as resp:
            assert resp.status == 404  # an oversized token is refused without a query
    page = pages[-1]
    assert case_no in page and "已受理" in page and "已派员核查" in page
    assert "13912345678" not in page and "偷排，电话" not in page  # nothing the reporter wrote
    assert '<wx-open-subscribe template="TPL-SUB"' in page
    wx_config = json.loads(re.search(r"wx\.config\((\{.*?\})\);", page).group(1))  # type: ignore[union-attr]
    assert wx_config["openTagList"] == ["wx-open-subscribe"] and wx_config["appId"] == APP_ID
    [ticket] = fake_wechat.tickets  # two page loads, one ticket
    assert wx_config["signature"] == signature(ticket, wx_config["nonceStr"], wx_config["timestamp"], url)
    # Another process shares the ticket through the same cache instead of asking WeChat again.
    other = WechatMpChannel.from_config(services.config, services.database, clock=services.clock)
    try:
        assert await other.jsapi_ticket() == ticket
    finally:
        await other.close()
    assert fake_wechat.count("/cgi-bin/ticket/getticket") == 1
