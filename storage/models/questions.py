"""The question log: what people asked the knowledge base and how the reply served them.

No openid is stored: ``user_hash`` is a salted hash (the salt is a database secret shared by every
process) that only groups one user's follow-ups and ratings.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class QuestionLog(Base):
    """One question and its reply. ``follow_up``: '' | picked (a suggested question) | asked_again;
    ``rating``: '' | useful | useless (the user's 有用 / 没用)."""

    __tablename__ = "question_log"
    __table_args__ = (
        Index("ix_question_log_user_asked", "user_hash", "asked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    matched: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    follow_up: Mapped[str] = mapped_column(String(16), default="")
    rating: Mapped[str] = mapped_column(String(16), default="")
    rated_at: Mapped[datetime | None] = mapped_column(nullable=True)


class QuestionTriage(Base):
    """A decision on a group of questions, keyed by its representative's normalized text.

    ``decision``: out_of_scope (the knowledge base should keep refusing it). Who and when are kept.
    """

    __tablename__ = "question_triage"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    decision: Mapped[str] = mapped_column(String(16))
    example: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
