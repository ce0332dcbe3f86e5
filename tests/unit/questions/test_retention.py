"""Question-log retention under ``[privacy] question_log_days``, applied by the privacy purge."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.privacy.retention import purge
from storage.models.questions import QuestionLog
from tests.conftest import RunningService


async def test_old_questions_are_purged(console_service: RunningService) -> None:
    services = console_service.services
    now = services.now()
    assert services.config.privacy.question_log_days == 365
    async with services.database.session() as db:
        for days_ago in (400, 366, 364, 1):
            db.add(QuestionLog(asked_at=now - timedelta(days=days_ago), user_hash="u" * 64, text=f"q{days_ago}",
                               kind="refusal"))  # fmt: skip
        await db.commit()
    dry = await purge(services, dry_run=True)
    assert dry.question_log_rows == 2
    done = await purge(services)
    assert done.question_log_rows == 2 and done.counts()["question_log_rows"] == 2
    async with services.database.session() as db:
        left = sorted((await db.scalars(select(QuestionLog.text))).all())
    assert left == ["q1", "q364"]
