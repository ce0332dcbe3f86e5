"""Case clocks: extensions of a report's completion deadline.

Revision ID: 0005_loops_case_clocks
Revises: 0005_privacy
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_loops_case_clocks"
down_revision: str | Sequence[str] | None = "0005_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_extensions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_extensions_report_id_reports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_extensions")),
    )
    op.create_index(op.f("ix_report_extensions_report_id"), "report_extensions", ["report_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_report_extensions_report_id"), table_name="report_extensions")
    op.drop_table("report_extensions")
