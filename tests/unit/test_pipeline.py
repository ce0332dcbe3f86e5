"""The message pipeline: one transaction per push, dedup, conversation state, handler failures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.context import Context
from bot.pipeline import MessagePipeline
from bot.privacy.retention import purge
from bot.routing import Dispatcher, Router, session_free, text_is
from bot.services import Services
from bot.wechat.messages import Incoming
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import upgrade
from storage.models import Conversation, OutboxMessage, ProcessedMessage, WechatUser
from tests.conftest import make_config
from tests.support.clock import FakeClock


def incoming(text: str, msg_id: str, openid: str = "user-1") -> Incoming:
    return Incoming(to_user="gh_x", openid=openid, create_time=1, msg_type="text", msg_id=msg_id, content=text)


def build_router() -> Router:
    """Handlers that need no session (start, step, the fallback) take the driver-direct path when it is on;
    ``boom`` writes through the session, so it always goes the full way."""
    router = Router("test")

    @router.on(text_is("开始"))
    @session_free
    async def start(ctx: Context) -> str:
        ctx.conversation.set("demo:step", ttl=timedelta(minutes=10), started=True)
        return "已开始"

    @router.on(text_is("坏了"))
    @session_free
    async def broken_without_session(ctx: Context) -> str:
        ctx.conversation.set("demo:half", half=True)
        raise RuntimeError("handler bug")

    @router.on(state="demo:step")
    @session_free
    async def step(ctx: Context) -> str:
        count = ctx.conversation.data.get("count", 0) + 1
        ctx.conversation.update(count=count)
        return f"第{count}步"

    @router.on(text_is("出错"))
    async def boom(ctx: Context) -> str:
        from storage.outbox import enqueue

        await enqueue(
            ctx.session, channel="mp", kind="text", recipient=ctx.openid, payload={"content": "x"}, now=ctx.now
        )
        raise RuntimeError("handler bug")

    return router


@session_free
async def fallback(ctx: Context) -> str:
    return "默认"


@pytest.fixture(params=["hot path", "full path"])
async def pipeline(request: pytest.FixtureRequest, tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    """Every test runs with the driver-direct path on (the default) and off: the semantics are the same."""
    config = make_config(tmp_path, db_url, YCBOT_STORAGE_HOT_PATH=str(request.param == "hot path").lower())
    database = Database(db_url)
    await upgrade(database)
    await seed_departments(database, duties().units)
    clock = FakeClock()
    services = Services(config=config, database=database, clock=clock)
    yield MessagePipeline(services, Dispatcher([build_router()], fallback=fallback)), clock
    await database.dispose()


async def count(pipeline: MessagePipeline, model: type) -> int:
    async with pipeline.services.database.session() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_retry_replays_reply_and_applies_once(pipeline) -> None:  # type: ignore[no-untyped-def]
    pipe, _ = pipeline
    assert "已开始" in await pipe.handle(incoming("开始", "1"))
    first = await pipe.handle(incoming("下一步", "2"))
    again = await pipe.handle(incoming("下一步", "2"))
    assert "第1步" in first
    assert again == first
    third = await pipe.handle(incoming("下一步", "3"))
    assert "第2步" in third
    assert await count(pipe, ProcessedMessage) == 3


async def test_handler_error_rolls_back_its_writes_and_replies_politely(pipeline) -> None:  # type: ignore[no-untyped-def]
    pipe, _ = pipeline
    reply = await pipe.handle(incoming("出错", "10"))
    assert texts.HANDLER_ERROR.replace("“", "").split("，")[0] in reply
    assert await count(pipe, OutboxMessage) == 0
    assert await pipe.handle(incoming("出错", "10")) == reply
    # the user record survives in a later message: nothing is left half-written
    await pipe.handle(incoming("你好", "11"))
    assert await count(pipe, WechatUser) == 1


async def test_a_failing_handler_without_session_is_rolled_back_and_answered_politely(pipeline) -> None:  # type: ignore[no-untyped-def]
    pipe, _ = pipeline
    reply = await pipe.handle(incoming("坏了", "12"))
    assert texts.HANDLER_ERROR.replace("“", "").split("，")[0] in reply
    assert await pipe.handle(incoming("坏了", "12")) == reply  # a retry gets the same answer
    async with pipe.services.database.session() as session:
        assert await session.get(Conversation, "user-1") is None  # the state it set did not stay
    assert await count(pipe, ProcessedMessage) == 1
    assert "已开始" in await pipe.handle(incoming("开始", "13"))


async def test_conversation_expires_after_ttl(pipeline) -> None:  # type: ignore[no-untyped-def]
    pipe, clock = pipeline
    await pipe.handle(incoming("开始", "20"))
    clock.advance(minutes=9)
    assert "第1步" in await pipe.handle(incoming("继续", "21"))
    clock.advance(minutes=11)
    assert "默认" in await pipe.handle(incoming("继续", "22"))
    async with pipe.services.database.session() as session:
        row = await session.get(Conversation, "user-1")
    assert row is not None and row.state is None


async def test_conversations_are_per_user(pipeline) -> None:  # type: ignore[no-untyped-def]
    pipe, _ = pipeline
    await pipe.handle(incoming("开始", "30", openid="a"))
    assert "默认" in await pipe.handle(incoming("继续", "31", openid="b"))
    assert "第1步" in await pipe.handle(incoming("继续", "32", openid="a"))


async def test_housekeeping_prunes_old_dedup_rows_and_dead_dialogs(pipeline) -> None:  # type: ignore[no-untyped-def]

    pipe, clock = pipeline
    await pipe.handle(incoming("开始", "40"))
    clock.advance(days=8)
    await pipe.handle(incoming("你好", "41", openid="other"))
    result = await purge(pipe.services)
    assert (result.dedup_rows, result.conversations) == (1, 1)
    assert await count(pipe, ProcessedMessage) == 1
    assert await count(pipe, Conversation) == 0


async def test_admission_serves_waiters_in_arrival_order_and_drops_the_late() -> None:
    import asyncio

    from bot.pipeline import Admission, AdmissionTimeout

    gate = Admission(1)
    await gate.acquire(None)
    order: list[str] = []

    async def waiter(name: str, wait: float | None) -> None:
        try:
            await gate.acquire(wait)
        except AdmissionTimeout:
            order.append(f"{name}:late")
            return
        order.append(name)
        await asyncio.sleep(0)
        gate.release()

    tasks = [asyncio.create_task(waiter(n, w)) for n, w in (("a", None), ("b", 0.01), ("c", None))]
    await asyncio.sleep(0.05)  # b gives up while the slot is held
    assert order == ["b:late"] and gate.waiting == 2
    gate.release()
    await asyncio.gather(*tasks)
    assert order == ["b:late", "a", "c"]
    assert (gate.active, gate.waiting) == (0, 0)


async def test_a_push_that_cannot_get_a_turn_in_time_is_told_to_resend_and_leaves_no_trace(pipeline) -> None:  # type: ignore[no-untyped-def]
    import time

    from bot.pipeline import Admission

    pipe, _ = pipeline
    pipe.admission, pipe.admission_timeout = Admission(1), 0.05
    await pipe.admission.acquire(None)  # someone else holds the only turn
    reply = await pipe.handle(incoming("开始", "40"), received_at=time.monotonic())
    assert texts.BUSY in reply
    pipe.admission.release()
    assert await count(pipe, ProcessedMessage) == 0
    # A retry of the same push is handled afresh, once.
    assert "已开始" in await pipe.handle(incoming("开始", "40"))
    assert "已开始" in await pipe.handle(incoming("开始", "40"))
    assert await count(pipe, ProcessedMessage) == 1
    # A retry of a push that was applied gets its stored reply even when no turn comes free.
    applied = await pipe.handle(incoming("下一步", "41"))
    await pipe.admission.acquire(None)
    assert await pipe.handle(incoming("下一步", "41"), received_at=time.monotonic()) == applied
    assert texts.BUSY in await pipe.handle(incoming("下一步", "42"), received_at=time.monotonic())
    pipe.admission.release()


async def test_two_processes_migrating_and_seeding_at_once_both_succeed(pg_url: str) -> None:
    """Several service processes share one PostgreSQL database and may start together."""
    import asyncio

    from storage.models import Department

    async def start(database: Database) -> None:
        await upgrade(database)
        await seed_departments(database, duties().units)

    first, second = Database(pg_url), Database(pg_url)
    try:
        await asyncio.gather(start(first), start(second))
        async with first.session() as session:
            names = (await session.scalars(select(Department.name))).all()
    finally:
        await first.dispose()
        await second.dispose()
    assert sorted(names) == sorted(duties().department_names)


async def test_startup_loads_the_plan_tasks_once(tmp_path: Path, sqlite_url: str, knowledge_base) -> None:  # type: ignore[no-untyped-def]
    from storage.models.reminders import Task
    from tests.conftest import start_service, stop_service

    config = make_config(tmp_path, sqlite_url, YCBOT_REMINDERS_SEED_FILE="knowledge/data/tasks.toml")
    for _ in range(2):  # a restart adds nothing
        running = await start_service(config, knowledge_base, FakeClock())
        try:
            async with running.services.database.session() as session:
                citations = (await session.scalars(select(Task.citation))).all()
        finally:
            await stop_service(running)
        assert len(citations) >= 15
        assert "二（二）1" in citations
