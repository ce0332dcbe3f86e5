"""Tables the service core needs: retry dedup, conversation state, subscribers, outbox, tokens, departments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class ProcessedMessage(Base):
    """One row per handled WeChat push; the unique key makes retries harmless and replays the same reply."""

    __tablename__ = "processed_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    openid: Mapped[str] = mapped_column(String(128))
    reply_xml: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Conversation(Base):
    """Where a user is in a dialog (e.g. ``report:location``) and the data gathered so far."""

    __tablename__ = "conversations"

    openid: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)


class WechatUser(Base):
    """A follower of the account, with what the customer-service 48-hour window needs."""

    __tablename__ = "wechat_users"

    openid: Mapped[str] = mapped_column(String(128), primary_key=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    subscribed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_message_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A message to send later, drained by the outbox worker; ``dedup_key`` makes enqueueing idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # every user message wakes that user's waiting rows: found by recipient, however many others wait
        Index("ix_outbox_waiting_recipient", "recipient", sqlite_where=text("status = 'waiting'"),
              postgresql_where=text("status = 'waiting'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))  # mp | wecom
    kind: Mapped[str] = mapped_column(String(32))  # text | template | textcard
    recipient: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedup_key: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    purpose: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|dead|waiting
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AccessToken(Base):
    """A cached API access token shared by every process."""

    __tablename__ = "access_tokens"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Department(Base):
    """A unit named in the plan: a city department, a county-level government or the development zone."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # city | county | zone
    adcode: Mapped[str | None] = mapped_column(String(12), nullable=True)


class SandboxMessage(Base):
    """What the sandbox channel 'sent': the simulator shows these in order."""

    __tablename__ = "sandbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(128), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
