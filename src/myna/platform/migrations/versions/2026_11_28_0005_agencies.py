"""Agencies' replica stores (副本).

Revision ID: 0005_agencies
Revises: 0004_transparency
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0005_agencies"
down_revision: str | None = "0004_transparency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agency_records",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("agency_code", sa.String(length=32), nullable=False),
        sa.Column("link_code", sa.String(length=64), nullable=False),
        sa.Column("item_code", sa.String(length=48), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("updated_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_records")),
        sa.UniqueConstraint(
            "agency_code",
            "link_code",
            "item_code",
            "record_key",
            name=op.f("uq_agency_records_agency_code"),
        ),
    )


def downgrade() -> None:
    op.drop_table("agency_records")
