"""The question log of the knowledge base (no openids; a salted hash groups a user's follow-ups).

Revision ID: 0006_loops_question_log
Revises: 0005_loops_case_clocks
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_loops_question_log"
down_revision: str | Sequence[str] | None = "0005_loops_case_clocks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=True),
        sa.Column("follow_up", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_log")),
    )
    op.create_index(op.f("ix_question_log_asked_at"), "question_log", ["asked_at"], unique=False)
    op.create_index("ix_question_log_user_asked", "question_log", ["user_hash", "asked_at"], unique=False)
    op.create_index("ix_question_log_kind_asked", "question_log", ["kind", "asked_at"], unique=False)
    op.create_table(
        "question_triage",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("example", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_question_triage")),
    )


def downgrade() -> None:
    op.drop_table("question_triage")
    op.drop_index("ix_question_log_kind_asked", table_name="question_log")
    op.drop_index("ix_question_log_user_asked", table_name="question_log")
    op.drop_index(op.f("ix_question_log_asked_at"), table_name="question_log")
    op.drop_table("question_log")
