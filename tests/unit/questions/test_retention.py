"""Question-log retention: rows older than the period go, newer ones stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.questions.retention import purge_question_log
from storage.models.questions import QuestionLog
from tests.conftest import RunningService


async def test_old_questions_are_purged(console_service: RunningService) -> None:
    services = console_service.services
    now = services.now()
    async with services.database.session() as db:
        for days_ago in (400, 366, 364, 1):
            db.add(QuestionLog(asked_at=now - timedelta(days=days_ago), user_hash="u" * 64, text=f"q{days_ago}",
                               kind="refusal"))  # fmt: skip
        await db.commit()
        assert await purge_question_log(db, days=365, now=now) == 2
        await db.commit()
        left = sorted((await db.scalars(select(QuestionLog.text))).all())
    assert left == ["q1", "q364"]
