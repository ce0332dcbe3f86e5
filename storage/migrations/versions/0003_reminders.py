"""Reminders: tasks, their departments and status, contacts, binding codes, deliveries and messages.

Revision ID: 0003_reminders
Revises: 0001_core
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_reminders"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("reminders",)
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
NOT_REMOVED = sa.text("status != 'removed'")


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("citation", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("deliverable", sa.Text(), nullable=False),
        sa.Column("lead_department_id", sa.Integer(), nullable=False),
        sa.Column("recurrence", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("recur_month", sa.Integer(), nullable=True),
        sa.Column("recur_day", sa.Integer(), nullable=True),
        sa.Column("first_year", sa.Integer(), nullable=True),
        sa.Column("last_year", sa.Integer(), nullable=True),
        sa.Column("deadline_rule", sa.String(length=24), nullable=False),
        sa.Column("deadline_text", sa.String(length=64), nullable=False),
        sa.Column("deadline_basis", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_department_id"], ["departments.id"], name=op.f("fk_tasks_lead_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_table(
        "task_departments",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_task_departments_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_departments_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "department_id", name=op.f("pk_task_departments")),
    )
    op.create_index(op.f("ix_task_departments_department_id"), "task_departments", ["department_id"], unique=False)
    op.create_table(
        "task_status",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.Column("done_by", sa.String(length=128), nullable=False),
        sa.Column("done_via", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_task_status_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_status_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "department_id", "period", name=op.f("pk_task_status")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=True),
        sa.Column("wecom_userid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("bound_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("removed_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_contacts_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index(op.f("ix_contacts_department_id"), "contacts", ["department_id"], unique=False)
    op.create_index(
        "uq_contacts_openid_current",
        "contacts",
        ["openid"],
        unique=True,
        sqlite_where=NOT_REMOVED,
        postgresql_where=NOT_REMOVED,
    )
    op.create_index(
        "uq_contacts_wecom_userid_current",
        "contacts",
        ["wecom_userid"],
        unique=True,
        sqlite_where=NOT_REMOVED,
        postgresql_where=NOT_REMOVED,
    )
    op.create_table(
        "binding_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_binding_codes_contact_id_contacts")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_binding_codes_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_binding_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_binding_codes_code_hash")),
    )
    op.create_table(
        "binding_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_binding_attempts")),
    )
    op.create_index("ix_binding_attempts_openid_at", "binding_attempts", ["openid", "created_at"], unique=False)
    op.create_index(op.f("ix_binding_attempts_created_at"), "binding_attempts", ["created_at"], unique=False)
    op.create_table(
        "reminder_planner_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("planned_through", sa.Date(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reminder_planner_state")),
    )
    op.create_table(
        "reminder_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("view_token", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_until", TS, nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("acknowledged_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_reminder_messages_contact_id_contacts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_reminder_messages_key")),
        sa.UniqueConstraint("view_token", name=op.f("uq_reminder_messages_view_token")),
    )
    op.create_index(op.f("ix_reminder_messages_contact_id"), "reminder_messages", ["contact_id"], unique=False)
    op.create_index("ix_reminder_messages_due", "reminder_messages", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("send_after", TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("acknowledged_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_reminder_deliveries_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_reminder_deliveries_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["reminder_messages.id"], name=op.f("fk_reminder_deliveries_message_id_reminder_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_deliveries")),
        sa.UniqueConstraint("task_id", "period", "contact_id", "kind", "on_date", name="uq_reminder_deliveries_key"),
    )
    op.create_index(op.f("ix_reminder_deliveries_contact_id"), "reminder_deliveries", ["contact_id"], unique=False)
    op.create_index(op.f("ix_reminder_deliveries_message_id"), "reminder_deliveries", ["message_id"], unique=False)
    op.create_index("ix_reminder_deliveries_due", "reminder_deliveries", ["status", "send_after"], unique=False)
    op.create_index("ix_reminder_deliveries_task", "reminder_deliveries", ["task_id", "period"], unique=False)


def downgrade() -> None:
    op.drop_table("reminder_deliveries")
    op.drop_table("reminder_messages")
    op.drop_table("reminder_planner_state")
    op.drop_table("binding_attempts")
    op.drop_table("binding_codes")
    op.drop_index("uq_contacts_wecom_userid_current", table_name="contacts")
    op.drop_index("uq_contacts_openid_current", table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("task_status")
    op.drop_table("task_departments")
    op.drop_table("tasks")
