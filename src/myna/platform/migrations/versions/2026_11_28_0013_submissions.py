"""Submissions: draft attachments, signing requests, signed applications and their history.

Revision ID: 0013_submissions
Revises: 0012_back_office
Create Date: 2026-11-28 03:12:15.573882
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0013_submissions"
down_revision: str | None = "0012_back_office"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application_draft_attachments",
        *tables.columns(sa.Integer(), "id", "resident_id"),
        *tables.strings(municipality_code=6, procedure_code=64),
        *tables.attachment(name_length=200),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        tables.primary_key("application_draft_attachments"),
    )
    tables.create_indexes("application_draft_attachments", "resident_id")
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        *tables.strings(receipt_number=32, signing_request_id=64),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(municipality_code=6, procedure_code=64, status=24),
        sa.Column("data", sa.JSON(), nullable=False),
        *tables.columns(sa.LargeBinary(), "content", "signature"),
        *tables.strings(certificate_serial=40, signer_name=200),
        *tables.columns(tables.MOMENT, "signed_at", "submitted_at", "updated_at"),
        tables.primary_key("applications"),
        tables.unique("applications", "receipt_number"),
        tables.unique("applications", "signing_request_id"),
    )
    op.create_index(
        "ix_applications_municipality_status",
        "applications",
        ["municipality_code", "status", "id"],
        unique=False,
    )
    tables.create_indexes("applications", "resident_id")
    op.create_table(
        "signing_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(submission_key=64, municipality_code=6, procedure_code=64),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        tables.primary_key("signing_requests"),
        tables.unique("signing_requests", "resident_id", "submission_key"),
    )
    tables.create_indexes("signing_requests", "resident_id")
    op.create_table(
        "application_attachments",
        *tables.columns(sa.Integer(), "id", "application_id"),
        *tables.attachment(name_length=200),
        tables.foreign_key(
            "application_attachments", "application_id", "applications.id", ondelete="CASCADE"
        ),
        tables.primary_key("application_attachments"),
    )
    tables.create_indexes("application_attachments", "application_id")
    op.create_table(
        "application_events",
        *tables.columns(sa.Integer(), "id", "application_id"),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("visible_to_resident", sa.Boolean(), nullable=False),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        tables.foreign_key(
            "application_events", "application_id", "applications.id", ondelete="CASCADE"
        ),
        tables.primary_key("application_events"),
    )
    tables.create_indexes("application_events", "application_id")


def downgrade() -> None:
    tables.drop_indexes("application_events", "application_id")
    op.drop_table("application_events")
    tables.drop_indexes("application_attachments", "application_id")
    op.drop_table("application_attachments")
    tables.drop_indexes("signing_requests", "resident_id")
    op.drop_table("signing_requests")
    tables.drop_indexes("applications", "resident_id")
    op.drop_index("ix_applications_municipality_status", table_name="applications")
    op.drop_table("applications")
    tables.drop_indexes("application_draft_attachments", "resident_id")
    op.drop_table("application_draft_attachments")
