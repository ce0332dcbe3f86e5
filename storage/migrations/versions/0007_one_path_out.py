"""One path out: reminder digests are sent as outbox rows (purpose ``reminder_digest``, keyed by the
digest's key) by the one outbox worker; the reminder messages lose their own claim and retry columns.

Digests not yet sent (pending, sending or dead) become outbox rows with their attempts, error and next
attempt, so nothing waiting is lost on upgrade; a digest claimed by a worker of the old engine is pending
again (its key is the message's client_msg_id, so WeChat drops a second copy).

Revision ID: 0007_one_path_out
Revises: 0005_notices
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_one_path_out"
down_revision: str | Sequence[str] | None = "0005_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
PURPOSE = "reminder_digest"

messages = sa.table(
    "reminder_messages",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("channel", sa.String),
    sa.column("recipient", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", TS),
    sa.column("last_error", sa.Text),
    sa.column("created_at", TS),
)
outbox = sa.table(
    "outbox",
    sa.column("channel", sa.String),
    sa.column("kind", sa.String),
    sa.column("recipient", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("dedup_key", sa.String),
    sa.column("purpose", sa.String),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", TS),
    sa.column("claimed_until", TS),
    sa.column("last_error", sa.Text),
    sa.column("created_at", TS),
)


def upgrade() -> None:
    bind = op.get_bind()
    queued = set(bind.scalars(sa.select(outbox.c.dedup_key).where(outbox.c.purpose == PURPOSE)).all())
    waiting = bind.execute(
        sa.select(messages).where(messages.c.status.in_(("pending", "sending", "dead"))).order_by(messages.c.id)
    ).all()
    rows = []
    for m in waiting:
        if m.key in queued:
            continue
        payload = {k: v for k, v in dict(m.payload or {}).items() if k != "detail"}
        rows.append(
            {
                "channel": m.channel,
                "kind": "textcard" if m.channel == "wecom" else "template",
                "recipient": m.recipient,
                "payload": payload,
                "dedup_key": m.key,
                "purpose": PURPOSE,
                "status": "dead" if m.status == "dead" else "pending",
                "attempts": m.attempts,
                "next_attempt_at": m.next_attempt_at,
                "claimed_until": None,
                "last_error": m.last_error or "",
                "created_at": m.created_at,
            }
        )
    if rows:
        op.bulk_insert(outbox, rows)
    op.execute(messages.update().where(messages.c.status == "sending").values(status="pending"))
    op.drop_index("ix_reminder_messages_due", table_name="reminder_messages")
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 too): a batch copy of the table would break the reminder
    # deliveries' foreign keys to it on SQLite.
    for column in ("attempts", "next_attempt_at", "claimed_until", "claim_token", "last_error"):
        op.execute(f"ALTER TABLE reminder_messages DROP COLUMN {column}")


def downgrade() -> None:
    with op.batch_alter_table("reminder_messages") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", TS, nullable=True))
        batch.add_column(sa.Column("claimed_until", TS, nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    for row in bind.execute(
        sa.select(outbox.c.dedup_key, outbox.c.status, outbox.c.attempts, outbox.c.next_attempt_at, outbox.c.last_error)
        .where(outbox.c.purpose == PURPOSE)
    ).all():
        mine = messages.c.key == row.dedup_key
        bind.execute(
            messages.update().where(mine).values(
                attempts=row.attempts, next_attempt_at=row.next_attempt_at, last_error=row.last_error
            )
        )
        if row.status in ("sent", "dead"):  # (a digest still to send stays pending, for the old engine)
            bind.execute(messages.update().where(mine, messages.c.status == "pending").values(status=row.status))
    unset = messages.c.next_attempt_at.is_(None)
    op.execute(messages.update().where(unset).values(next_attempt_at=messages.c.created_at))
    op.execute(outbox.delete().where(outbox.c.purpose == PURPOSE, outbox.c.status.in_(("pending", "dead", "waiting"))))
    op.create_index("ix_reminder_messages_due", "reminder_messages", ["status", "next_attempt_at"], unique=False)
