"""Witnesses' cosignatures of the exchange log's tree heads.

Revision ID: 0023_cosignatures
Revises: 0022_corrections
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0023_cosignatures"
down_revision: str | None = "0022_corrections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exchange_log_cosignatures",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        *tables.strings(witness_key_id=64, witness=64),
        sa.Column("witnessed_at", sa.BigInteger(), nullable=False),
        sa.Column("cosignature", sa.Text(), nullable=False),
        sa.Column("received_at", tables.MOMENT, nullable=False),
        tables.primary_key("exchange_log_cosignatures", "tree_size", "witness_key_id"),
    )


def downgrade() -> None:
    op.drop_table("exchange_log_cosignatures")
