"""Routed notices: the first route WeChat accepts, one record per attempt, and a customer-service text that
may have reached WeChat is never sent twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.config import load_config
from bot.outbound.channels.sandbox import SandboxChannel
from bot.outbound.fates import apply_early_fate, on_failed_fate, remove_failed_fate_hook
from bot.outbound.routes import ROUTED_KIND
from bot.outbound.worker import wake_waiting
from bot.reports.notice_log import case_notices
from bot.reports.reporter_notice import enqueue_reporter_notice
from bot.services import Services
from storage.db import Database
from storage.models import NoticeDelivery, OutboxMessage, SubscriptionGrant, WechatUser
from storage.notice_deliveries import record_fate, settle, start_attempt, store_grant
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config
from tests.support.notices import drain
from tests.unit.outbound.conftest import ChannelFactory

CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"
BIZSEND = "/cgi-bin/message/subscribe/bizsend"
KEYS = ["character_string1", "phrase2", "thing3", "time4"]


def make_services(
    tmp_path: Path, sqlite_url: str, database: Database, channels: ChannelFactory, fake: FakeWechatApi,
    clock: FakeClock, **overrides: object,
) -> Services:
    fake.clock = clock
    fake.add_template("TPL-REPORT", KEYS)
    fake.add_template("TPL-SUB", KEYS)
    config = make_api_config(tmp_path, sqlite_url, fake, **overrides)
    # A short client timeout: an answer held back by the fake arrives "after the client gave up".
    mp = channels.mp(database, timeout_seconds=0.5)
    return Services(config=config, database=database, channels={"mp": mp}, clock=clock)


@pytest.fixture
def templated(tmp_path, sqlite_url, sqlite_database, channels, fake_wechat, clock) -> Services:  # type: ignore[no-untyped-def]
    return make_services(
        tmp_path, sqlite_url, sqlite_database, channels, fake_wechat, clock,
        YCBOT_NOTICES_REPORT_TEMPLATE_ID="TPL-REPORT", YCBOT_NOTICES_SUBSCRIBE_TEMPLATE_ID="TPL-SUB",
    )


@pytest.fixture
def text_only(tmp_path, sqlite_url, sqlite_database, channels, fake_wechat, clock) -> Services:  # type: ignore[no-untyped-def]
    return make_services(tmp_path, sqlite_url, sqlite_database, channels, fake_wechat, clock)


async def reporter(services: Services, fake: FakeWechatApi, openid: str, *, hours_ago: float) -> None:
    written = services.now() - timedelta(hours=hours_ago)
    fake.user_message(openid, at=written)
    async with services.database.session() as session:
        session.add(WechatUser(openid=openid, subscribed=True, last_message_at=written))
        await session.commit()


async def notice(services: Services, openid: str, key: str, status: str = "resolved") -> None:
    async with services.database.session() as session:
        await enqueue_reporter_notice(
            session, services, openid=openid, case_no="YC20261120-0001", status=status, unit="市生态环境局",
            content=f"【举报进展】{key}", key=f"report-notice:YC20261120-0001:{key}", now=services.now(),
        )
        await session.commit()


async def attempts(services: Services) -> list[tuple[str, str]]:
    async with services.database.session() as session:
        rows = await session.scalars(select(NoticeDelivery).order_by(NoticeDelivery.id))
        return [(r.route, r.result) for r in rows]


async def test_inside_the_window_the_text_goes_and_nothing_else(templated: Services, fake_wechat: FakeWechatApi):
    await reporter(templated, fake_wechat, "u-1", hours_ago=1)
    await notice(templated, "u-1", "e1")
    await drain(templated)
    assert [d.kind for d in fake_wechat.sent_to("u-1")] == ["text"]
    assert await attempts(templated) == [("text", "delivered")]


async def test_outside_the_window_the_template_goes_with_a_client_msg_id(
    templated: Services, fake_wechat: FakeWechatApi
):
    await reporter(templated, fake_wechat, "u-1", hours_ago=24 * 20)
    await notice(templated, "u-1", "e1")
    await drain(templated)
    [sent] = fake_wechat.sent_to("u-1")
    assert sent.kind == "template" and sent.body["client_msg_id"]
    assert {k: v["value"] for k, v in sent.body["data"].items()}["phrase2"] == "已办结"
    assert await attempts(templated) == [("template", "accepted")]


async def test_a_text_answered_after_the_client_timeout_is_not_sent_again(
    templated: Services, fake_wechat: FakeWechatApi
):
    await reporter(templated, fake_wechat, "u-1", hours_ago=1)
    fake_wechat.answer_late(CUSTOM)
    await notice(templated, "u-1", "e1")
    await drain(templated)
    await drain(templated)
    assert [d.kind for d in fake_wechat.sent_to("u-1")] == ["text", "template"]
    assert await attempts(templated) == [("text", "uncertain"), ("template", "accepted")]


async def test_a_text_interrupted_in_flight_is_not_sent_again(templated: Services, fake_wechat: FakeWechatApi):
    await reporter(templated, fake_wechat, "u-1", hours_ago=1)
    await notice(templated, "u-1", "e1")
    now = templated.now()
    async with templated.database.session() as session:  # a worker claimed it, recorded the text, then died
        row = await session.scalar(select(OutboxMessage))
        assert row is not None
        await start_attempt(session, outbox_id=row.id, notice_key=row.dedup_key or "", audience="reporter",
                            route="text", now=now)
        row.status, row.claimed_until = "sending", now - timedelta(seconds=1)
        await session.commit()
    await drain(templated)
    assert [d.kind for d in fake_wechat.sent_to("u-1")] == ["template"]
    assert await attempts(templated) == [("text", "uncertain"), ("template", "accepted")]


async def test_without_another_route_an_uncertain_text_is_shown_as_uncertain(
    text_only: Services, fake_wechat: FakeWechatApi
):
    await reporter(text_only, fake_wechat, "u-1", hours_ago=1)
    fake_wechat.answer_late(CUSTOM)
    await notice(text_only, "u-1", "e1")
    await drain(text_only)
    async with text_only.database.session() as session:
        await wake_waiting(session, "u-1", text_only.now())  # even when the reporter writes again
        await session.commit()
    await drain(text_only)
    assert fake_wechat.count(CUSTOM) == 1
    async with text_only.database.session() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "sent" and row.last_error.startswith("uncertain")
        [line] = await case_notices(session, "YC20261120-0001")
    assert line.route == "客服消息" and line.result.startswith("结果不明")


async def test_a_notice_without_a_route_waits_past_any_expiry_and_goes_on_the_next_message(
    text_only: Services, fake_wechat: FakeWechatApi, clock: FakeClock
):
    await reporter(text_only, fake_wechat, "u-1", hours_ago=24 * 20)
    await notice(text_only, "u-1", "e1")
    for _ in range(3):
        await drain(text_only)
        clock.advance(hours=text_only.config.outbox.waiting_max_hours + 1)
        await drain(text_only)
    async with text_only.database.session() as session:
        assert (await session.scalar(select(OutboxMessage.status))) == "waiting"
        await session.execute(update(WechatUser).values(last_message_at=text_only.now()))
        fake_wechat.user_message("u-1")
        await wake_waiting(session, "u-1", text_only.now())
        await session.commit()
    await drain(text_only)
    assert [d.kind for d in fake_wechat.sent_to("u-1")] == ["text"]
    assert await attempts(text_only) == [("wait", "waiting"), ("text", "delivered")]


async def test_a_one_time_grant_is_used_up_by_one_subscription_notification(
    templated: Services, fake_wechat: FakeWechatApi
):
    await reporter(templated, fake_wechat, "u-1", hours_ago=24 * 20)
    fake_wechat.unfollow("u-1")
    fake_wechat.grant_subscription("u-1", "TPL-SUB")
    async with templated.database.session() as session:
        await store_grant(session, "u-1", "TPL-SUB", True, "2", templated.now())
        await session.commit()
    await notice(templated, "u-1", "e1", status="investigating")
    await notice(templated, "u-1", "e2")
    await drain(templated)
    assert [d.kind for d in fake_wechat.sent_to("u-1")] == ["subscribe"]
    async with templated.database.session() as session:
        query = select(OutboxMessage.kind, OutboxMessage.status).order_by(OutboxMessage.id)
        rows = (await session.execute(query)).all()
    assert [tuple(r) for r in rows] == [(ROUTED_KIND, "sent"), (ROUTED_KIND, "waiting")]
    assert fake_wechat.count(BIZSEND) == 1  # the used-up grant is not tried again


async def test_a_rejected_choice_holds_no_grant(templated: Services, fake_wechat: FakeWechatApi):
    await reporter(templated, fake_wechat, "u-1", hours_ago=24 * 20)
    fake_wechat.unfollow("u-1")
    async with templated.database.session() as session:
        await store_grant(session, "u-1", "TPL-SUB", True, "2", templated.now())
        await store_grant(session, "u-1", "TPL-SUB", False, "2", templated.now())
        await session.commit()
    await notice(templated, "u-1", "e1")
    await drain(templated)
    assert fake_wechat.count(BIZSEND) == 0
    assert await attempts(templated) == [("template", "failed"), ("wait", "waiting")]


async def test_a_result_pushed_before_the_send_was_recorded_is_applied_when_it_is(
    sqlite_database: Database, clock: FakeClock
) -> None:
    failed: list[str] = []

    async def hook(session, record) -> None:  # type: ignore[no-untyped-def]
        failed.append(record.notice_key)

    on_failed_fate(hook)
    try:
        async with sqlite_database.session() as session:
            assert await record_fate(session, "1001", False, "failed:user block", clock()) is None
            record = await start_attempt(session, outbox_id=7, notice_key="report-new:YC1:x:c1", audience="department",
                                         route="template", now=clock())
            await settle(session, record.id, "accepted", clock(), msg_id="1001")
            await session.refresh(record)
            await apply_early_fate(session, record)
            await session.commit()
            assert (record.result, record.reason) == ("failed", "failed:user block")
            assert (await session.scalars(select(NoticeDelivery.route))).all() == ["template"]  # early fate used up
    finally:
        remove_failed_fate_hook(hook)
    assert failed == ["report-new:YC1:x:c1"]


async def test_in_the_sandbox_one_notice_spends_one_of_two_grants(
    tmp_path: Path, sqlite_url: str, sqlite_database: Database, clock: FakeClock
):
    """The sandbox shares the grants table with the service: a send checks the grant, the route spends it
    (once), so a reporter who accepted twice gets two notices by subscription."""
    config = load_config(None, env={"YCBOT_STORAGE_URL": sqlite_url, "YCBOT_NOTICES_SUBSCRIBE_TEMPLATE_ID": "TPL-SUB"})
    mp = SandboxChannel(sqlite_database, tmp_path / "inbox", "mp", clock=clock, templates={"TPL-SUB"})
    services = Services(config=config, database=sqlite_database, channels={"mp": mp}, clock=clock)
    async with sqlite_database.session() as session:
        session.add(WechatUser(openid="u-1", subscribed=False, last_message_at=clock() - timedelta(days=20)))
        for _ in range(2):
            await store_grant(session, "u-1", "TPL-SUB", True, "2", clock())
        await session.commit()
    await notice(services, "u-1", "e1", status="investigating")
    await drain(services)
    async with sqlite_database.session() as session:
        unused = [g for g in await session.scalars(select(SubscriptionGrant)) if g.used_at is None]
    assert len(unused) == 1
    await notice(services, "u-1", "e2")
    await drain(services)
    assert [route for route, result in await attempts(services) if result != "failed"] == ["subscribe", "subscribe"]
