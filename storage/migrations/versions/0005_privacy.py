"""Privacy: public summaries, identity erasure, data requests, ended sessions, no location traces,
and an append-only audit log. Also joins the per-area branches into one head.

Revision ID: 0005_privacy
Revises: 0002_reports, 0003_reminders, 0004b_console_secret
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_privacy"
down_revision: str | Sequence[str] | None = ("0002_reports", "0003_reminders", "0004b_console_secret")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER staff_audit_log_no_update BEFORE UPDATE ON staff_audit_log "
    "BEGIN SELECT RAISE(ABORT, 'staff_audit_log is append-only'); END",
    "CREATE TRIGGER staff_audit_log_no_delete BEFORE DELETE ON staff_audit_log "
    "BEGIN SELECT RAISE(ABORT, 'staff_audit_log is append-only'); END",
)
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION staff_audit_log_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'staff_audit_log is append-only'; END; $$ LANGUAGE plpgsql"
)
_PG_TRIGGER = (
    "CREATE TRIGGER staff_audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON staff_audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION staff_audit_log_append_only()"
)


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN: no table rebuild (which would cascade-delete photos on SQLite).
    op.add_column("reports", sa.Column("public_summary", sa.Text(), nullable=False, server_default=""))
    op.add_column("reports", sa.Column("identity_erased_at", TS, nullable=True))
    with op.batch_alter_table("wechat_users") as batch:
        batch.drop_column("last_latitude")
        batch.drop_column("last_longitude")
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("handled_at", TS, nullable=True),
        sa.Column("handled_by", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index(op.f("ix_privacy_requests_openid"), "privacy_requests", ["openid"])
    op.create_index("ix_privacy_requests_status_created", "privacy_requests", ["status", "created_at"])
    op.create_table(
        "console_revoked_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("session_hash", name=op.f("pk_console_revoked_sessions")),
    )
    op.create_index(op.f("ix_console_revoked_sessions_expires_at"), "console_revoked_sessions", ["expires_at"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS staff_audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS staff_audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS staff_audit_log_append_only ON staff_audit_log")
        op.execute("DROP FUNCTION IF EXISTS staff_audit_log_append_only()")
    op.drop_table("console_revoked_sessions")
    op.drop_table("privacy_requests")
    with op.batch_alter_table("wechat_users") as batch:
        batch.add_column(sa.Column("last_latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("last_longitude", sa.Float(), nullable=True))
    op.drop_column("reports", "identity_erased_at")
    op.drop_column("reports", "public_summary")
