"""Tasks from the plan, departmental contacts and their binding, reminder deliveries and messages.

A task is assigned to departments (lead, co-operating, local); each department's progress on one
occurrence of a task (``period``: ``once`` or a year for yearly duties) is a ``TaskStatus`` row.
Reminders are planned as ``ReminderDelivery`` rows, one per (task, period, contact, kind, date): that
unique key is what makes planning idempotent. The dispatcher folds a contact's due deliveries into one
``ReminderMessage`` (a digest) and queues it in the outbox under the message's ``key`` (also the message's
duplicate-check id); the outbox worker sends it and writes the outcome back here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, utcnow

CURRENT_ADDRESS = text("removed_at IS NULL")
DIGEST_PURPOSE = "reminder_digest"  # the outbox rows that carry reminder digests


class Task(Base):
    """One task of the plan: a deliverable with a deadline (``deadline``) or a yearly due day."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    citation: Mapped[str] = mapped_column(String(32), default="")
    title: Mapped[str] = mapped_column(String(200))
    deliverable: Mapped[str] = mapped_column(Text, default="")
    lead_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    # the plan itself names the lead unit (“X牵头”); otherwise the units share the task "按职责分工负责" and the
    # lead department is only the first one named (it still gets the escalations)
    lead_named: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # once: ``deadline`` is the nominal date; yearly: due every year on recur_month/recur_day.
    recurrence: Mapped[str] = mapped_column(String(16), default="once")
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    recur_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recur_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # last_working_day: "by X" (X on a holiday → the working day before); next_working_day: X extends.
    deadline_rule: Mapped[str] = mapped_column(String(24), default="last_working_day")
    deadline_text: Mapped[str] = mapped_column(String(64), default="")
    deadline_basis: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskDepartment(Base):
    """A department a task is assigned to: ``lead``, ``co`` (co-operating) or ``local`` (carries it out)."""

    __tablename__ = "task_departments"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(8))


class TaskStatus(Base):
    """A department's progress on one occurrence of a task; no row means open."""

    __tablename__ = "task_status"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="done")  # done | open (reopened)
    done_at: Mapped[datetime | None] = mapped_column(nullable=True)
    done_by: Mapped[str] = mapped_column(String(128), default="")
    done_via: Mapped[str] = mapped_column(String(16), default="")  # chat | cli | console
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contact(Base):
    """An official who receives reminders for a department. Its addresses are ``ContactAddress`` rows, one
    per channel (a 公众号 openid, a WeCom userid); ``channel`` is the one it was registered with."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(8))  # mp | wecom
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | unreachable | removed
    status_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    bound_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # the current addresses, loaded with the contact (read-only: write ContactAddress rows)
    addresses: Mapped[list[ContactAddress]] = relationship(
        primaryjoin="and_(Contact.id == ContactAddress.contact_id, ContactAddress.removed_at.is_(None))",
        order_by="ContactAddress.id",
        lazy="selectin",
        viewonly=True,
    )

    def address(self, channel: str) -> str | None:
        """The contact's current address on ``channel`` (``mp``: openid, ``wecom``: userid), if it has one."""
        return next((a.address for a in self.addresses if a.channel == channel), None)


class ContactAddress(Base):
    """One (channel, address) of a contact. A current address (``removed_at`` empty) belongs to one contact
    only; removing a contact ends its addresses, so the same openid can be bound again later."""

    __tablename__ = "contact_addresses"
    __table_args__ = (
        Index(
            "uq_contact_addresses_current",
            "channel",
            "address",
            unique=True,
            sqlite_where=CURRENT_ADDRESS,
            postgresql_where=CURRENT_ADDRESS,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # mp | wecom
    address: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class BindingCode(Base):
    """A one-time code an operator hands to an official; only its SHA-256 is stored."""

    __tablename__ = "binding_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)


class BindingAttempt(Base):
    """One ``绑定`` attempt; failed ones within a window throttle guessing (per openid and overall)."""

    __tablename__ = "binding_attempts"
    __table_args__ = (Index("ix_binding_attempts_openid_at", "openid", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(128))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ReminderPlannerState(Base):
    """How far the planner has planned (local dates); days skipped by downtime become one catch-up digest."""

    __tablename__ = "reminder_planner_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    planned_through: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderMessage(Base):
    """One message to one contact carrying one or more deliveries (a digest); ``key`` is the client_msg_id
    and the ``dedup_key`` of the outbox row that sends it (attempts and errors are on that row)."""

    __tablename__ = "reminder_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    view_token: Mapped[str] = mapped_column(String(32), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # mp | wecom
    recipient: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending | sent | dead | skipped (replaced by a catch-up) | discarded
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ReminderDelivery(Base):
    """One planned reminder: task occurrence × contact × kind × local date (``task_id`` '' for a catch-up)."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint("task_id", "period", "contact_id", "kind", "on_date", name="uq_reminder_deliveries_key"),
        Index("ix_reminder_deliveries_due", "status", "send_after"),
        Index("ix_reminder_deliveries_task", "task_id", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(16))  # before-N | due | overdue | escalate | catchup
    on_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    send_after: Mapped[datetime] = mapped_column()
    # planned | batched | sent | skipped | cancelled | dead
    status: Mapped[str] = mapped_column(String(16), default="planned")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("reminder_messages.id"), nullable=True, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)
