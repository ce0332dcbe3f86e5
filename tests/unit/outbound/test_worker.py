"""The outbox worker against the fake API: once-only delivery, retries, dead rows, leases, the 48-hour rule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.config import Config
from bot.outbound.channels.tokens import DatabaseTokenCache
from bot.outbound.channels.wechat_mp import WechatMpChannel
from bot.outbound.worker import OutboxWorker, Outcome, dead_errcode, on_dead, remove_dead_hook, wake_waiting
from bot.services import Services
from knowledge.duties import duties
from scheduler.jobs import register_jobs
from scheduler.runner import ServiceScheduler
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import ensure_schema
from storage.models import OutboxMessage, WechatUser
from storage.outbox import enqueue
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config
from tests.unit.outbound.conftest import ChannelFactory

CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"


def worker_config(tmp_path: Path, db_url: str, fake: FakeWechatApi, **overrides: object) -> Config:
    return make_api_config(tmp_path, db_url, fake, **overrides)


@pytest.fixture
def services(  # type: ignore[no-untyped-def]
    tmp_path, db_url, database: Database, channels: ChannelFactory, fake_wechat, clock: FakeClock
) -> Services:
    config = worker_config(tmp_path, db_url, fake_wechat)
    return Services(
        config=config,
        database=database,
        channels={"mp": channels.mp(database), "wecom": channels.wecom(database)},
        clock=clock,
    )


async def add_user(services: Services, openid: str, fake: FakeWechatApi, *, hours_ago: float = 1.0) -> None:
    """A follower whose last message was ``hours_ago``: in our table and on the (fake) platform alike."""
    fake.clock = services.clock
    written = services.now() - timedelta(hours=hours_ago)
    fake.user_message(openid, at=written)
    async with services.database.session() as session:
        session.add(WechatUser(openid=openid, last_message_at=written))
        await session.commit()


async def put(services: Services, **fields: Any) -> int:
    values: dict[str, Any] = {"channel": "mp", "kind": "text", "payload": {"content": "您好"}}
    values.update(fields)
    async with services.database.session() as session:
        await enqueue(session, now=services.now(), **values)
        await session.commit()
        key = values.get("dedup_key")
        query = select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)
        if key:
            query = select(OutboxMessage.id).where(OutboxMessage.dedup_key == key)
        return int(await session.scalar(query))


async def row(services: Services, row_id: int) -> OutboxMessage:
    async with services.database.session() as session:
        found = await session.get(OutboxMessage, row_id)
        assert found is not None
        return found


@pytest.fixture
def dead_rows() -> AsyncIterator[list[tuple[int, int | None]]]:  # type: ignore[misc]
    seen: list[tuple[int, int | None]] = []

    async def hook(session, dead_row: OutboxMessage) -> None:  # type: ignore[no-untyped-def]
        seen.append((dead_row.id, dead_errcode(dead_row)))
        # A hook writes in the same transaction as the dead row: here, mark the follower as gone.
        await session.execute(
            update(WechatUser).where(WechatUser.openid == dead_row.recipient).values(subscribed=False)
        )

    on_dead("reminder", hook)
    yield seen
    remove_dead_hook("reminder", hook)


async def test_sends_once(services: Services, fake_wechat: FakeWechatApi, clock: FakeClock):
    await add_user(services, "openid-1", fake_wechat)
    row_id = await put(services, recipient="openid-1", payload={"content": "您的举报已受理"})
    worker = OutboxWorker(services)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    sent = await row(services, row_id)
    assert (sent.status, sent.attempts, sent.sent_at, sent.claimed_until) == ("sent", 1, clock(), None)
    assert [d.text for d in fake_wechat.sent_to("openid-1")] == ["您的举报已受理"]


async def test_retry_with_backoff_then_delivered_once(services: Services, fake_wechat, clock: FakeClock):
    await add_user(services, "openid-1", fake_wechat)
    row_id = await put(services, recipient="openid-1")
    fake_wechat.fail_next(CUSTOM, errcode=-1, times=3)  # every in-place retry of the first tick fails
    worker = OutboxWorker(services)
    assert await worker.run_once() == 1
    pending = await row(services, row_id)
    assert (pending.status, pending.attempts) == ("pending", 1)
    assert pending.next_attempt_at == clock() + timedelta(seconds=30)
    assert pending.last_error.startswith("errcode -1:")
    clock.advance(seconds=29)
    assert await worker.run_once() == 0  # not due yet
    clock.advance(seconds=1)
    assert await worker.run_once() == 1
    assert (await row(services, row_id)).status == "sent"
    assert len(fake_wechat.sent_to("openid-1")) == 1


async def test_backoff_doubles_and_gives_up_after_max_attempts(
    tmp_path, db_url, database, channels: ChannelFactory, fake_wechat, clock: FakeClock, dead_rows
):
    config = worker_config(tmp_path, db_url, fake_wechat, YCBOT_OUTBOX_MAX_ATTEMPTS=3)
    services = Services(config=config, database=database, channels={"mp": channels.mp(database)}, clock=clock)
    row_id = await put(
        services, recipient="openid-9", kind="template", purpose="reminder",
        payload={"template_id": "TPL", "data": {"thing1": "x"}},
    )
    fake_wechat.fail_next(TEMPLATE, errcode=45009, times=3)
    worker = OutboxWorker(services)
    waits = []
    for _ in range(3):
        assert await worker.run_once() == 1
        current = await row(services, row_id)
        if current.status == "pending":
            waits.append((current.next_attempt_at - clock()).total_seconds())
            clock.set(current.next_attempt_at)
    assert waits == [30, 60]
    dead = await row(services, row_id)
    assert dead.status == "dead" and dead.attempts == 3
    assert "gave up after 3 tries" in dead.last_error
    assert dead_rows == [(row_id, 45009)]
    assert fake_wechat.delivered == []


async def test_permanent_error_dead_and_hook_called(services: Services, fake_wechat, dead_rows):
    await add_user(services, "openid-left", fake_wechat)
    fake_wechat.set_errcode_for("openid-left", 43004)
    row_id = await put(
        services, recipient="openid-left", kind="template", purpose="reminder", dedup_key="reminder:1:7",
        payload={"template_id": "TPL", "data": {"thing1": "任务"}, "url": "https://example.org/t/1"},
    )
    other = await put(services, recipient="openid-left", kind="template", purpose="report-notice",
                      payload={"template_id": "TPL", "data": {"thing1": "x"}})
    assert await OutboxWorker(services).run_once() == 2
    dead = await row(services, row_id)
    assert dead.status == "dead" and dead.attempts == 1
    assert dead.last_error.startswith("errcode 43004:")
    assert dead_errcode(dead) == 43004
    assert dead_rows == [(row_id, 43004)]  # only the hook of the row's purpose ran
    assert (await row(services, other)).status == "dead"
    async with services.database.session() as session:
        user = await session.get(WechatUser, "openid-left")
    assert user is not None and user.subscribed is False  # the hook's write was committed with the row


async def test_failing_hook_does_not_keep_the_row_alive(services: Services, fake_wechat):
    calls = []

    async def broken(session, dead_row) -> None:  # type: ignore[no-untyped-def]
        calls.append(dead_row.id)
        session.add(WechatUser(openid="written-by-broken-hook"))
        await session.flush()
        raise RuntimeError("hook bug")

    on_dead("broken", broken)
    try:
        fake_wechat.set_errcode_for("openid-x", 40003)
        row_id = await put(services, recipient="openid-x", kind="template", purpose="broken",
                           payload={"template_id": "TPL", "data": {"thing1": "x"}})
        assert await OutboxWorker(services).run_once() == 1
    finally:
        remove_dead_hook("broken", broken)
    assert calls == [row_id]
    assert (await row(services, row_id)).status == "dead"
    async with services.database.session() as session:
        assert await session.get(WechatUser, "written-by-broken-hook") is None  # rolled back


async def test_template_row_uses_its_dedup_key_as_client_msg_id(services: Services, fake_wechat):
    await put(services, recipient="openid-1", kind="template", dedup_key="reminder:3:1",
              payload={"template_id": "TPL", "data": {"thing1": "任务"}, "url": "https://example.org/t/3"})
    await put(services, recipient="openid-1", kind="template",
              payload={"template_id": "TPL", "data": {"thing1": "无键"}})
    assert await OutboxWorker(services).run_once() == 2
    first, second = fake_wechat.calls_to(TEMPLATE)
    assert first.body["client_msg_id"] == "reminder:3:1"
    assert first.body["url"] == "https://example.org/t/3"
    assert second.body["client_msg_id"].startswith("outbox-")


async def test_textcard_row_goes_to_wecom(services: Services, fake_wechat):
    row_id = await put(services, channel="wecom", kind="textcard", recipient="zhangsan",
                       payload={"title": "任务提醒", "description": "请报送", "url": "https://example.org/t/1"})
    assert await OutboxWorker(services).run_once() == 1
    assert (await row(services, row_id)).status == "sent"
    (delivered,) = fake_wechat.sent_to("zhangsan")
    assert delivered.body["textcard"]["title"] == "任务提醒"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"kind": "voice"}, "unknown kind 'voice'"),
        ({"payload": {}}, "field 'content' is missing"),
        ({"payload": {"content": "   "}}, "field 'content' is missing"),
        ({"kind": "template", "payload": {"template_id": "T", "data": "nope"}}, "non-empty data object"),
        ({"kind": "template", "payload": {"data": {"thing1": "x"}}}, "field 'template_id' is missing"),
        ({"kind": "textcard", "payload": {"title": "t"}}, "textcard rows go through the wecom channel"),
    ],
)
async def test_malformed_rows_are_dead_with_a_clear_error(services: Services, fake_wechat, fields, error):
    await add_user(services, "openid-1", fake_wechat)
    row_id = await put(services, recipient="openid-1", **fields)
    assert await OutboxWorker(services).run_once() == 1
    dead = await row(services, row_id)
    assert dead.status == "dead" and error in dead.last_error
    assert fake_wechat.delivered == []


async def test_unconfigured_channel_is_retried_not_lost(
    tmp_path, db_url, database, channels: ChannelFactory, fake_wechat, clock
):
    config = worker_config(tmp_path, db_url, fake_wechat)
    services = Services(config=config, database=database, channels={"mp": channels.mp(database)}, clock=clock)
    row_id = await put(services, channel="wecom", kind="text", recipient="zhangsan")
    assert await OutboxWorker(services).run_once() == 1
    pending = await row(services, row_id)
    assert pending.status == "pending" and "no outbound channel 'wecom'" in pending.last_error


# ---- several workers, leases ------------------------------------------------------------------------


async def test_two_workers_send_every_row_exactly_once(
    tmp_path, db_url, database, fake_wechat, clock: FakeClock, retry
):
    config = worker_config(tmp_path, db_url, fake_wechat)
    seeding = Services(config=config, database=database, clock=clock)
    for i in range(24):
        await add_user(seeding, f"openid-{i}", fake_wechat)
        await put(seeding, recipient=f"openid-{i}", payload={"content": f"消息{i}"}, dedup_key=f"k{i}")

    opened: list[tuple[Database, WechatMpChannel]] = []
    workers = []
    for _ in range(2):  # two processes: their own engine, channel and HTTP session
        db = Database(db_url)
        channel = WechatMpChannel.from_config(config, db, clock=clock, retry=retry)
        opened.append((db, channel))
        workers.append(OutboxWorker(Services(config=config, database=db, channels={"mp": channel}, clock=clock)))

    async def drain(worker: OutboxWorker) -> int:
        total = 0
        while handled := await worker.run_once(limit=3):
            total += handled
            await asyncio.sleep(0)
        return total

    try:
        counts = await asyncio.gather(drain(workers[0]), drain(workers[1]))
    finally:
        for db, channel in opened:
            await channel.close()
            await db.dispose()
    assert sum(counts) == 24  # which worker sent which row is up to scheduling; the total is not
    texts = sorted(d.text for d in fake_wechat.delivered)
    assert texts == sorted(f"消息{i}" for i in range(24))  # each exactly once
    async with database.session() as session:
        statuses = set((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == {"sent"}
    assert fake_wechat.count("/cgi-bin/stable_token") == 1  # the two workers shared one token


async def test_lease_of_a_crashed_worker_is_reclaimed(services: Services, fake_wechat, clock: FakeClock):
    await add_user(services, "openid-1", fake_wechat, hours_ago=0)
    row_id = await put(services, recipient="openid-1")
    crashed = OutboxWorker(services)
    now = clock()
    crashed_until = now + timedelta(seconds=services.config.outbox.lease_seconds)
    claimed = await crashed._claim(now, crashed_until, 10)  # claims, then "dies" before sending
    assert [r.id for r in claimed] == [row_id]
    assert (await row(services, row_id)).status == "sending"

    survivor = OutboxWorker(services)
    assert await survivor.run_once() == 0  # the lease still holds
    clock.advance(seconds=services.config.outbox.lease_seconds + 1)
    assert await survivor.run_once() == 1
    assert (await row(services, row_id)).status == "sent"
    # The crashed worker comes back late: its result must not overwrite the row.
    await crashed._finish(claimed[0], Outcome("retry", "late"), crashed_until)
    final = await row(services, row_id)
    assert final.status == "sent" and final.last_error == ""
    assert len(fake_wechat.sent_to("openid-1")) == 1


# ---- the 48-hour customer-service window -----------------------------------------------------------


async def test_outside_48_hours_waits_then_wakes(services: Services, fake_wechat, clock: FakeClock):
    await add_user(services, "openid-1", fake_wechat, hours_ago=49)
    await add_user(services, "openid-2", fake_wechat, hours_ago=49)
    row_id = await put(services, recipient="openid-1", payload={"content": "处理结果：已立案"})
    other = await put(services, recipient="openid-2")
    template = await put(services, recipient="openid-1", kind="template",
                         payload={"template_id": "TPL", "data": {"thing1": "x"}})
    worker = OutboxWorker(services)
    assert await worker.run_once() == 3
    waiting = await row(services, row_id)
    assert (waiting.status, waiting.attempts) == ("waiting", 0)
    assert (await row(services, template)).status == "sent"  # templates are not bound by the window
    assert fake_wechat.count(CUSTOM) == 0
    assert await worker.run_once() == 0

    clock.advance(hours=3)
    async with services.database.session() as session:
        assert await wake_waiting(session, "openid-1", clock()) == 1
        await session.commit()
    # Woken while the user row still says 52 hours (the pipeline updates both): back to waiting.
    assert await worker.run_once() == 1
    assert (await row(services, row_id)).status == "waiting"
    async with services.database.session() as session:
        await session.execute(
            update(WechatUser).where(WechatUser.openid == "openid-1").values(last_message_at=clock())
        )
        fake_wechat.user_message("openid-1")  # the user wrote: WeChat opens the window as our table records it
        await wake_waiting(session, "openid-1", clock())
        await session.commit()
    assert await worker.run_once() == 1
    assert (await row(services, row_id)).status == "sent"
    assert (await row(services, other)).status == "waiting"
    assert [d.text for d in fake_wechat.sent_to("openid-1") if d.kind == "text"] == ["处理结果：已立案"]


async def test_45015_from_wechat_means_waiting(services: Services, fake_wechat):
    await add_user(services, "openid-1", fake_wechat)
    fake_wechat.fail_next(CUSTOM, errcode=45015)
    row_id = await put(services, recipient="openid-1")
    assert await OutboxWorker(services).run_once() == 1
    waiting = await row(services, row_id)
    assert waiting.status == "waiting" and waiting.last_error.startswith("errcode 45015:")


async def test_unknown_user_waits(services: Services, fake_wechat):
    row_id = await put(services, recipient="never-wrote")
    assert await OutboxWorker(services).run_once() == 1
    assert (await row(services, row_id)).status == "waiting"


async def test_waiting_too_long_is_dead(services: Services, fake_wechat, clock: FakeClock, dead_rows):
    await add_user(services, "openid-1", fake_wechat, hours_ago=100)
    row_id = await put(services, recipient="openid-1", purpose="reminder")
    worker = OutboxWorker(services)
    await worker.run_once()
    assert (await row(services, row_id)).status == "waiting"
    clock.advance(hours=services.config.outbox.waiting_max_hours + 1)
    await worker.run_once()
    dead = await row(services, row_id)
    assert dead.status == "dead" and "48-hour" in dead.last_error
    assert dead_rows == [(row_id, None)]


async def test_next_message_through_the_service_wakes_the_row(
    tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi, clock: FakeClock
):
    from tests.conftest import start_service, stop_service

    config = make_api_config(tmp_path, sqlite_url, fake_wechat)
    running = await start_service(config, object(), clock, platform=fake_wechat)  # no knowledge base needed
    try:
        services = running.services
        assert (await running.wx.send_text("openid-w", "帮助")).status == 200
        clock.advance(hours=50)
        row_id = await put(services, recipient="openid-w", payload={"content": "您的举报已办结"})
        worker = OutboxWorker(services)
        assert await worker.run_once() == 1
        assert (await row(services, row_id)).status == "waiting"
        reply = await running.wx.send_text("openid-w", "帮助")
        assert reply.status == 200 and reply.content  # the reply path itself is unchanged
        assert (await row(services, row_id)).status == "pending"
        assert await worker.run_once() == 1
        assert (await row(services, row_id)).status == "sent"
        assert [d.text for d in fake_wechat.sent_to("openid-w")] == ["您的举报已办结"]
    finally:
        await stop_service(running)


async def test_scheduler_registers_the_outbox_job(services: Services):
    scheduler = ServiceScheduler()
    register_jobs(scheduler, services)
    assert "outbox" in scheduler.jobs
    await scheduler.jobs["outbox"]()  # runs: nothing due


async def test_fresh_database_worker_runs(tmp_path, fake_wechat, clock):
    database = Database(f"sqlite:///{tmp_path}/fresh.db")
    try:
        await ensure_schema(database)
        await seed_departments(database, duties().units)
        config = worker_config(tmp_path, f"sqlite:///{tmp_path}/fresh.db", fake_wechat)
        channel = WechatMpChannel.from_config(config, database, clock=clock, cache=DatabaseTokenCache(database))
        services = Services(config=config, database=database, channels={"mp": channel}, clock=clock)
        try:
            assert await OutboxWorker(services).run_once() == 0
        finally:
            await channel.close()
    finally:
        await database.dispose()


class SlowChannel:
    """A channel whose every send takes ``seconds`` of the (fake) clock."""

    name = "mp"

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        self.clock, self.seconds, self.sent = clock, seconds, []

    async def send_text(self, recipient: str, content: str):  # type: ignore[no-untyped-def]
        self.clock.advance(seconds=self.seconds)
        self.sent.append(recipient)


async def test_rows_left_near_the_lease_end_are_released(tmp_path, db_url, database, fake_wechat, clock):
    config = worker_config(tmp_path, db_url, fake_wechat)  # lease 300 s, margin 90 s
    slow = SlowChannel(clock, 250)
    services = Services(config=config, database=database, channels={"mp": slow}, clock=clock)  # type: ignore[dict-item]
    ids = []
    for i in range(3):
        await add_user(services, f"openid-{i}", fake_wechat, hours_ago=0)
        ids.append(await put(services, recipient=f"openid-{i}"))
    worker = OutboxWorker(services)
    assert await worker.run_once() == 1  # the first send used 250 of the 300 s: the others are handed back
    rest = [await row(services, i) for i in ids[1:]]
    assert [(r.status, r.claimed_until, r.attempts) for r in rest] == [("pending", None, 0)] * 2
    assert await worker.run_once() == 1
    assert await worker.run_once() == 1
    assert slow.sent == ["openid-0", "openid-1", "openid-2"]
