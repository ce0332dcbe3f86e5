"""Enqueueing outbound messages: rows written in the caller's transaction, sent later by the worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage

# A user's message wakes their rows held by the 48-hour rule. The partial index on the recipient of waiting
# rows finds them; SQLite without statistics would pick ix_outbox_due and read every waiting row instead.
WAKE_INDEX = "INDEXED BY ix_outbox_waiting_recipient"


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    kind: str,
    recipient: str,
    payload: dict[str, Any],
    now: datetime,
    dedup_key: str | None = None,
    purpose: str = "",
    not_before: datetime | None = None,
) -> bool:
    """Add a message to the outbox; with ``dedup_key`` a second enqueue of the same key is a no-op.

    ``channel`` is ``mp`` (openid) or ``wecom`` (userid); ``kind`` is ``text`` (payload ``content``) or
    ``template`` (payload ``template_id``, ``data``, ``url``). Returns False when the key already existed.
    """
    values = dict(
        channel=channel,
        kind=kind,
        recipient=recipient,
        payload=payload,
        dedup_key=dedup_key,
        purpose=purpose,
        status="pending",
        attempts=0,
        next_attempt_at=not_before or now,
        last_error="",
        created_at=now,
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(OutboxMessage).values(**values)
    if dedup_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedup_key"])
    result = await session.execute(stmt)
    return bool(result.rowcount)
