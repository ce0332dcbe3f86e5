"""The driver-direct path on PostgreSQL: an asyncpg pool, two statements per push besides BEGIN/COMMIT."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
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
    _sql,
    _Tx,
    _user_columns,
    _user_values,
    _users_upsert,
)


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

    async def log_question(self, row: QuestionRow) -> None:
        """One round trip: the previous question marked as asked again, and the new row."""
        await self.conn.execute(_PG_QUESTION, row.user_hash, row.again_since, row.asked_at, row.text, row.kind,
                                row.matched, row.score, row.entry_id)

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


# $1 user hash, $2 since, $3 asked at, $4 text, $5 kind, $6 matched, $7 score, $8 entry id
_PG_QUESTION = (
    f"WITH again AS ({_sql(_SQL['asked_again'], 'numeric')}) "
    + _SQL["question"].format("$3", "$1", "$4", "$5", "$6", "$7", "$8")
)


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


