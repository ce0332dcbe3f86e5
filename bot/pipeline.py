"""One incoming push → one transaction: dedup record, user bookkeeping, handler, conversation state, reply.

A retry of a push that was already handled (same dedup key) gets the reply stored the first time and
changes nothing. The transaction opens by claiming the key (``INSERT … ON CONFLICT DO NOTHING RETURNING``):
two processes handling the same retry concurrently meet at the unique key, the second waits for the
first's commit, claims nothing and replays the stored reply. A handler failure rolls the whole
transaction back and stores the polite error reply under the key in a second, short one.

Admission: at most ``[storage] max_in_flight`` pushes hold a database transaction at once (one for
SQLite, which has one writer); the rest wait in a first-come, first-served queue. A push still waiting
after ``[storage] admission_timeout_seconds`` (counted from when the request arrived) is answered at once
with a "busy, please send again" reply and leaves no trace: nothing was applied and nothing is stored, so
the reply is true and any retry of it is handled afresh. Once admitted, a push runs to its commit; if that
takes past WeChat's window, WeChat's retry waits at the key and replays the committed reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics, texts
from bot.context import Context
from bot.conversation import ConversationState
from bot.outbound.worker import wake_waiting
from bot.questions.log import cached_salt, hash_openid, question_row, read_salt, record_question
from bot.routing import Dispatcher, HandlerResult, is_session_free
from bot.services import Services
from bot.wechat.limits import text_fits
from bot.wechat.long_text import plan_reply
from bot.wechat.messages import Incoming
from bot.wechat.replies import Reply, TextReply
from bot.wechat.windows import EVENT_QUOTA, MESSAGE_QUOTA, opens_event_window
from storage.event_windows import open_event_window
from storage.hotpath import ConversationRow, Done, HotPath, NoSession, Push, Responded, SessionNeeded
from storage.hotpath.choose import hotpath_for
from storage.models import ProcessedMessage, WechatUser
from storage.outbox import enqueue

log = logging.getLogger(__name__)

BUSY_LOOKUP_SECONDS = 0.5  # a busy push looks for a stored reply (a retry) for at most this long

# Every push runs these: built once as Core statements on the tables (no ORM unit of work, and SQLAlchemy
# finds their compiled form by a cache key it computes once per statement object).
_PROCESSED = ProcessedMessage.__table__
_USERS = WechatUser.__table__
_STORED_REPLY = select(_PROCESSED.c.reply_xml).where(_PROCESSED.c.dedup_key == bindparam("key"))
_SET_REPLY = update(_PROCESSED).where(_PROCESSED.c.id == bindparam("record_id")).values(reply_xml=bindparam("reply"))
_DIALECTS = {"sqlite": sqlite, "postgresql": postgresql}


def _claim_statement(dialect: Any) -> Any:
    return (
        dialect.insert(_PROCESSED)
        .values(
            dedup_key=bindparam("dedup_key"),
            openid=bindparam("openid"),
            reply_xml=bindparam("reply_xml"),
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(_PROCESSED.c.id)
    )


def _touch_statement(dialect: Any, changed: tuple[str, ...]) -> Any:
    """Create the follower's row, or set ``changed`` on it."""
    stmt = dialect.insert(_USERS).values(
        openid=bindparam("openid"),
        subscribed=True,
        created_at=bindparam("created_at"),
        **{c: bindparam(c) for c in changed},
    )
    if not changed:
        return stmt.on_conflict_do_nothing(index_elements=["openid"])
    return stmt.on_conflict_do_update(index_elements=["openid"], set_={c: stmt.excluded[c] for c in changed})


_CLAIM = {name: _claim_statement(d) for name, d in _DIALECTS.items()}
_TOUCH = {
    (name, changed): _touch_statement(d, changed)
    for name, d in _DIALECTS.items()
    for changed in ((), ("last_message_at",))
}


class AdmissionTimeout(Exception):
    """No transaction slot came free before the push's deadline."""


class Admission:
    """A first-come, first-served gate for ``limit`` holders, with a deadline per waiter."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, wait_seconds: float | None) -> None:
        """Take a slot, waiting in line at most ``wait_seconds`` (None: as long as it takes)."""
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        if wait_seconds is not None and wait_seconds <= 0:
            raise AdmissionTimeout
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), wait_seconds)
        except (TimeoutError, asyncio.CancelledError) as exc:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as we gave up: pass it on
            else:
                waiter.cancel()
                self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise AdmissionTimeout from None
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves to the next waiter; ``active`` stays
                return
        self.active -= 1


class MessagePipeline:
    def __init__(self, services: Services, dispatcher: Dispatcher) -> None:
        self.services = services
        self.dispatcher = dispatcher
        self.default_ttl = timedelta(minutes=services.config.conversation.timeout_minutes)
        storage = services.config.storage
        database = services.database
        # SQLite has one writer at a time, and its busy handler waits by sleeping (up to 100 ms a try):
        # concurrent pushes would idle the core and stretch the tail. Queue them here instead, in order.
        limit = 1 if database.is_sqlite else storage.max_in_flight or storage.pool_size
        self.admission = Admission(min(limit, database.pool_capacity))
        self.admission_timeout = storage.admission_timeout_seconds or None
        self._dialect = "sqlite" if database.is_sqlite else "postgresql"
        # pushes whose handler needs no session take the driver-direct path (storage.hotpath)
        self.hotpath: HotPath | None = (
            hotpath_for(database, self.admission.limit, storage.group_commit_ms / 1000) if storage.hot_path else None
        )
        self._preparing = asyncio.Lock()
        self._salt: str | None = None  # the question log's salt, once read (the database keeps it for good)

    async def prepare(self) -> None:
        """Read what the driver-direct path needs from the database once per process (the question log's
        salt); the app calls it at start-up, and the first push does if nothing has."""
        async with self._preparing:
            if cached_salt(self.services.database.engine.url) is None:
                async with self.services.database.session() as session:
                    await read_salt(session)
                    await session.commit()

    async def handle(self, incoming: Incoming, *, received_at: float | None = None) -> str:
        """The plaintext reply XML for ``incoming`` ('' when there is nothing to say).

        ``received_at`` (``time.monotonic()`` when the request arrived) starts the admission deadline.
        """
        hotpath = self.hotpath
        if hotpath is None:
            return await self._admitted(incoming, received_at)
        hotpath.arrived()  # a group commit may wait for this push to join it
        try:
            return await self._admitted(incoming, received_at)
        finally:
            hotpath.left()

    async def _admitted(self, incoming: Incoming, received_at: float | None) -> str:
        timeout = self.admission_timeout
        if timeout is not None and received_at is not None:
            timeout -= time.monotonic() - received_at
        try:
            await self.admission.acquire(timeout)
        except AdmissionTimeout:
            metrics.busy_reply()
            return await self._busy(incoming)
        try:
            outcome = await self._handle(incoming)
        finally:
            self.admission.release()
        if isinstance(outcome, Done):  # the driver-direct path: the turn is free, the commit may be pending
            if outcome.settle is not None:
                await outcome.settle()  # never answer before the push's data is committed (group commit)
            return outcome.reply
        return outcome

    async def _busy(self, incoming: Incoming) -> str:
        """No turn in time. A WeChat retry of a push already handled still gets its stored reply (a short
        read outside the queue); anything else is told it was not applied and to send again, which is true:
        nothing of it was written."""
        log.warning(
            "busy: no transaction slot within %.1f s (%d waiting); told the user to send again",
            self.admission_timeout,
            self.admission.waiting,
        )
        try:
            async with asyncio.timeout(BUSY_LOOKUP_SECONDS), self.services.database.session() as session:
                stored = await self._stored_reply(session, incoming.dedup_key)
        except Exception:  # includes the timeout: the busy reply is still true
            stored = None
        if stored is not None:
            return stored
        now = self.services.now()
        return TextReply(texts.BUSY).render(incoming.openid, incoming.to_user, int(now.timestamp()))

    async def _handle(self, incoming: Incoming) -> str | Done:
        key = incoming.dedup_key
        if self.hotpath is not None:
            done = await self._handle_hot(incoming, key)
            if done is not None:
                return done
        try:
            return await self._handle_once(incoming, key)
        except IntegrityError:
            # A concurrent transaction (another process) wrote what this one's handler wanted to write,
            # perhaps for this very push: replay its reply if it stored one.
            async with self.services.database.session() as session:
                stored = await self._stored_reply(session, key)
            if stored is not None:
                return stored
            raise

    async def _stored_reply(self, session: AsyncSession, key: str) -> str | None:
        return (await session.execute(_STORED_REPLY, {"key": key})).scalar()

    async def _claim(
        self, session: AsyncSession, incoming: Incoming, key: str, now: datetime, reply: str
    ) -> int | None:
        """Take the dedup key for this transaction: the new row's id, or None when it was handled already."""
        params = {"dedup_key": key, "openid": incoming.openid, "reply_xml": reply, "created_at": now}
        return (await session.execute(_CLAIM[self._dialect], params)).scalar()

    async def _handle_once(self, incoming: Incoming, key: str) -> str:
        db = self.services.database
        now = self.services.now()
        async with db.session() as session:
            record_id = await self._claim(session, incoming, key, now, "")
            if record_id is None:  # a retry: the key's transaction has committed (we waited for it)
                return await self._stored_reply(session, key) or ""
            try:
                result = await self._run_handler(session, incoming, now)
                await session.flush()
            except (IntegrityError, OperationalError):
                raise
            except Exception:
                log.exception("handler failed for %s message (dedup %s)", incoming.msg_type, _redact(key))
            else:
                reply_xml, more = self._render(incoming, result, now)
                await self._continue(session, incoming, record_id, more, now)
                await session.execute(_SET_REPLY, {"record_id": record_id, "reply": reply_xml})
                await session.commit()
                return reply_xml
        # The handler failed: none of its writes stay, but the push is answered, and a retry gets the same answer.
        reply_xml, _ = self._render(incoming, TextReply(texts.HANDLER_ERROR), now)
        async with db.session() as session:
            if await self._claim(session, incoming, key, now, reply_xml) is None:
                return await self._stored_reply(session, key) or ""
            await session.commit()
        return reply_xml

    async def _handle_hot(self, incoming: Incoming, key: str) -> Done | None:
        """The same transaction on the driver-direct path; None when the push needs the full path."""
        if incoming.is_event and opens_event_window(incoming.event):
            return None  # the 1-minute window's row is written on the full path
        salt = self._salt
        if salt is None:
            await self.prepare()
            salt = self._salt = cached_salt(self.services.database.engine.url)
            assert salt is not None  # prepare() read it, or raised
        now = self.services.now()
        push = Push(key, incoming.openid, now, _touches(incoming))

        async def respond(row: ConversationRow | None) -> Responded:
            conversation = ConversationState.from_row(incoming.openid, now, self.default_ttl, row)
            ctx = Context(incoming=incoming, session=_NO_SESSION, conversation=conversation,  # type: ignore[arg-type]
                          services=self.services, now=now)
            handler = self.dispatcher.resolve(ctx)
            if not is_session_free(handler):
                raise SessionNeeded(getattr(handler, "__name__", "handler"))
            result = await handler(ctx)
            reply_xml, more = self._render(incoming, result, now)
            if more:  # a reply over 2,048 bytes: its continuations go to the outbox on the full path
                raise SessionNeeded
            questions = [question_row(hash_openid(salt, incoming.openid), asked, now) for asked in ctx.asked]
            return reply_xml, conversation.pending_write(), questions

        return await self.hotpath.handle(  # type: ignore[union-attr]
            push, respond, lambda: self._render(incoming, TextReply(texts.HANDLER_ERROR), now)[0]
        )

    async def _run_handler(self, session: AsyncSession, incoming: Incoming, now: datetime) -> HandlerResult:
        await self._touch_user(session, incoming, now)
        conversation = await ConversationState.load(session, incoming.openid, now, self.default_ttl)
        ctx = Context(incoming=incoming, session=session, conversation=conversation, services=self.services, now=now)
        result = await self.dispatcher.dispatch(ctx)
        for asked in ctx.asked:
            await record_question(session, incoming.openid, asked, now=now)
        await conversation.save(session)
        return result

    async def _touch_user(self, session: AsyncSession, incoming: Incoming, now: datetime) -> None:
        """Create the follower's row, or record what this push tells about them, in one upsert."""
        params: dict[str, object] = {"openid": incoming.openid, "created_at": now}
        touched = _touches(incoming)
        if touched:
            params["last_message_at"] = now
        # Positions pushed by LOCATION events are not kept: a movement trace is sensitive personal
        # information and nothing uses it. A location sent for a report is kept with that report.
        changed = ("last_message_at",) if touched else ()
        await session.execute(_TOUCH[self._dialect, changed], params)
        if touched:
            await wake_waiting(session, incoming.openid, now)  # the 48-hour window is open again
        elif opens_event_window(incoming.event):
            await open_event_window(session, incoming.openid, now)

    def _render(self, incoming: Incoming, result: HandlerResult, now: datetime) -> tuple[str, list[str]]:
        """The passive reply's XML, and the continuations of a text over 2,048 bytes."""
        if result is None:
            return "", []
        reply: Reply = TextReply(result) if isinstance(result, str) else result
        more: list[str] = []
        if isinstance(reply, TextReply) and not text_fits(reply.content):
            quota = EVENT_QUOTA if incoming.is_event else MESSAGE_QUOTA
            first, more = plan_reply(reply.content, quota)
            reply = TextReply(first)
        return reply.render(incoming.openid, incoming.to_user, int(now.timestamp())), more

    async def _continue(
        self, session: AsyncSession, incoming: Incoming, record_id: int, pieces: list[str], now: datetime
    ) -> None:
        """The rest of a long reply as customer-service texts, in the push's transaction."""
        for number, piece in enumerate(pieces, start=1):
            await enqueue(
                session,
                channel="mp",
                kind="text",
                recipient=incoming.openid,
                payload={"content": piece},
                now=now,
                dedup_key=f"reply:{record_id}:{number}",
                purpose="reply",
            )


_NO_SESSION = NoSession()


def _touches(incoming: Incoming) -> bool:
    """Only a user's message moves last_message_at: it alone opens the 48-hour window (a CLICK, a follow or
    a scan opens the 1-minute one, VIEW nothing)."""
    return not incoming.is_event


def _redact(key: str) -> str:
    """Dedup keys contain openids, which stay out of logs."""
    parts = key.split(":")
    return ":".join([parts[0], "***", *parts[2:]]) if len(parts) > 2 else "***"
