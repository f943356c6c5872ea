"""Notices (お知らせ): notices, segments, per-resident states.

Revision ID: 0008_notices
Revises: 0007_government_ca
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0008_notices"
down_revision: str | None = "0007_government_ca"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        *tables.strings(sender=32, title=200),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("action_url", sa.String(length=500), nullable=True),
        sa.Column("published_at", tables.MOMENT, nullable=False),
        sa.Column("expires_at", tables.MOMENT, nullable=True),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("segment", sa.JSON(), nullable=True),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        tables.primary_key("notices"),
    )
    op.create_index(
        "ix_notices_resident_id_published_at", "notices", ["resident_id", "published_at"]
    )
    op.create_table(
        "notice_attachments",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        sa.Column("notice_id", tables.BIG_ID, nullable=False),
        *tables.attachment(name_length=120),
        tables.foreign_key("notice_attachments", "notice_id", "notices.id", ondelete="CASCADE"),
        tables.primary_key("notice_attachments"),
    )
    tables.create_indexes("notice_attachments", "notice_id")
    op.create_table(
        "notice_states",
        sa.Column("notice_id", tables.BIG_ID, nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.columns(tables.MOMENT, "read_at", "archived_at", nullable=True),
        tables.foreign_key("notice_states", "notice_id", "notices.id", ondelete="CASCADE"),
        tables.primary_key("notice_states", "notice_id", "resident_id"),
    )
    tables.create_indexes("notice_states", "resident_id")


def downgrade() -> None:
    op.drop_table("notice_states")
    op.drop_table("notice_attachments")
    op.drop_table("notices")
