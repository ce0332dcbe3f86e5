"""Tables of the privacy features: reporters' data requests and console sessions ended by log-out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class DataRequest(Base):
    """A reporter's request, sent in chat, to see (``access``) or delete (``erasure``) their data.

    ``status``: open until staff carry it out (done); ``result`` says what was done.
    """

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # access | erasure
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    handled_by: Mapped[str] = mapped_column(String(64), default="")
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RevokedSession(Base):
    """A console session ended by log-out: its cookie is refused until it would have expired anyway.

    ``session_hash`` is the SHA-256 of the session's random token (the cookie itself is not stored).
    """

    __tablename__ = "console_revoked_sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
