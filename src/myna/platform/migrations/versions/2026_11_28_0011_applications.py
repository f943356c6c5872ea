"""E-application drafts

Revision ID: 0011_applications
Revises: 0010_accounts
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0011_applications"
down_revision: str | None = "0010_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application_drafts",
        *tables.columns(sa.Integer(), "id", "resident_id"),
        *tables.strings(municipality_code=6, procedure_code=64),
        sa.Column("data", sa.JSON(), nullable=False),
        *tables.columns(tables.MOMENT, "created_at", "updated_at"),
        tables.primary_key("application_drafts"),
        tables.unique("application_drafts", "resident_id", "municipality_code", "procedure_code"),
    )
    tables.create_indexes("application_drafts", "resident_id")


def downgrade() -> None:
    tables.drop_indexes("application_drafts", "resident_id")
    op.drop_table("application_drafts")
