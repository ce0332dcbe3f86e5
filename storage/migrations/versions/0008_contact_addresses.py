"""Contacts as (channel, address) pairs: a contact's 公众号 openid and WeCom userid move from columns of
``contacts`` into ``contact_addresses`` rows. A current address (``removed_at`` empty) belongs to one contact;
a removed contact's addresses end when it was removed, so the same openid can be bound again.

Revision ID: 0008_contact_addresses
Revises: 0007_one_path_out
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_contact_addresses"
down_revision: str | Sequence[str] | None = "0007_one_path_out"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
CURRENT = sa.text("removed_at IS NULL")
NOT_REMOVED = sa.text("status != 'removed'")
COLUMNS = (("mp", "openid"), ("wecom", "wecom_userid"))

contacts = sa.table(
    "contacts",
    sa.column("id", sa.Integer),
    sa.column("openid", sa.String),
    sa.column("wecom_userid", sa.String),
    sa.column("status", sa.String),
    sa.column("created_at", TS),
    sa.column("removed_at", TS),
    sa.column("updated_at", TS),
)
addresses = sa.table(
    "contact_addresses",
    sa.column("contact_id", sa.Integer),
    sa.column("channel", sa.String),
    sa.column("address", sa.String),
    sa.column("created_at", TS),
    sa.column("removed_at", TS),
)


def upgrade() -> None:
    op.create_table(
        "contact_addresses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("removed_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_addresses_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_addresses")),
    )
    op.create_index(op.f("ix_contact_addresses_contact_id"), "contact_addresses", ["contact_id"], unique=False)
    op.create_index(
        "uq_contact_addresses_current",
        "contact_addresses",
        ["channel", "address"],
        unique=True,
        sqlite_where=CURRENT,
        postgresql_where=CURRENT,
    )
    bind = op.get_bind()
    rows = []
    for c in bind.execute(sa.select(contacts).order_by(contacts.c.id)).all():
        ended = (c.removed_at or c.updated_at or c.created_at) if c.status == "removed" else None
        for channel, column in COLUMNS:
            value = getattr(c, column)
            if value:
                rows.append(
                    {"contact_id": c.id, "channel": channel, "address": value, "created_at": c.created_at,
                     "removed_at": ended}
                )  # fmt: skip
    if rows:
        op.bulk_insert(addresses, rows)
    op.drop_index("uq_contacts_openid_current", table_name="contacts")
    op.drop_index("uq_contacts_wecom_userid_current", table_name="contacts")
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 too): a batch copy of the table would break the foreign keys
    # of deliveries, codes and addresses to it on SQLite.
    for column in ("openid", "wecom_userid"):
        op.execute(f"ALTER TABLE contacts DROP COLUMN {column}")


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("openid", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("wecom_userid", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    current_last = (addresses.c.contact_id, addresses.c.removed_at.is_(None), addresses.c.created_at)
    latest = sa.select(addresses).order_by(*current_last)
    for a in bind.execute(latest).all():  # the current address last, so it wins
        column = dict(COLUMNS).get(a.channel)
        if column:
            bind.execute(contacts.update().where(contacts.c.id == a.contact_id).values({column: a.address}))
    op.drop_table("contact_addresses")
    for column in ("openid", "wecom_userid"):
        op.create_index(
            f"uq_contacts_{column}_current", "contacts", [column], unique=True,
            sqlite_where=NOT_REMOVED, postgresql_where=NOT_REMOVED,
        )  # fmt: skip
