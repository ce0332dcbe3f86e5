"""Staff console: staff accounts, log-in throttling, audit log.

Revision ID: 0004_console
Revises: 0001_core
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_console"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("console",)
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("password_changed_at", TS, nullable=False),
        sa.Column("last_login_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_staff_accounts_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_accounts_username")),
    )
    op.create_index(op.f("ix_staff_accounts_department_id"), "staff_accounts", ["department_id"])
    op.create_table(
        "staff_login_throttles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", TS, nullable=True),
        sa.Column("locked_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_staff_login_throttles")),
    )
    op.create_table(
        "staff_audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit_log")),
    )
    op.create_index(op.f("ix_staff_audit_log_at"), "staff_audit_log", ["at"])
    op.create_index(op.f("ix_staff_audit_log_action"), "staff_audit_log", ["action"])
    op.create_index("ix_staff_audit_log_case", "staff_audit_log", ["case_no", "at"])


def downgrade() -> None:
    op.drop_index("ix_staff_audit_log_case", table_name="staff_audit_log")
    op.drop_index(op.f("ix_staff_audit_log_action"), table_name="staff_audit_log")
    op.drop_index(op.f("ix_staff_audit_log_at"), table_name="staff_audit_log")
    op.drop_table("staff_audit_log")
    op.drop_table("staff_login_throttles")
    op.drop_index(op.f("ix_staff_accounts_department_id"), table_name="staff_accounts")
    op.drop_table("staff_accounts")
