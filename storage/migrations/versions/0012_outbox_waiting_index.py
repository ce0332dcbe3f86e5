"""Outbox: a partial index on the recipient of waiting rows (each user message wakes that user's rows).

Revision ID: 0012_outbox_waiting_index
Revises: 0011_loops_knowledge_edits
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_outbox_waiting_index"
down_revision: str | Sequence[str] | None = "0011_loops_knowledge_edits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = sa.text("status = 'waiting'")


def upgrade() -> None:
    op.create_index("ix_outbox_waiting_recipient", "outbox", ["recipient"], sqlite_where=WAITING,
                    postgresql_where=WAITING)


def downgrade() -> None:
    op.drop_index("ix_outbox_waiting_recipient", table_name="outbox")
