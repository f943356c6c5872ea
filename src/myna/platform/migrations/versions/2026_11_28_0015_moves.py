"""Moves: move-out notifications, move-in reservations, move-out certificate information.

Revision ID: 0015_moves
Revises: 0014_filing_api
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0015_moves"
down_revision: str | None = "0014_filing_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "moves",
        *tables.columns(
            sa.Integer(), "id", "resident_id", "move_out_application_id", "move_in_application_id"
        ),
        *tables.strings(from_municipality_code=6, to_municipality_code=6, new_address=200),
        *tables.columns(sa.Date(), "move_out_date", "move_in_date"),
        *tables.strings(scope=16, new_head_name=64, status=24),
        *tables.columns(tables.MOMENT, "certificate_sent_at", "completed_at", nullable=True),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        tables.foreign_key("moves", "move_in_application_id", "applications.id"),
        tables.foreign_key("moves", "move_out_application_id", "applications.id"),
        tables.primary_key("moves"),
        tables.unique("moves", "move_in_application_id"),
        tables.unique("moves", "move_out_application_id"),
    )
    tables.create_indexes("moves", "resident_id")
    op.create_index(
        "ix_moves_to_municipality", "moves", ["to_municipality_code", "status", "id"], unique=False
    )
    op.create_table(
        "move_members",
        *tables.columns(sa.Integer(), "id", "move_id", "resident_id", "position"),
        sa.Column("certificate", sa.JSON(), nullable=True),
        tables.foreign_key("move_members", "move_id", "moves.id", ondelete="CASCADE"),
        tables.primary_key("move_members"),
    )
    tables.create_indexes("move_members", "move_id", "resident_id")


def downgrade() -> None:
    tables.drop_indexes("move_members", "resident_id", "move_id")
    op.drop_table("move_members")
    op.drop_index("ix_moves_to_municipality", table_name="moves")
    tables.drop_indexes("moves", "resident_id")
    op.drop_table("moves")
