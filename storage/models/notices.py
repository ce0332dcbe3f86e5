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


class NoticeDelivery(Base):
    """One attempt to deliver a notice (an outbox row) by one route, written before the call is made.

    ``notice_key`` is the outbox row's dedup key (``report-notice:<case>:…``, ``report-new:<case>:…``), so the
    record outlives the row, which retention deletes once sent. ``result``: sending (the call is under way, or
    the process died during it), accepted (WeChat took it; a template's fate is pushed later), delivered,
    failed, waiting (no route open: the notice waits for the user) or uncertain (it may have arrived).
    ``msg_id`` is WeChat's id, which the TEMPLATESENDJOBFINISH / subscribe_msg_sent_event push names.
    """

    __tablename__ = "notice_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(Integer, index=True)
    notice_key: Mapped[str] = mapped_column(String(255), index=True)
    audience: Mapped[str] = mapped_column(String(16))
    route: Mapped[str] = mapped_column(String(16))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    result: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    msg_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    settled_at: Mapped[datetime | None] = mapped_column(nullable=True)


class CasePage(Base):
    """The unguessable path of a case's public page (status, public reply, the subscription button)."""

    __tablename__ = "case_pages"

    case_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
