"""Moves: move-out notifications, move-in reservations, move-out certificate information.

Revision ID: 0015_moves
Revises: 0014_filing_api
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0015_moves"
down_revision: str | None = "0014_filing_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("move_out_application_id", sa.Integer(), nullable=False),
        sa.Column("move_in_application_id", sa.Integer(), nullable=False),
        sa.Column("from_municipality_code", sa.String(length=6), nullable=False),
        sa.Column("to_municipality_code", sa.String(length=6), nullable=False),
        sa.Column("new_address", sa.String(length=200), nullable=False),
        sa.Column("move_out_date", sa.Date(), nullable=False),
        sa.Column("move_in_date", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("new_head_name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column(
            "certificate_sent_at", myna.platform.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("completed_at", myna.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", myna.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["move_in_application_id"],
            ["applications.id"],
            name=op.f("fk_moves_move_in_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["move_out_application_id"],
            ["applications.id"],
            name=op.f("fk_moves_move_out_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moves")),
        sa.UniqueConstraint("move_in_application_id", name=op.f("uq_moves_move_in_application_id")),
        sa.UniqueConstraint(
            "move_out_application_id", name=op.f("uq_moves_move_out_application_id")
        ),
    )
    with op.batch_alter_table("moves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_moves_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index(
            "ix_moves_to_municipality", ["to_municipality_code", "status", "id"], unique=False
        )

    op.create_table(
        "move_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("move_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("certificate", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["move_id"],
            ["moves.id"],
            name=op.f("fk_move_members_move_id_moves"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_move_members")),
    )
    with op.batch_alter_table("move_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_move_members_move_id"), ["move_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_move_members_resident_id"), ["resident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("move_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_move_members_resident_id"))
        batch_op.drop_index(batch_op.f("ix_move_members_move_id"))

    op.drop_table("move_members")
    with op.batch_alter_table("moves", schema=None) as batch_op:
        batch_op.drop_index("ix_moves_to_municipality")
        batch_op.drop_index(batch_op.f("ix_moves_resident_id"))

    op.drop_table("moves")
