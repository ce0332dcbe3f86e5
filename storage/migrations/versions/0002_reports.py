"""Violation reports: reports, their photos and history, pending locations.

Revision ID: 0002_reports
Revises: 0001_core
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_reports"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("reports",)
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=True),
        sa.Column("draft_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reported_object", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("location_source", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("county", sa.String(length=32), nullable=True),
        sa.Column("county_method", sa.String(length=24), nullable=False),
        sa.Column("needs_manual_routing", sa.Boolean(), nullable=False),
        sa.Column("routing_note", sa.Text(), nullable=False),
        sa.Column("duplicate_of", sa.String(length=32), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("public_reply", sa.Text(), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=False),
        sa.Column("competent_authority", sa.String(length=128), nullable=False),
        sa.Column("reporter_openid", sa.String(length=128), nullable=False),
        sa.Column("real_name", sa.Boolean(), nullable=False),
        sa.Column("reporter_name", sa.String(length=64), nullable=False),
        sa.Column("reporter_phone", sa.String(length=32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("case_no", name=op.f("uq_reports_case_no")),
        sa.UniqueConstraint("draft_id", name=op.f("uq_reports_draft_id")),
    )
    op.create_index("ix_reports_status_created", "reports", ["status", "created_at"])
    op.create_index("ix_reports_category_created", "reports", ["category", "created_at"])
    op.create_index("ix_reports_reporter_created", "reports", ["reporter_openid", "created_at"])
    op.create_index(op.f("ix_reports_department"), "reports", ["department"])
    op.create_index(op.f("ix_reports_county"), "reports", ["county"])
    op.create_index(op.f("ix_reports_duplicate_of"), "reports", ["duplicate_of"])
    op.create_index(op.f("ix_reports_created_at"), "reports", ["created_at"])

    op.create_table(
        "report_photos",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("draft_id", sa.String(length=64), nullable=True),
        sa.Column("reporter_openid", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_until", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("original_size", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("stored_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_photos_report_id_reports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_photos")),
    )
    op.create_index("ix_report_photos_due", "report_photos", ["status", "next_attempt_at"])
    op.create_index("ix_report_photos_owner", "report_photos", ["reporter_openid", "report_id"])
    op.create_index(op.f("ix_report_photos_draft_id"), "report_photos", ["draft_id"])

    op.create_table(
        "report_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("public_reply", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_events_report_id_reports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_events")),
    )
    op.create_index(op.f("ix_report_events_report_id"), "report_events", ["report_id"])

    op.create_table(
        "report_pending_locations",
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("openid", name=op.f("pk_report_pending_locations")),
    )


def downgrade() -> None:
    op.drop_table("report_pending_locations")
    op.drop_index(op.f("ix_report_events_report_id"), table_name="report_events")
    op.drop_table("report_events")
    op.drop_index(op.f("ix_report_photos_draft_id"), table_name="report_photos")
    op.drop_index("ix_report_photos_owner", table_name="report_photos")
    op.drop_index("ix_report_photos_due", table_name="report_photos")
    op.drop_table("report_photos")
    op.drop_index(op.f("ix_reports_created_at"), table_name="reports")
    op.drop_index(op.f("ix_reports_duplicate_of"), table_name="reports")
    op.drop_index(op.f("ix_reports_county"), table_name="reports")
    op.drop_index(op.f("ix_reports_department"), table_name="reports")
    op.drop_index("ix_reports_reporter_created", table_name="reports")
    op.drop_index("ix_reports_category_created", table_name="reports")
    op.drop_index("ix_reports_status_created", table_name="reports")
    op.drop_table("reports")
