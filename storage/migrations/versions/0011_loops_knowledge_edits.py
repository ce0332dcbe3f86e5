"""Knowledge edits from the console (drafts, published changes) and the knowledge version number.

Revision ID: 0011_loops_knowledge_edits
Revises: 0010_notice_deliveries
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_loops_knowledge_edits"
down_revision: str | Sequence[str] | None = "0010_notice_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "knowledge_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("paraphrases", sa.Text(), nullable=False),
        sa.Column("file", sa.String(length=64), nullable=False),
        sa.Column("group_key", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("gate", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_changes")),
    )
    op.create_index(op.f("ix_knowledge_changes_status"), "knowledge_changes", ["status"])
    op.create_table(
        "knowledge_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_knowledge_versions")),
    )


def downgrade() -> None:
    op.drop_table("knowledge_versions")
    op.drop_index(op.f("ix_knowledge_changes_status"), table_name="knowledge_changes")
    op.drop_table("knowledge_changes")
