"""確定申告: the resident's returns, their filled fields with sources, their corrections.

Revision ID: 0026_tax
Revises: 0025_delivery (becomes 0025_delivery when the delivery branch is merged)
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0026_tax"
down_revision: str | None = "0025_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tax_returns",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        *tables.columns(sa.Integer(), "resident_id", "year"),
        *tables.strings(status=16),
        sa.Column("birth_date", sa.Date(), nullable=False),
        *tables.columns(tables.MOMENT, "created_at", "updated_at"),
        *tables.columns(tables.MOMENT, "gathered_at", "signed_at", "filed_at", nullable=True),
        tables.primary_key("tax_returns"),
        tables.unique("tax_returns", "resident_id", "year"),
    )
    op.create_table(
        "tax_return_fields",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        sa.Column("return_id", tables.BIG_ID, nullable=False),
        *tables.strings(section=32, group_key=64, item=32),
        sa.Column("value", sa.BigInteger(), nullable=False),
        *tables.strings(source_kind=16),
        *tables.strings(nullable=True, source_delivery_id=64, source_document_id=64),
        *tables.strings(source_name=200),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("gathered_value", sa.BigInteger(), nullable=False),
        *tables.columns(tables.MOMENT, "created_at", "updated_at"),
        tables.primary_key("tax_return_fields"),
        tables.foreign_key("tax_return_fields", "return_id", "tax_returns.id", ondelete="CASCADE"),
        tables.unique("tax_return_fields", "return_id", "section", "group_key", "item"),
    )
    op.create_table(
        "tax_return_corrections",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        sa.Column("field_id", tables.BIG_ID, nullable=False),
        *tables.columns(sa.BigInteger(), "old_value", "new_value"),
        sa.Column("corrected_by", sa.Integer(), nullable=False),
        sa.Column("corrected_at", tables.MOMENT, nullable=False),
        tables.primary_key("tax_return_corrections"),
        tables.foreign_key(
            "tax_return_corrections", "field_id", "tax_return_fields.id", ondelete="CASCADE"
        ),
    )
    tables.create_indexes("tax_return_corrections", "field_id")


def downgrade() -> None:
    tables.drop_indexes("tax_return_corrections", "field_id")
    op.drop_table("tax_return_corrections")
    op.drop_table("tax_return_fields")
    op.drop_table("tax_returns")
