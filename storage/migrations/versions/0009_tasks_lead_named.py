"""Tasks: whether the plan itself names the lead unit (“X牵头”) or the units share it by their duties.

Revision ID: 0009_tasks_lead_named
Revises: 0008_contact_addresses
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_tasks_lead_named"
down_revision: str | Sequence[str] | None = "0008_contact_addresses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the clauses whose text says “市生态环境局牵头” / “生态环境部门牵头” (tasks.toml marks them lead_named)
NAMED = ("T211", "T231", "T31", "T33", "T36")


def upgrade() -> None:
    op.add_column("tasks", sa.Column("lead_named", sa.Boolean(), nullable=False, server_default=sa.false()))
    tasks = sa.table("tasks", sa.column("id", sa.String), sa.column("lead_named", sa.Boolean))
    op.execute(tasks.update().where(tasks.c.id.in_(NAMED)).values(lead_named=True))


def downgrade() -> None:
    op.drop_column("tasks", "lead_named")  # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): tasks has dependants
