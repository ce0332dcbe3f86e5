"""Operations: when each scheduled job last ran, shared by every process (``python -m bot status``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class JobTick(Base):
    """The last recorded run of a scheduled job (written at most every ``TICK_RECORD_SECONDS`` per process,
    and after every failure)."""

    __tablename__ = "job_ticks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_finished_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_failed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
