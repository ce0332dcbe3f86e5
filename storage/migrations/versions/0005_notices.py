"""Platform rules: replay guard for signed pushes, 1-minute event windows, subscription grants, PicUrl.

Revision ID: 0005_notices
Revises: 0006_ops_job_ticks
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_notices"
down_revision: str | Sequence[str] | None = "0006_ops_job_ticks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "push_nonces",
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("timestamp", "nonce", name=op.f("pk_push_nonces")),
    )
    op.create_index(op.f("ix_push_nonces_seen_at"), "push_nonces", ["seen_at"])
    op.create_table(
        "wechat_event_windows",
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("openid", name=op.f("pk_wechat_event_windows")),
    )
    op.create_table(
        "subscription_grants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("template_id", sa.String(length=128), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("scene", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_grants")),
    )
    op.create_index(op.f("ix_subscription_grants_openid"), "subscription_grants", ["openid"])
    with op.batch_alter_table("report_photos") as batch:
        batch.add_column(sa.Column("pic_url", sa.String(length=1024), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("report_photos") as batch:
        batch.drop_column("pic_url")
    op.drop_table("subscription_grants")
    op.drop_table("wechat_event_windows")
    op.drop_table("push_nonces")
