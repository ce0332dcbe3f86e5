"""The driver-direct path on SQLite: sqlite3 on the event loop, group commit (see ``SqliteHotPath``)."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from storage.hotpath import (
    _CONVERSATION_FIELDS,
    _CONVERSATION_SQL,
    _SQL,
    _USER_VARIANTS,
    ConversationRow,
    HotPath,
    Push,
    QuestionRow,
    Respond,
    Responded,
    SessionNeeded,
    _sql,
    _Tx,
    _user_columns,
    _user_values,
    _users_upsert,
)
from storage.hotpath.checkpoint import Checkpointer
from storage.outbox import WAKE_INDEX

log = logging.getLogger(__name__)

@lru_cache(maxsize=256)
def _sqlite_time(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite DATETIME text of a UTC instant (see ``UTCDateTime``); a push's statements share
    a few instants, formatted once."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_read_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


_WRITTEN_AT_FINISH = 0  # ``claim_and_touch``'s record id: the row is written by ``finish`` (ids start at 1)


class _SqliteTx(_Tx):
    """One push: a savepoint inside the group transaction (see ``SqliteHotPath``)."""

    def __init__(self, path: SqliteHotPath, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.open = True
        self.claimed: Push | None = None  # the push whose dedup row ``finish`` writes

    async def claim_and_touch(self, push: Push) -> int | None:
        """The key is looked up, and its row written only in ``finish``, with the reply: nothing can write
        between the two (this connection holds SQLite's write lock and a push's statements run without a
        pause), so one INSERT does the work of an INSERT and an UPDATE of the same row."""
        if self.conn.execute(_SQLITE["stored"], (push.key,)).fetchone() is not None:
            return None  # a retry
        await self.touch_user(push)
        self.claimed = push
        return _WRITTEN_AT_FINISH

    async def finish(self, record_id: int, openid: str, write: tuple[str, dict[str, Any]] | None, reply: str) -> None:
        if write is not None:
            await self.save_conversation(openid, write)
        push = self.claimed
        assert push is not None and record_id == _WRITTEN_AT_FINISH  # claim_and_touch claimed it
        if await self.claim(push.key, push.openid, reply, push.now) is None:
            raise sqlite3.IntegrityError("the dedup key was taken within the push's own transaction")

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

    async def log_question(self, row: QuestionRow) -> None:
        self.conn.execute(_SQLITE["asked_again"], (row.user_hash, _sqlite_time(row.again_since)))
        self.conn.execute(_SQLITE["question"], (_sqlite_time(row.asked_at), row.user_hash, row.text, row.kind,
                                                int(row.matched), row.score, row.entry_id))

    async def commit(self) -> Callable[[], Awaitable[None]] | None:
        if not self.open:
            return None
        self.open = False
        self.conn.execute("RELEASE push")
        return self.path.settle

    async def rollback(self) -> None:
        if self.open:
            self.open = False
            self.conn.execute("ROLLBACK TO push")
            self.conn.execute("RELEASE push")
            self.path.schedule_commit()  # at once: the push may need the write lock on the full path


MAX_GROUP = 64  # pushes sharing one SQLite commit at most
_SQLITE = {name: _sql(text, "qmark") for name, text in _SQL.items()}
# Without statistics SQLite would look through every waiting row (ix_outbox_due) for each push.
_SQLITE["wake"] = _SQLITE["wake"].replace("UPDATE outbox SET", f"UPDATE outbox {WAKE_INDEX} SET")
_SQLITE_CONVERSATION = {name: _sql(text, "qmark") for name, text in _CONVERSATION_SQL.items()}
_SQLITE_USERS = {c: _users_upsert(c, ["?"] * 6) for c in _USER_VARIANTS}


class SqliteHotPath(HotPath):
    """sqlite3 on the event loop's thread, with group commit.

    A push's statements run synchronously (no other push can interleave), each push inside its own
    savepoint of a group transaction: a failing push rolls back to its savepoint and leaves the others
    alone. No reply leaves before its data is committed, and the commit (SQLite's costly step, paid per
    commit and per page written) is shared: the group commits

    * at once when every push in flight (``arrived`` … ``left``) is waiting for it, or when it holds
      ``MAX_GROUP`` pushes: nobody else could join;
    * otherwise ``window`` seconds after its first push finished, so that pushes being read, decrypted
      or queued right now join it (pushes under load arrive one by one, so without the window almost
      every commit would carry one push).

    Should the commit fail, every push of the group gets the error (answered politely, nothing stored: a
    retry is handled afresh). A push that needs the full path rolls back to its savepoint and the group
    commits at once: the full path waits for SQLite's write lock, which the group holds.

    A handler that really waits for something (suspends) while the write lock is held would let other
    pushes interleave: such a push is rolled back and handed to the full path.

    WAL checkpoints are not run inside these commits but on a thread (``storage.hotpath.checkpoint``).
    """

    def __init__(self, path: str, window: float = 0.005) -> None:
        self.path = path
        self.window = window
        self.conn: sqlite3.Connection | None = None
        self._checkpointer: Checkpointer | None = None
        self._group_open = False
        self._waiters: list[asyncio.Future[None]] = []
        self._flush_handle: asyncio.Handle | None = None
        self._flush_soon = False  # the pending handle commits in this loop turn (not at the window's end)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, cached_statements=64)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=0")  # never wait on the event loop: the full path waits instead
        conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run on a thread of their own
        if self._checkpointer is None:
            self._checkpointer = Checkpointer(self.path)
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

    async def _respond(self, respond: Respond, row: ConversationRow | None) -> Responded:
        """Run the handler without letting it suspend (see the class docstring)."""
        coro = respond(row)
        try:
            coro.send(None)
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
        coro.close()
        raise SessionNeeded  # the handler waited for something: the full path runs it

    def left(self) -> None:
        super().left()
        if self._waiters and not self._others_running():
            self.schedule_commit()  # the push that left was the last one the group waited for

    def _others_running(self) -> bool:
        """Pushes in flight that are not waiting for the group's commit (they may still join it)."""
        return self.in_flight > len(self._waiters)

    async def settle(self) -> None:
        """Return once the current group is committed (see the class docstring for when that is)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if len(self._waiters) >= MAX_GROUP:
            self._flush()
        elif self._others_running() and self.window > 0:
            self._commit_after_window()
        else:
            self.schedule_commit()
        await waiter

    def schedule_commit(self) -> None:
        """Commit the group once the event loop has run what is ready now."""
        if self._flush_handle is not None:
            if self._flush_soon:
                return
            self._flush_handle.cancel()
        self._flush_handle = asyncio.get_running_loop().call_soon(self._flush)
        self._flush_soon = True

    def _commit_after_window(self) -> None:
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(self.window, self._flush)
            self._flush_soon = False

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
            self._flush_soon = False
        waiters, self._waiters = self._waiters, []
        if not self._group_open or self.conn is None:
            error: BaseException | None = RuntimeError("the group transaction is gone")
        else:
            self._group_open = False
            try:
                self.conn.execute("COMMIT")
                error = None
                if self._checkpointer is not None:
                    self._checkpointer.committed()
                    if self._checkpointer.caught_up():  # copy the frames since: the WAL can start over
                        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
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
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
            self._checkpointer = None


