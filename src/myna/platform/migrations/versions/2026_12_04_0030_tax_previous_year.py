"""確定申告: the return of the year before, read from the National Tax Agency to compare.

Revision ID: 0030_tax_previous_year
Revises: 0029_delivery_handovers
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0030_tax_previous_year"
down_revision: str | None = "0029_delivery_handovers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tax_return_previous",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        sa.Column("return_id", tables.BIG_ID, nullable=False),
        sa.Column("income_year", sa.Integer(), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        *tables.columns(
            sa.BigInteger(), "total_income", "total_tax", "due", "refund", nullable=True
        ),
        *tables.strings(nullable=True, receipt_number=32),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("read_at", tables.MOMENT, nullable=False),
        tables.primary_key("tax_return_previous"),
        tables.foreign_key(
            "tax_return_previous", "return_id", "tax_returns.id", ondelete="CASCADE"
        ),
        tables.unique("tax_return_previous", "return_id"),
    )


def downgrade() -> None:
    op.drop_table("tax_return_previous")
