"""Violation reports from the public: the report, its photos, its history and pending attachments.

Reporter identity lives in the ``reporter_*`` columns only. They are shown to admins alone (see
``bot.reports.workflow.reporter_masked`` for everyone else) and never written to logs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, utcnow


class Report(Base):
    """One report. ``case_no`` is derived from the autoincrement id after the insert, so it is unique."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_status_created", "status", "created_at"),
        Index("ix_reports_category_created", "category", "created_at"),
        Index("ix_reports_reporter_created", "reporter_openid", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_no: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    # The wizard's draft id: a retried or repeated confirmation of the same draft finds this row.
    draft_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    reported_object: Mapped[str] = mapped_column(Text, default="")

    # Location as received: GCJ-02 from a WeChat pin, or only a typed address.
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str] = mapped_column(Text, default="")
    location_source: Mapped[str] = mapped_column(String(16), default="")  # pin | typed | ""

    # Routing: the responsible city department and the county-level unit (None = manual routing).
    department: Mapped[str] = mapped_column(String(64), index=True)
    county: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    county_method: Mapped[str] = mapped_column(String(24), default="")
    needs_manual_routing: Mapped[bool] = mapped_column(Boolean, default=False)
    routing_note: Mapped[str] = mapped_column(Text, default="")

    duplicate_of: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)

    # Outcome, as set by staff.
    result: Mapped[str] = mapped_column(Text, default="")
    public_reply: Mapped[str] = mapped_column(Text, default="")
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    competent_authority: Mapped[str] = mapped_column(String(128), default="")
    # What Open311 publishes instead of the description: written or approved by staff on acceptance.
    public_summary: Mapped[str] = mapped_column(Text, default="")

    # Reporter identity (private). Name and phone only for real-name reporters who want a reward.
    reporter_openid: Mapped[str] = mapped_column(String(128))
    real_name: Mapped[bool] = mapped_column(Boolean, default=False)
    reporter_name: Mapped[str] = mapped_column(String(64), default="")
    reporter_phone: Mapped[str] = mapped_column(String(32), default="")
    # Set when retention or a deletion request masked the reporter's identity (the case is kept).
    identity_erased_at: Mapped[datetime | None] = mapped_column(nullable=True)

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    photos: Mapped[list[ReportPhoto]] = relationship(
        back_populates="report", lazy="selectin", order_by="ReportPhoto.position"
    )
    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", lazy="selectin", order_by="ReportEvent.id"
    )


class ReportPhoto(Base):
    """A photo sent by a reporter, downloaded in the background by ``bot.reports.photos``.

    The row exists from the moment the photo arrives (``report_id`` is None while the report is a draft,
    ``draft_id`` is None while it waits for the user to start a report). ``status``: pending (queued or
    being retried), stored, failed (gave up), expired (media id no longer valid), rejected (not an
    accepted image type or too large). ``sha256`` and ``size`` describe the STORED file, i.e. the image
    with its metadata removed.
    """

    __tablename__ = "report_photos"
    __table_args__ = (
        Index("ix_report_photos_due", "status", "next_attempt_at"),
        Index("ix_report_photos_owner", "reporter_openid", "report_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), nullable=True)
    draft_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    reporter_openid: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer, default=0)
    media_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    original_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_type: Mapped[str] = mapped_column(String(32), default="")
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    stored_at: Mapped[datetime | None] = mapped_column(nullable=True)

    report: Mapped[Report | None] = relationship(back_populates="photos")

    @property
    def stored(self) -> bool:
        return self.status == "stored"


class ReportEvent(Base):
    """One line of a report's history: who did what, when, with which notes.

    ``kind``: created, status, transfer, county, note, notify. ``internal`` notes are never shown to the
    reporter; ``public_reply`` is.
    """

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(16), default="")
    to_status: Mapped[str] = mapped_column(String(16), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    public_reply: Mapped[str] = mapped_column(Text, default="")
    internal: Mapped[bool] = mapped_column(Boolean, default=False)

    report: Mapped[Report] = relationship(back_populates="events")


class ReportPendingLocation(Base):
    """A location a user sent outside any dialog; attached when they start a report soon after."""

    __tablename__ = "report_pending_locations"

    openid: Mapped[str] = mapped_column(String(128), primary_key=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
