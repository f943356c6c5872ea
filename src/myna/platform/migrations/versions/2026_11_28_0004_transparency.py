"""Exchange log (やりとり履歴) as a transparency log: entries, tree nodes, signed tree heads.

Revision ID: 0004_transparency
Revises: 0003_portal
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_log_state")),
    )
    # The one row every append locks: the empty tree.
    op.bulk_insert(state, [{"id": 1, "tree_size": 0, "frontier": b""}])
    op.create_table(
        "exchange_log_entries",
        sa.Column(
            "leaf_index",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("occurred_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("requester", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("procedure", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_exchange_log_entries")),
    )
    op.create_index(
        "ix_exchange_log_entries_subject_time",
        "exchange_log_entries",
        ["subject", "occurred_at", "leaf_index"],
        unique=False,
    )
    for column in ("requester", "provider", "item"):
        op.create_index(
            op.f(f"ix_exchange_log_entries_{column}"),
            "exchange_log_entries",
            [column],
            unique=False,
        )
    op.create_table(
        "exchange_log_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index", name=op.f("pk_exchange_log_nodes")),
    )
    op.create_table(
        "exchange_log_tree_heads",
        sa.Column(
            "tree_size",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("published_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_exchange_log_tree_heads")),
    )


def downgrade() -> None:
    op.drop_table("exchange_log_tree_heads")
    op.drop_table("exchange_log_nodes")
    for column in ("item", "provider", "requester"):
        op.drop_index(op.f(f"ix_exchange_log_entries_{column}"), table_name="exchange_log_entries")
    op.drop_index("ix_exchange_log_entries_subject_time", table_name="exchange_log_entries")
    op.drop_table("exchange_log_entries")
    op.drop_table("exchange_log_state")
