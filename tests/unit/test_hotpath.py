"""The driver-direct reply path: what it writes reads back through SQLAlchemy exactly as the full path's
writes do, it hands over to the full path when it must, and SQLite's write lock never blocks the loop."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.context import Context
from bot.pipeline import MessagePipeline
from bot.routing import Dispatcher, Router, session_free, text_is
from bot.services import Services
from bot.wechat.messages import Incoming, Location
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.hotpath.sqlite import SqliteHotPath
from storage.migrate import upgrade
from storage.models import Conversation, OutboxMessage, ProcessedMessage, WechatUser
from tests.conftest import make_config
from tests.support.clock import FakeClock


def text(content: str, msg_id: str, openid: str = "u-hot") -> Incoming:
    return Incoming(to_user="gh_x", openid=openid, create_time=1, msg_type="text", msg_id=msg_id, content=content)


def build_router(calls: list[str]) -> Router:
    router = Router("hot")

    @router.on(text_is("记住"))
    @session_free
    async def remember(ctx: Context) -> str:
        calls.append("remember")
        ctx.conversation.set("demo:kept", ttl=timedelta(minutes=15), items=["甲", "乙"], n=2)
        return "记下了"

    @router.on(text_is("登记"))
    async def register(ctx: Context) -> str:  # needs the session: the full path runs it
        from storage.outbox import enqueue

        calls.append("register")
        await enqueue(ctx.session, channel="mp", kind="text", recipient=ctx.openid, payload={"content": "x"},
                      now=ctx.now)
        return "已登记"

    @router.on(state="demo:kept")
    @session_free
    async def recall(ctx: Context) -> str:
        calls.append("recall")
        return "记得：" + "、".join(ctx.conversation.data["items"])

    return router


@session_free
async def fallback(ctx: Context) -> str:
    return "默认"


@pytest.fixture
async def hot(tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, db_url)
    database = Database(db_url)
    await upgrade(database)
    await seed_departments(database, duties().units)
    clock = FakeClock()
    calls: list[str] = []
    pipe = MessagePipeline(Services(config=config, database=database, clock=clock),
                           Dispatcher([build_router(calls)], fallback=fallback))
    assert pipe.hotpath is not None
    yield pipe, clock, calls
    await database.dispose()


async def test_hot_path_writes_read_back_like_the_full_path(hot) -> None:  # type: ignore[no-untyped-def]
    pipe, clock, _calls = hot
    now = clock()
    assert "记下了" in await pipe.handle(text("记住", "1"))
    async with pipe.services.database.session() as session:
        conversation = await session.get(Conversation, "u-hot")
        user = await session.get(WechatUser, "u-hot")
        record = (await session.execute(select(ProcessedMessage))).scalar_one()
    assert conversation is not None and conversation.state == "demo:kept"
    assert conversation.data == {"items": ["甲", "乙"], "n": 2}
    assert conversation.updated_at == now and conversation.expires_at == now + timedelta(minutes=15)
    assert user is not None and user.subscribed and user.last_message_at == now and user.created_at == now
    assert record.dedup_key == "m:u-hot:1" and record.created_at == now and "记下了" in record.reply_xml


async def test_state_written_by_one_path_is_read_by_the_other(hot) -> None:  # type: ignore[no-untyped-def]
    pipe, clock, calls = hot
    await pipe.handle(text("登记", "1"))  # full path
    await pipe.handle(text("记住", "2"))  # hot path
    clock.advance(minutes=5)
    assert "记得：甲、乙" in await pipe.handle(text("继续", "3"))  # hot path reads the state and keeps its ttl
    async with pipe.services.database.session() as session:
        conversation = await session.get(Conversation, "u-hot")
        outbox = (await session.execute(select(OutboxMessage))).scalars().all()
    assert conversation is not None and conversation.expires_at == clock() + timedelta(minutes=15)
    assert len(outbox) == 1
    assert calls == ["register", "remember", "recall"]


async def test_a_handler_that_needs_the_session_runs_once_on_the_full_path(hot) -> None:  # type: ignore[no-untyped-def]
    pipe, _clock, calls = hot
    reply = await pipe.handle(text("登记", "7"))
    assert "已登记" in reply and await pipe.handle(text("登记", "7")) == reply
    async with pipe.services.database.session() as session:
        assert len((await session.execute(select(ProcessedMessage))).all()) == 1
        assert len((await session.execute(select(OutboxMessage))).all()) == 1
    assert calls == ["register"]  # resolved on the hot path, run only by the full one


async def test_a_location_push_touches_the_follower(hot) -> None:  # type: ignore[no-untyped-def]
    pipe, clock, _calls = hot
    push = Incoming(to_user="gh_x", openid="u-hot", create_time=1, msg_type="location", msg_id="9",
                    location=Location(35.02, 111.0, "运城"))
    await pipe.handle(push)
    async with pipe.services.database.session() as session:
        user = await session.get(WechatUser, "u-hot")
    assert user is not None and user.last_message_at == clock()


async def test_sqlite_write_lock_held_elsewhere_hands_the_push_to_the_full_path(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/lock.db"
    database = Database(url)
    await upgrade(database)
    await seed_departments(database, duties().units)
    try:
        hot_path = SqliteHotPath(str(tmp_path / "lock.db"))
        other = sqlite3.connect(tmp_path / "lock.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another connection (a job, the console, a process) is writing
        assert await hot_path.begin() is None  # no waiting on the event loop
        other.execute("ROLLBACK")
        tx = await hot_path.begin()
        assert tx is not None
        await tx.rollback()
        other.close()
        await hot_path.close()
    finally:
        await database.dispose()


async def _grouping_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, router: Router
) -> tuple[MessagePipeline, SqliteHotPath, list[int]]:
    """A pipeline on a fresh SQLite file, prepared as at start-up; the list records each group commit's size."""
    url = f"sqlite:///{tmp_path}/group.db"
    database = Database(url)
    await upgrade(database)
    await seed_departments(database, duties().units)
    pipe = MessagePipeline(Services(config=make_config(tmp_path, url), database=database, clock=FakeClock()),
                           Dispatcher([router], fallback=fallback))
    await pipe.prepare()
    hot_path = pipe.hotpath
    assert isinstance(hot_path, SqliteHotPath)
    commits: list[int] = []
    flush = hot_path._flush

    def counting_flush() -> None:
        commits.append(len(hot_path._waiters))
        flush()

    monkeypatch.setattr(hot_path, "_flush", counting_flush)
    return pipe, hot_path, commits


async def test_pushes_that_arrive_together_share_one_commit_and_a_failure_loses_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    router = build_router([])

    @router.on(text_is("坏了"))
    @session_free
    async def broken(ctx: Context) -> str:
        raise RuntimeError("handler bug")

    pipe, hot_path, commits = await _grouping_pipeline(tmp_path, monkeypatch, router)
    database = pipe.services.database
    answered_before_commit: list[str] = []

    async def send(content: str, msg_id: str) -> str:
        reply = await pipe.handle(text(content, msg_id, openid=f"u-{msg_id}"))
        if hot_path._group_open:
            answered_before_commit.append(msg_id)
        return reply

    try:
        replies = await asyncio.gather(*(send("坏了" if n == 3 else "记住", str(n)) for n in range(6)))
        assert commits == [6]  # one commit for the six pushes that arrived together
        assert answered_before_commit == []
        assert all("记下了" in r for n, r in enumerate(replies) if n != 3)
        assert "记下了" not in replies[3]
        async with database.session() as session:
            states = (await session.execute(select(Conversation.openid, Conversation.state))).all()
            stored = (await session.execute(select(ProcessedMessage.dedup_key))).scalars().all()
        assert sorted(states) == sorted((f"u-{n}", "demo:kept") for n in range(6) if n != 3)
        assert len(stored) == 6  # the failing push's polite reply is stored too (a retry replays it)
        assert await pipe.handle(text("坏了", "3", openid="u-3")) == replies[3]
    finally:
        await database.dispose()


async def test_a_group_commit_waits_for_pushes_in_flight_and_a_lone_push_commits_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    pipe, hot_path, commits = await _grouping_pipeline(tmp_path, monkeypatch, build_router([]))
    database = pipe.services.database
    hot_path.window = 3600.0  # a window that never ends within the test: only the in-flight rule commits

    waiting = asyncio.Queue[int]()  # a push parked to wait for the window: how many wait now
    wait_for_window = hot_path._commit_after_window

    def noting_wait() -> None:
        wait_for_window()
        waiting.put_nowait(len(hot_path._waiters))

    monkeypatch.setattr(hot_path, "_commit_after_window", noting_wait)

    async def parked(count: int) -> None:
        assert await waiting.get() == count

    try:
        # alone: nobody else could join, so the push commits without waiting for the window
        assert "记下了" in await asyncio.wait_for(pipe.handle(text("记住", "1", openid="u-1")), 60)
        assert commits == [1]

        hot_path.arrived()  # another push is in flight: still being read, say
        first = asyncio.create_task(pipe.handle(text("记住", "2", openid="u-2")))
        await parked(1)
        second = asyncio.create_task(pipe.handle(text("记住", "3", openid="u-3")))
        await parked(2)
        assert commits == [1] and not first.done() and not second.done()  # waiting for the one in flight
        hot_path.left()  # … which was answered some other way: nobody else is coming
        assert all("记下了" in reply for reply in await asyncio.gather(first, second))
        assert commits == [1, 2]
    finally:
        await database.dispose()


async def test_a_question_is_logged_on_the_hot_path_like_on_the_full_path(hot) -> None:  # type: ignore[no-untyped-def]
    """The question log row and the asked-again mark are written in the push's own transaction."""
    from types import SimpleNamespace

    from bot.context import QuestionAsked
    from bot.questions.log import user_hash
    from storage.models.questions import QuestionLog

    pipe, clock, _calls = hot
    answered = SimpleNamespace(kind="answer", matched=True, score=0.9, entry_id="reg-types")

    @session_free
    async def ask(ctx: Context) -> str:
        ctx.asked.append(QuestionAsked(ctx.incoming.text, answered))
        return "答"

    async def no_full_path(*_args: object) -> str:
        raise AssertionError("a question must not need the full path")

    pipe.dispatcher = Dispatcher([], fallback=ask)
    pipe._handle_once = no_full_path  # type: ignore[method-assign]
    await pipe.handle(text("新化学物质怎么登记", "1"))
    clock.advance(minutes=3)
    await pipe.handle(text("登记 要多久", "2"))  # "登记" alone would be the full-path route; this is a question
    async with pipe.services.database.session() as session:
        rows = (await session.execute(select(QuestionLog).order_by(QuestionLog.id))).scalars().all()
        who = await user_hash(session, "u-hot")
    assert [r.text for r in rows] == ["新化学物质怎么登记", "登记 要多久"]
    assert [r.follow_up for r in rows] == ["asked_again", ""]
    assert all(r.user_hash == who and r.kind == "answer" and r.matched and r.entry_id == "reg-types" for r in rows)
    assert rows[0].asked_at == clock() - timedelta(minutes=3) and rows[1].asked_at == clock()


def test_wal_checkpoints_run_on_their_own_thread_after_enough_commits(tmp_path: Path) -> None:
    from storage.hotpath.checkpoint import Checkpointer

    path = tmp_path / "wal.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # as the reply path's connection
    writer.execute("CREATE TABLE t (x TEXT)")
    checkpointer = Checkpointer(str(path), every=3)
    try:
        size_before = path.stat().st_size
        for _ in range(3):
            writer.execute("INSERT INTO t VALUES (?)", ("x" * 50_000,))
            assert not checkpointer.checkpointed.is_set()
            checkpointer.committed()
        assert checkpointer.checkpointed.wait(30)
        assert path.stat().st_size > size_before + 100_000  # the pages were copied into the database file
    finally:
        checkpointer.stop()
        writer.close()


def test_waking_held_rows_reads_only_the_writers_rows_on_sqlite(tmp_path: Path) -> None:
    """Each user message wakes that user's held rows: through the partial index on the recipient of waiting
    rows, never by reading every waiting row (which a fresh SQLite database, without statistics, would)."""
    from bot.outbound.worker import _WAKE_WAITING_SQLITE
    from storage.hotpath.sqlite import _SQLITE
    from storage.migrate import upgrade_sync

    upgrade_sync(f"sqlite:///{tmp_path}/plan.db")
    conn = sqlite3.connect(tmp_path / "plan.db")
    try:
        full_path = str(_WAKE_WAITING_SQLITE).replace(":now", "?").replace(":recipient_openid", "?")
        for sql in (_SQLITE["wake"], full_path):
            plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, ("t", "u")))
            assert "ix_outbox_waiting_recipient" in plan, plan
    finally:
        conn.close()


async def test_the_wal_file_stops_growing_under_steady_replies(tmp_path: Path) -> None:
    """The reply path keeps committing while its checkpoints run: the WAL must still start over, or the
    file would grow for good."""
    import asyncio
    from datetime import UTC, datetime

    path = tmp_path / "steady.db"
    database = Database(f"sqlite:///{path}")
    await upgrade(database)
    await database.dispose()
    hot_path = SqliteHotPath(str(path))
    thread_side = sqlite3.connect(path, isolation_level=None)  # does what the checkpoint thread does, in step
    try:
        for group in range(240):
            tx = await hot_path.begin()
            checkpointer = hot_path._checkpointer
            assert tx is not None and checkpointer is not None
            checkpointer.every = 10**9  # the real thread stays idle: this test plays its part
            await tx.claim(f"m:u:{group}", "u", "回" * 10_000, datetime.now(UTC))
            if group % 4 == 3:  # the thread's checkpoint, while the reply path has a group open
                thread_side.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                checkpointer._caught_up = True
            await tx.commit()
            hot_path._flush()
        wal, size = await asyncio.to_thread(lambda: (os.path.getsize(f"{path}-wal"), os.path.getsize(path)))
        assert size > 6_000_000
        assert wal < size / 4, wal
    finally:
        thread_side.close()
        await hot_path.close()
