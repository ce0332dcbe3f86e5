"""Tables of the platform rules: signed-push replay guard, the 1-minute event windows, subscription grants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class PushNonce(Base):
    """A (timestamp, nonce) pair of a signed push seen in the last minutes, with a digest of its body: the
    same pair is accepted again only with the same body (WeChat's retry), never with another one."""

    __tablename__ = "push_nonces"

    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class EventWindow(Base):
    """The last CLICK, follow or scan of a user: it allows 3 customer-service sends within 1 minute."""

    __tablename__ = "wechat_event_windows"

    openid: Mapped[str] = mapped_column(String(128), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubscriptionGrant(Base):
    """One choice pushed as ``subscribe_msg_popup_event``: a one-time grant allows one bizsend."""

    __tablename__ = "subscription_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(128), index=True)
    template_id: Mapped[str] = mapped_column(String(128))
    accepted: Mapped[bool] = mapped_column(Boolean)
    scene: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
