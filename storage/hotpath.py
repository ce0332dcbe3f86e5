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
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
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


class Done(NamedTuple):
    """A handled push: its reply, and (SQLite group commit) ``settle``, to await once the caller has let the
    next push in: it returns when this push's data is committed. The reply must not be sent before that."""

    reply: str
    settle: Callable[[], Awaitable[None]] | None = None  # None: committed already


# respond(conversation row) → (reply XML, pending conversation write) — or raises SessionNeeded / anything
Respond = Callable[[ConversationRow | None], Awaitable[tuple[str, tuple[str, dict[str, Any]] | None]]]
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
}


def _sql(template: str, style: str, count: int = 6) -> str:
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
    """Driver-direct push transactions; ``begin`` is the driver's (returns None when it cannot start now)."""

    async def begin(self) -> _Tx | None:
        """A new transaction, or None when it cannot start now (SQLite: another connection is writing)."""
        return await self._begin()

    async def _begin(self) -> _Tx | None:
        raise NotImplementedError

    async def close(self) -> None:
        """Release the driver's connections."""

    async def _respond(self, respond: Respond, row: ConversationRow | None) -> tuple[str, Any]:
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
                reply_xml, write = await self._respond(respond, row)
            except SessionNeeded:
                await tx.rollback()
                return None
            except Exception:
                log.exception("handler failed on the hot path (dedup %s)", _redact(push.key))
                await tx.rollback()
                return await self._store_error(push, error_reply())
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


# ---- SQLite ----------------------------------------------------------------------------------------------

def _sqlite_time(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite DATETIME text of a UTC instant (see ``UTCDateTime``)."""
    if value is None:
        return None
    v = value.astimezone(UTC)
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}."
            f"{v.microsecond:06d}")


def _sqlite_read_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


class _SqliteTx(_Tx):
    """One push: a savepoint inside the group transaction (see ``SqliteHotPath``)."""

    def __init__(self, path: SqliteHotPath, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.open = True

    async def claim(self, key: str, openid: str, reply: str, now: datetime) -> int | None:
        row = self.conn.execute(_SQLITE["claim"], (key, openid, reply, _sqlite_time(now))).fetchone()
        return None if row is None else int(row[0])

    async def stored_reply(self, key: str) -> str | None:
        row = self.conn.execute(_SQLITE["stored"], (key,)).fetchone()
        return None if row is None else row[0]

    async def touch_user(self, push: Push) -> None:
        now = _sqlite_time(push.now)
        columns = _user_columns(push)
        self.conn.execute(_SQLITE_USERS[columns], _user_values(push, now))
        if push.touched:
            self.conn.execute(_SQLITE["wake"], (now, push.openid))

    async def conversation(self, openid: str) -> ConversationRow | None:
        row = self.conn.execute(_SQLITE["conversation"], (openid,)).fetchone()
        if row is None:
            return None
        state, data, updated_at, expires_at = row
        return ConversationRow(state, None if data is None else json.loads(data),
                               _sqlite_read_time(updated_at), _sqlite_read_time(expires_at))

    async def save_conversation(self, openid: str, write: tuple[str, dict[str, Any]]) -> None:
        kind, values = write
        params: list[Any] = []
        for name in _CONVERSATION_FIELDS[kind]:
            value = values[name]
            if name == "data":
                value = json.dumps(value)
            elif name in ("updated_at", "expires_at"):
                value = _sqlite_time(value)
            params.append(value)
        self.conn.execute(_SQLITE_CONVERSATION[kind], (*params, openid))

    async def set_reply(self, record_id: int, reply: str) -> None:
        self.conn.execute(_SQLITE["set_reply"], (reply, record_id))

    async def commit(self) -> Callable[[], Awaitable[None]] | None:
        if not self.open:
            return None
        self.open = False
        self.conn.execute("RELEASE push")
        self.path.schedule_commit()
        return self.path.settle

    async def rollback(self) -> None:
        if self.open:
            self.open = False
            self.conn.execute("ROLLBACK TO push")
            self.conn.execute("RELEASE push")
            self.path.schedule_commit()  # the group still ends soon, even when nothing else joins it


MAX_GROUP = 64  # pushes sharing one SQLite commit at most
_SQLITE = {name: _sql(text, "qmark") for name, text in _SQL.items()}
_SQLITE_CONVERSATION = {name: _sql(text, "qmark") for name, text in _CONVERSATION_SQL.items()}
_USER_VARIANTS = ((), ("last_message_at",))
_SQLITE_USERS = {c: _users_upsert(c, ["?"] * 6) for c in _USER_VARIANTS}


class SqliteHotPath(HotPath):
    """sqlite3 on the event loop's thread, with group commit.

    A push's statements run synchronously (no other push can interleave), each push inside its own
    savepoint of a group transaction: a failing push rolls back to its savepoint and leaves the others
    alone. The group commits once no push that was ready to run with it is left (``call_soon``, pushed back
    as pushes join), and only then is any of its pushes answered: the commit, SQLite's costly step, is
    shared, and no reply leaves before its data is committed. Should the commit fail, every push of the
    group gets the error (answered politely, nothing stored: a retry is handled afresh).

    A handler that really waits for something (suspends) while the write lock is held would let other
    pushes interleave: such a push is rolled back and handed to the full path.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self._group_open = False
        self._waiters: list[asyncio.Future[None]] = []
        self._flush_handle: asyncio.Handle | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, cached_statements=64)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=0")  # never wait on the event loop: the full path waits instead
        return conn

    async def _begin(self) -> _Tx | None:
        if self.conn is None:
            self.conn = self._connect()
        if not self._group_open:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    return None  # another connection is writing: the full path waits for it
                raise
            self._group_open = True
        self.conn.execute("SAVEPOINT push")
        return _SqliteTx(self, self.conn)

    async def _respond(self, respond: Respond, row: ConversationRow | None) -> tuple[str, Any]:
        """Run the handler without letting it suspend (see the class docstring)."""
        coro = respond(row)
        try:
            coro.send(None)
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
        coro.close()
        raise SessionNeeded("the handler waited for something")

    async def settle(self) -> None:
        """Return once the current group is committed; joining pushes the commit back behind the pushes
        that are ready to run now (up to ``MAX_GROUP`` pushes), so that they share it."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if len(self._waiters) >= MAX_GROUP:
            self._flush()
        else:
            self.schedule_commit(later=True)
        await waiter

    def schedule_commit(self, *, later: bool = False) -> None:
        """Commit the group once the event loop has run what is ready now (``later``: push it back)."""
        if self._flush_handle is not None:
            if not later:
                return
            self._flush_handle.cancel()
        self._flush_handle = asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        waiters, self._waiters = self._waiters, []
        if not self._group_open or self.conn is None:
            error: BaseException | None = RuntimeError("the group transaction is gone")
        else:
            self._group_open = False
            try:
                self.conn.execute("COMMIT")
                error = None
            except sqlite3.Error as exc:
                log.error("group commit failed (%s); %d pushes not applied", type(exc).__name__, len(waiters))
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                error = exc
        for waiter in waiters:
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)

    async def close(self) -> None:
        if self.conn is not None:
            if self._group_open:
                self._flush()
            self.conn.close()
            self.conn = None


# ---- PostgreSQL ------------------------------------------------------------------------------------------

class _PgTx(_Tx):
    def __init__(self, pool: Any, conn: Any, transaction: Any) -> None:
        self.pool, self.conn, self.transaction = pool, conn, transaction
        self.open = True

    async def claim(self, key: str, openid: str, reply: str, now: datetime) -> int | None:
        return await self.conn.fetchval(_PG["claim"], key, openid, reply, now)

    async def stored_reply(self, key: str) -> str | None:
        return await self.conn.fetchval(_PG["stored"], key)

    async def touch_user(self, push: Push) -> None:
        columns = _user_columns(push)
        await self.conn.execute(_PG_USERS[columns], *_user_values(push, push.now))
        if push.touched:
            await self.conn.execute(_PG["wake"], push.now, push.openid)

    async def conversation(self, openid: str) -> ConversationRow | None:
        row = await self.conn.fetchrow(_PG["conversation"], openid)
        if row is None:
            return None
        data = row["data"]
        return ConversationRow(row["state"], None if data is None else json.loads(data), row["updated_at"],
                               row["expires_at"])

    async def save_conversation(self, openid: str, write: tuple[str, dict[str, Any]]) -> None:
        kind, values = write
        params = [json.dumps(values[n]) if n == "data" else values[n] for n in _CONVERSATION_FIELDS[kind]]
        await self.conn.execute(_PG_CONVERSATION[kind], *params, openid)

    async def set_reply(self, record_id: int, reply: str) -> None:
        await self.conn.execute(_PG["set_reply"], reply, record_id)

    async def claim_and_touch(self, push: Push) -> int | None:
        """One round trip: the claim, and only when it claimed, the follower upsert and the wake-up."""
        return await self.conn.fetchval(_PG_CLAIM_TOUCH[_user_columns(push), push.touched], push.key, push.openid,
                                        push.now)

    async def finish(self, record_id: int, openid: str, write: tuple[str, dict[str, Any]] | None, reply: str) -> None:
        """One round trip: the conversation write (when there is one) and the stored reply."""
        if write is None:
            await self.set_reply(record_id, reply)
            return
        kind, values = write
        params = [json.dumps(values[n]) if n == "data" else values[n] for n in _CONVERSATION_FIELDS[kind]]
        await self.conn.execute(_PG_FINISH[kind], reply, record_id, *params, openid)

    async def _end(self, commit: bool) -> None:
        if not self.open:
            return
        self.open = False
        try:
            await (self.transaction.commit() if commit else self.transaction.rollback())
        finally:
            await self.pool.release(self.conn)

    async def commit(self) -> Callable[[], Awaitable[None]] | None:
        await self._end(True)
        return None

    async def rollback(self) -> None:
        await self._end(False)


_PG = {name: _sql(text, "numeric") for name, text in _SQL.items()}
_PG_CONVERSATION = {name: _sql(text, "numeric") for name, text in _CONVERSATION_SQL.items()}
_PG_USERS = {c: _users_upsert(c, [f"${i + 1}" for i in range(6)]) for c in _USER_VARIANTS}


def _pg_claim_touch(columns: tuple[str, ...], touched: bool) -> str:
    """$1 key, $2 openid, $3 now: the id when claimed, else no row."""
    follower = _users_upsert(columns, ["$2", "true", "$3", *("$3" for _c in columns)])
    follower = follower.replace(" VALUES (", " SELECT ", 1).replace(") ON CONFLICT", " FROM claim ON CONFLICT", 1)
    wake = _sql(_SQL["wake"], "numeric").replace("$1", "$3")  # next_attempt_at = now; recipient stays $2
    parts = [
        "WITH claim AS (INSERT INTO processed_messages (dedup_key, openid, reply_xml, created_at) "
        "VALUES ($1, $2, '', $3) ON CONFLICT (dedup_key) DO NOTHING RETURNING id)",
        f", follower AS ({follower})",
    ]
    if touched:
        parts.append(f", woken AS ({wake} AND EXISTS (SELECT 1 FROM claim))")
    parts.append(" SELECT id FROM claim")
    return "".join(parts)


_PG_CLAIM_TOUCH = {(c, t): _pg_claim_touch(c, t) for c in _USER_VARIANTS for t in (False, True)}
_PG_FINISH = {  # $1 reply, $2 record id, then the conversation's values and the openid
    kind: f"WITH conversation AS ({text.format(*(f'${i + 3}' for i in range(6)))}) "
    "UPDATE processed_messages SET reply_xml = $1 WHERE id = $2"
    for kind, text in _CONVERSATION_SQL.items()
}


class PostgresHotPath(HotPath):
    """An asyncpg pool of up to ``size`` connections (the pipeline admits at most that many pushes)."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dsn = dsn
        self.size = max(1, size)
        self.pool: Any = None

    async def _begin(self) -> _Tx | None:
        if self.pool is None:
            import asyncpg

            pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self.size)
            if self.pool is None:
                self.pool = pool
            else:  # another push created it while this one waited
                await pool.close()
        conn = await self.pool.acquire()
        try:
            transaction = conn.transaction()
            await transaction.start()
        except BaseException:
            await self.pool.release(conn)
            raise
        return _PgTx(self.pool, conn, transaction)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None


def hotpath_for(database: Any, limit: int) -> HotPath | None:
    """The driver-direct path for ``database`` (a ``storage.db.Database``, which closes it on dispose);
    None for an in-memory SQLite database, which another connection cannot share."""
    if database.hot_path is None:
        url = database.url
        if database.is_sqlite:
            path = url.database or ""
            if not path or path == ":memory:" or path.startswith("file:"):
                return None
            database.hot_path = SqliteHotPath(path)
        else:
            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            database.hot_path = PostgresHotPath(dsn, limit)
    return database.hot_path
