"""Removing question-log rows older than the retention period (``[privacy] question_log_days``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.questions import QuestionLog


async def purge_question_log(session: AsyncSession, *, days: int, now: datetime) -> int:
    """Delete the questions asked more than ``days`` days before ``now``; returns how many (caller commits)."""
    result = await session.execute(delete(QuestionLog).where(QuestionLog.asked_at < now - timedelta(days=days)))
    return int(result.rowcount or 0)
