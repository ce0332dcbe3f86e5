"""Drop two indexes no query reads that every push wrote: processed_messages.openid (rows are found by
dedup key and expire by created_at) and question_log (kind, asked_at) (the review and the figures select
by asked_at, which has its own index).

Revision ID: 0013_reply_path_indexes
Revises: 0012_outbox_waiting_index
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_reply_path_indexes"
down_revision: str | Sequence[str] | None = "0012_outbox_waiting_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_processed_messages_openid", table_name="processed_messages")
    op.drop_index("ix_question_log_kind_asked", table_name="question_log")


def downgrade() -> None:
    op.create_index("ix_question_log_kind_asked", "question_log", ["kind", "asked_at"], unique=False)
    op.create_index("ix_processed_messages_openid", "processed_messages", ["openid"], unique=False)
