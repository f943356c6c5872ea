"""Agencies' replica stores (副本).

Revision ID: 0005_agencies
Revises: 0004_transparency
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0005_agencies"
down_revision: str | None = "0004_transparency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agency_records",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        *tables.strings(agency_code=32, link_code=64, item_code=48, record_key=64),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("updated_at", tables.MOMENT, nullable=False),
        tables.primary_key("agency_records"),
        tables.unique("agency_records", "agency_code", "link_code", "item_code", "record_key"),
    )


def downgrade() -> None:
    op.drop_table("agency_records")
