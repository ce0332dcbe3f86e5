"""One incoming push → one transaction: dedup record, user bookkeeping, handler, conversation state, reply.

A retry of a push that was already handled (same dedup key) gets the reply stored the first time and
changes nothing. Two processes handling the same retry concurrently meet at the unique key: the
second waits for the first's commit, fails its insert and replays the stored reply.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import ConversationState
from bot.outbox_worker import wake_waiting
from bot.routing import Dispatcher, HandlerResult
from bot.services import Services
from bot.wechat.messages import Incoming
from bot.wechat.replies import Reply, TextReply
from handlers import texts
from storage.models import ProcessedMessage, WechatUser

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 2000


class MessagePipeline:
    def __init__(self, services: Services, dispatcher: Dispatcher) -> None:
        self.services = services
        self.dispatcher = dispatcher
        self.default_ttl = timedelta(minutes=services.config.conversation.timeout_minutes)
        # SQLite has one writer at a time, and its busy handler waits by sleeping (up to 100 ms a try):
        # concurrent pushes would idle the core and stretch the tail. Queue them here instead, in order.
        self._sqlite_turn = asyncio.Lock() if services.database.is_sqlite else None

    async def handle(self, incoming: Incoming) -> str:
        """The plaintext reply XML for ``incoming`` ('' when there is nothing to say)."""
        if self._sqlite_turn is None:
            return await self._handle(incoming)
        async with self._sqlite_turn:
            return await self._handle(incoming)

    async def _handle(self, incoming: Incoming) -> str:
        key = incoming.dedup_key
        db = self.services.database
        async with db.session() as session:
            stored = await self._stored_reply(session, key)
            if stored is not None:
                return stored
        try:
            return await self._handle_once(incoming, key)
        except IntegrityError:
            # Another worker handled the same push first; replay its reply.
            async with db.session() as session:
                stored = await self._stored_reply(session, key)
            if stored is not None:
                return stored
            raise

    async def _stored_reply(self, session: AsyncSession, key: str) -> str | None:
        return await session.scalar(
            select(ProcessedMessage.reply_xml).where(ProcessedMessage.dedup_key == key)
        )

    async def _handle_once(self, incoming: Incoming, key: str) -> str:
        db = self.services.database
        now = self.services.now()
        async with db.session() as session:
            record = ProcessedMessage(dedup_key=key, openid=incoming.openid, reply_xml="", created_at=now)
            session.add(record)
            await session.flush()  # takes the unique key now, so a concurrent retry waits here
            try:
                async with session.begin_nested():
                    result = await self._run_handler(session, incoming, now)
            except (IntegrityError, OperationalError):
                raise
            except Exception:
                log.exception("handler failed for %s message (dedup %s)", incoming.msg_type, _redact(key))
                result = TextReply(texts.HANDLER_ERROR)
            record.reply_xml = self._render(incoming, result, now)
            await session.commit()
            return record.reply_xml

    async def _run_handler(self, session: AsyncSession, incoming: Incoming, now) -> HandlerResult:  # type: ignore[no-untyped-def]
        await self._touch_user(session, incoming, now)
        conversation = await ConversationState.load(session, incoming.openid, now, self.default_ttl)
        ctx = Context(
            incoming=incoming, session=session, conversation=conversation, services=self.services, now=now
        )
        result = await self.dispatcher.dispatch(ctx)
        await conversation.save(session)
        return result

    async def _touch_user(self, session: AsyncSession, incoming: Incoming, now) -> None:  # type: ignore[no-untyped-def]
        user = await session.get(WechatUser, incoming.openid)
        if user is None:
            user = WechatUser(openid=incoming.openid, subscribed=True, created_at=now)
            session.add(user)
        if not incoming.is_event or incoming.event.upper() in {"CLICK", "VIEW", "SUBSCRIBE", "SCAN"}:
            user.last_message_at = now
            await wake_waiting(session, incoming.openid, now)  # the 48-hour window is open again
        if incoming.location is not None:
            user.last_latitude = incoming.location.latitude
            user.last_longitude = incoming.location.longitude

    def _render(self, incoming: Incoming, result: HandlerResult, now) -> str:  # type: ignore[no-untyped-def]
        if result is None:
            return ""
        reply: Reply = TextReply(result) if isinstance(result, str) else result
        if isinstance(reply, TextReply) and len(reply.content) > MAX_REPLY_CHARS:
            reply = TextReply(reply.content[: MAX_REPLY_CHARS - 1] + "…")
        return reply.render(incoming.openid, incoming.to_user, int(now.timestamp()))


def _redact(key: str) -> str:
    """Dedup keys contain openids, which stay out of logs."""
    parts = key.split(":")
    return ":".join([parts[0], "***", *parts[2:]]) if len(parts) > 2 else "***"
