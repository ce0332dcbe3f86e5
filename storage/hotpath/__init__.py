"""The reply path's statements through the database driver directly: sqlite3 or asyncpg, prepared once.

Most pushes are questions whose handler writes nothing but the conversation state. For them the
per-push database work is a handful of statements, and SQLAlchemy's session machinery around them
(unit of work, compile-cache lookups, greenlet hops, result processing) cost more than the statements.
``HotPath.handle`` runs that transaction on a raw connection with the same semantics as the full path
in ``bot.pipeline``:

* one transaction per push, opened by claiming the dedup key (``INSERT … ON CONFLICT DO NOTHING
  RETURNING id``); a retry (nothing claimed) replays the reply stored under the key;
* follower upsert, waking the 48-hour-held outbox rows, conversation load, handler, conversation
  save and the stored reply, then one commit;
* a handler error rolls everything back; the polite error reply is stored under the key in a second,
  short transaction (and a concurrent claim of the key wins: its reply is replayed).

``handle`` returns None — having written nothing — when the push needs the full path: its handler
uses the database session (anything but a ``session_free`` handler), or, on SQLite, another
connection holds the write lock right now (the full path waits its turn properly).

SQLite: one ``sqlite3`` connection used synchronously on the event loop. A push's statements take tens
of microseconds in all, far less than a thread hop; ``BEGIN IMMEDIATE`` with no busy wait never blocks
the loop. PostgreSQL: an asyncpg pool beside SQLAlchemy's, statements prepared once per connection.
Values are stored exactly as SQLAlchemy stores them (``storage.models.base.UTCDateTime``, JSON text).
The drivers are in ``storage.hotpath.sqlite`` and ``storage.hotpath.postgres``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, NamedTuple

log = logging.getLogger(__name__)


class SessionNeeded(Exception):
    """The handler wants the database session: the push goes through the full path instead."""


class NoSession:
    """Stands in for ``ctx.session`` on the hot path: any use sends the push to the full path."""

    def __getattr__(self, name: str) -> Any:
        raise SessionNeeded(name)


class ConversationRow(NamedTuple):
    state: str | None
    data: dict[str, Any] | None
    updated_at: datetime | None
    expires_at: datetime | None


class Push(NamedTuple):
    key: str
    openid: str
    now: datetime
    touched: bool  # a message or a touching event: last_message_at moves, held outbox rows wake


class QuestionRow(NamedTuple):
    """A question-log row written in the push's transaction (``bot.questions.log`` makes it); the user's latest
    question since ``again_since`` that had no follow-up yet is marked as asked again."""

    asked_at: datetime
    user_hash: str
    text: str
    kind: str
    matched: bool
    score: float
    entry_id: str | None
    again_since: datetime


class Done(NamedTuple):
    """A handled push: its reply, and (SQLite group commit) ``settle``, to await once the caller has let the
    next push in: it returns when this push's data is committed. The reply must not be sent before that."""

    reply: str
    settle: Callable[[], Awaitable[None]] | None = None  # None: committed already


# respond(conversation row) → (reply XML, pending conversation write, question-log rows) — or raises
# SessionNeeded / anything
Responded = tuple[str, tuple[str, dict[str, Any]] | None, list[QuestionRow]]
Respond = Callable[[ConversationRow | None], Awaitable[Responded]]
# the polite reply stored when the handler failed
ErrorReply = Callable[[], str]


# ---- SQL (one text per statement; placeholders differ: "?" for sqlite3, "$n" for asyncpg) ---------------

def _users_upsert(columns: tuple[str, ...], placeholders: list[str]) -> str:
    names = ("openid", "subscribed", "created_at", *columns)
    head = f"INSERT INTO wechat_users ({', '.join(names)}) VALUES ({', '.join(placeholders[: len(names)])})"
    if not columns:
        return head + " ON CONFLICT (openid) DO NOTHING"
    return head + " ON CONFLICT (openid) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in columns)


def _user_columns(push: Push) -> tuple[str, ...]:
    """Positions pushed by LOCATION events are never kept on the follower (as on the full path)."""
    return ("last_message_at",) if push.touched else ()


_USER_VARIANTS = ((), ("last_message_at",))


def _user_values(push: Push, now: Any) -> list[Any]:
    return [push.openid, True, now, now] if push.touched else [push.openid, True, now]


_CONVERSATION_SQL = {
    "touch": "UPDATE conversations SET updated_at = {0}, expires_at = {1} WHERE openid = {2}",
    "write": "UPDATE conversations SET state = {0}, data = {1}, updated_at = {2}, expires_at = {3} WHERE openid = {4}",
    "insert": (
        "INSERT INTO conversations (state, data, updated_at, expires_at, openid) VALUES ({0}, {1}, {2}, {3}, {4}) "
        "ON CONFLICT (openid) DO UPDATE SET state = excluded.state, data = excluded.data, "
        "updated_at = excluded.updated_at, expires_at = excluded.expires_at"
    ),
}
_CONVERSATION_FIELDS = {"touch": ("updated_at", "expires_at"), "write": ("state", "data", "updated_at", "expires_at")}
_CONVERSATION_FIELDS["insert"] = _CONVERSATION_FIELDS["write"]

_SQL = {
    "claim": "INSERT INTO processed_messages (dedup_key, openid, reply_xml, created_at) VALUES ({0}, {1}, {2}, {3}) "
    "ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
    "stored": "SELECT reply_xml FROM processed_messages WHERE dedup_key = {0}",
    "set_reply": "UPDATE processed_messages SET reply_xml = {0} WHERE id = {1}",
    "wake": "UPDATE outbox SET status = 'pending', next_attempt_at = {0}, claimed_until = NULL "
    "WHERE channel = 'mp' AND recipient = {1} AND status = 'waiting'",
    "conversation": "SELECT state, data, updated_at, expires_at FROM conversations WHERE openid = {0}",
    "asked_again": "UPDATE question_log SET follow_up = 'asked_again' WHERE follow_up = '' AND id = "
    "(SELECT id FROM question_log WHERE user_hash = {0} AND asked_at >= {1} ORDER BY asked_at DESC, id DESC LIMIT 1)",
    "question": "INSERT INTO question_log (asked_at, user_hash, text, kind, matched, score, entry_id, follow_up, "
    "rating) VALUES ({0}, {1}, {2}, {3}, {4}, {5}, {6}, '', '')",
}


def _sql(template: str, style: str, count: int = 7) -> str:
    marks = ["?"] * count if style == "qmark" else [f"${i + 1}" for i in range(count)]
    return template.format(*marks)


# ---- the transaction, whatever the driver ---------------------------------------------------------------

class _Tx:
    """One open transaction on a raw connection (the driver adapters below)."""

    async def claim(self, key: str, openid: str, reply: str, now: datetime) -> int | None: ...
    async def stored_reply(self, key: str) -> str | None: ...
    async def touch_user(self, push: Push) -> None: ...
    async def conversation(self, openid: str) -> ConversationRow | None: ...
    async def save_conversation(self, openid: str, write: tuple[str, dict[str, Any]]) -> None: ...
    async def set_reply(self, record_id: int, reply: str) -> None: ...
    async def log_question(self, row: QuestionRow) -> None: ...

    async def claim_and_touch(self, push: Push) -> int | None:
        """Claim the key; when claimed, record the follower (a driver may do both in one statement)."""
        record_id = await self.claim(push.key, push.openid, "", push.now)
        if record_id is not None:
            await self.touch_user(push)
        return record_id

    async def finish(self, record_id: int, openid: str, write: tuple[str, dict[str, Any]] | None, reply: str) -> None:
        """Save the conversation (when it changed) and the reply (a driver may do both in one statement)."""
        if write is not None:
            await self.save_conversation(openid, write)
        await self.set_reply(record_id, reply)

    async def commit(self) -> Callable[[], Awaitable[None]] | None: ...  # settle, when the commit is to come
    async def rollback(self) -> None: ...


class HotPath:
    """Driver-direct push transactions; ``begin`` is the driver's (returns None when it cannot start now).

    The pipeline calls ``arrived`` when a push comes in and ``left`` when it has been answered, whatever
    path it took: a driver that shares commits between pushes (SQLite) knows how many may still join."""

    in_flight = 0

    def arrived(self) -> None:
        self.in_flight += 1

    def left(self) -> None:
        self.in_flight -= 1

    async def begin(self) -> _Tx | None:
        """A new transaction, or None when it cannot start now (SQLite: another connection is writing)."""
        return await self._begin()

    async def _begin(self) -> _Tx | None:
        raise NotImplementedError

    async def close(self) -> None:
        """Release the driver's connections."""

    async def _respond(self, respond: Respond, row: ConversationRow | None) -> Responded:
        return await respond(row)

    async def handle(self, push: Push, respond: Respond, error_reply: ErrorReply) -> Done | None:
        """The reply, or None when the push must go through the full path (nothing was written)."""
        tx = await self.begin()
        if tx is None:
            return None
        try:
            record_id = await tx.claim_and_touch(push)
            if record_id is None:  # a retry: the key's transaction has committed (we waited for it)
                stored = await tx.stored_reply(push.key)
                return Done(stored or "", await tx.commit())
            row = await tx.conversation(push.openid)
            try:
                reply_xml, write, questions = await self._respond(respond, row)
            except SessionNeeded:
                await tx.rollback()
                return None
            except Exception:
                log.exception("handler failed on the hot path (dedup %s)", _redact(push.key))
                await tx.rollback()
                return await self._store_error(push, error_reply())
            for question in questions:
                await tx.log_question(question)
            await tx.finish(record_id, push.openid, write, reply_xml)
            return Done(reply_xml, await tx.commit())
        except BaseException:
            await tx.rollback()
            raise

    async def _store_error(self, push: Push, reply_xml: str) -> Done:
        """The handler failed: none of its writes stay, but the push is answered, and a retry gets the same."""
        tx = await self.begin()
        if tx is None:  # the write lock is taken: say so without storing (a retry is handled afresh)
            return Done(reply_xml)
        try:
            if await tx.claim(push.key, push.openid, reply_xml, push.now) is None:
                stored = await tx.stored_reply(push.key)
                return Done(stored or "", await tx.commit())
            return Done(reply_xml, await tx.commit())
        except BaseException:
            await tx.rollback()
            raise


def _redact(key: str) -> str:
    """Dedup keys contain openids, which stay out of logs."""
    parts = key.split(":")
    return ":".join([parts[0], "***", *parts[2:]]) if len(parts) > 2 else "***"
