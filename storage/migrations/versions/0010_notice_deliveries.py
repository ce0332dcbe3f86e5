"""Reporter notices by route: one delivery record per attempt, and the case pages' unguessable paths.

Revision ID: 0010_notice_deliveries
Revises: 0009_tasks_lead_named
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_notice_deliveries"
down_revision: str | Sequence[str] | None = "0009_tasks_lead_named"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("notice_key", sa.String(length=255), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("attempted_at", TS, nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("msg_id", sa.String(length=64), nullable=False),
        sa.Column("settled_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_deliveries")),
    )
    op.create_index(op.f("ix_notice_deliveries_outbox_id"), "notice_deliveries", ["outbox_id"])
    op.create_index(op.f("ix_notice_deliveries_notice_key"), "notice_deliveries", ["notice_key"])
    op.create_index(op.f("ix_notice_deliveries_msg_id"), "notice_deliveries", ["msg_id"])
    op.create_table(
        "case_pages",
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("case_no", name=op.f("pk_case_pages")),
        sa.UniqueConstraint("token", name=op.f("uq_case_pages_token")),
    )


def downgrade() -> None:
    op.drop_table("case_pages")
    op.drop_table("notice_deliveries")
