"""Exchange log (やりとり履歴) as a transparency log: entries, tree nodes, signed tree heads.

Revision ID: 0004_transparency
Revises: 0003_portal
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0004_transparency"
down_revision: str | None = "0003_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    state = op.create_table(
        "exchange_log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        tables.primary_key("exchange_log_state"),
    )
    # The one row every append locks: the empty tree.
    op.bulk_insert(state, [{"id": 1, "tree_size": 0, "frontier": b""}])
    op.create_table(
        "exchange_log_entries",
        sa.Column("leaf_index", tables.BIG_ID, autoincrement=False, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("occurred_at", tables.MOMENT, nullable=False),
        *tables.strings(requester=64, provider=64, procedure=64, item=64, subject=64),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        *tables.strings(purpose=200, detail=200, nullable=True),
        tables.primary_key("exchange_log_entries", "leaf_index"),
    )
    op.create_index(
        "ix_exchange_log_entries_subject_time",
        "exchange_log_entries",
        ["subject", "occurred_at", "leaf_index"],
        unique=False,
    )
    tables.create_indexes("exchange_log_entries", "requester", "provider", "item")
    op.create_table(
        "exchange_log_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        tables.primary_key("exchange_log_nodes", "level", "node_index"),
    )
    op.create_table(
        "exchange_log_tree_heads",
        sa.Column("tree_size", tables.BIG_ID, autoincrement=False, nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("published_at", tables.MOMENT, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        tables.primary_key("exchange_log_tree_heads", "tree_size"),
    )


def downgrade() -> None:
    op.drop_table("exchange_log_tree_heads")
    op.drop_table("exchange_log_nodes")
    tables.drop_indexes("exchange_log_entries", "item", "provider", "requester")
    op.drop_index("ix_exchange_log_entries_subject_time", table_name="exchange_log_entries")
    op.drop_table("exchange_log_entries")
    op.drop_table("exchange_log_state")
