"""E-application drafts

Revision ID: 0011_applications
Revises: 0010_accounts
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0011_applications"
down_revision: str | None = "0010_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_drafts")),
        sa.UniqueConstraint(
            "resident_id",
            "municipality_code",
            "procedure_code",
            name=op.f("uq_application_drafts_resident_id"),
        ),
    )
    op.create_index(
        op.f("ix_application_drafts_resident_id"),
        "application_drafts",
        ["resident_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_application_drafts_resident_id"), table_name="application_drafts")
    op.drop_table("application_drafts")
