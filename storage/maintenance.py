"""Housekeeping: forget dedup records older than WeChat could retry, and abandoned dialogs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from storage.db import Database
from storage.models import Conversation, ProcessedMessage

# WeChat retries within seconds; a week of history also answers late duplicate deliveries and audits.
DEDUP_RETENTION = timedelta(days=7)
# An expired dialog is kept a day so the user's next message can still say that it timed out.
EXPIRED_DIALOG_GRACE = timedelta(days=1)


async def prune(database: Database, now: datetime) -> tuple[int, int]:
    """Delete old dedup rows and expired conversation rows; returns how many of each."""
    async with database.session() as session:
        dedup = await session.execute(
            delete(ProcessedMessage).where(ProcessedMessage.created_at < now - DEDUP_RETENTION)
        )
        conversations = await session.execute(
            delete(Conversation).where(
                Conversation.expires_at.is_not(None), Conversation.expires_at < now - EXPIRED_DIALOG_GRACE
            )
        )
        await session.commit()
    return dedup.rowcount or 0, conversations.rowcount or 0
