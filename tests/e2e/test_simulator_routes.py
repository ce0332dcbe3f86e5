"""In the sandbox, with no credentials, a person sees each route of a reporter notice in the simulator:
the customer-service text, the template message once the window is over, the subscription notification
after 订阅结果 and unfollowing, and a notice that waits for the next message."""

from __future__ import annotations

from typing import Any

from bot.outbound.worker import OutboxWorker
from bot.reports import workflow as api
from bot.reports.notice_log import case_notices
from bot.services import Services
from tests.conftest import RunningService
from tests.e2e.test_simulator_api import api as sim
from tests.e2e.test_simulator_api import feed
from tests.unit.console.helpers import seed_report


async def resolve(services: Services, case_no: str) -> None:
    async with services.database.session() as session:
        await api.change_status(session, services, case_no, "accepted", actor="张科长", now=services.now(),
                                public_summary="某厂疑似偷排废水", public_reply="已派员核查")
        await session.commit()
    while await OutboxWorker(services).run_once():
        pass


async def kinds(service: RunningService, openid: str) -> list[tuple[str, bool]]:
    status, data = await feed(service, openid)
    assert status == 200
    items: list[dict[str, Any]] = data["messages"]
    return [(item["kind"], "refused" in item) for item in items]


async def test_every_route_shows_in_the_simulator(service: RunningService) -> None:
    services = service.services
    cases = {}
    for n, openid in enumerate(("u-text", "u-template", "u-granted", "u-waits")):
        assert (await sim(service, "text", {"openid": openid, "content": "帮助"}))[0] == 200
        cases[openid] = await seed_report(services, openid=openid, latitude=35.0 + n * 0.2, address=f"{n}号")
    assert (await sim(service, "expire-window", {"openid": "u-template"}))[0] == 200
    assert (await sim(service, "grant", {"openid": "u-granted"}))[0] == 200
    for openid in ("u-granted", "u-waits"):
        assert (await sim(service, "unsubscribe", {"openid": openid}))[0] == 200
    for case_no in cases.values():
        await resolve(services, case_no)

    assert await kinds(service, "u-text") == [("text", False)]
    assert await kinds(service, "u-template") == [("template", False)]
    assert await kinds(service, "u-granted") == [("template", True), ("subscribe", False)]  # 43004, then bizsend
    assert await kinds(service, "u-waits") == [("template", True)]
    await sim(service, "subscribe", {"openid": "u-waits"})
    await sim(service, "text", {"openid": "u-waits", "content": f"查询 {cases['u-waits']}"})
    while await OutboxWorker(services).run_once():
        pass
    assert await kinds(service, "u-waits") == [("template", True), ("text", False)]
    _, data = await feed(service, "u-waits")
    assert "已受理" in data["messages"][-1]["lines"][0]
    async with services.database.session() as session:  # what the console's case page lists
        shown = {o: [(n.route, n.result[:2]) for n in await case_notices(session, c)] for o, c in cases.items()}
    assert shown["u-text"] == [("客服消息", "送达")]
    assert shown["u-template"] == [("模板消息", "送达")]
    assert shown["u-granted"] == [("模板消息", "失败"), ("订阅通知", "送达")]
    assert shown["u-waits"] == [("模板消息", "失败"), ("等待", "等待"), ("客服消息", "送达")]
