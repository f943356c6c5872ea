"""Notices (お知らせ): notices, segments, per-resident states.

Revision ID: 0008_notices
Revises: 0007_government_ca
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0008_notices"
down_revision: str | None = "0007_government_ca"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("action_url", sa.String(length=500), nullable=True),
        sa.Column("published_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", myna.platform.db.UTCDateTime(), nullable=True),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("segment", sa.JSON(), nullable=True),
        sa.Column("created_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index(
        "ix_notices_resident_id_published_at", "notices", ["resident_id", "published_at"]
    )
    op.create_table(
        "notice_attachments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("notice_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_attachments_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_attachments")),
    )
    op.create_index(op.f("ix_notice_attachments_notice_id"), "notice_attachments", ["notice_id"])
    op.create_table(
        "notice_states",
        sa.Column("notice_id", _ID, nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("read_at", myna.platform.db.UTCDateTime(), nullable=True),
        sa.Column("archived_at", myna.platform.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_states_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notice_id", "resident_id", name=op.f("pk_notice_states")),
    )
    op.create_index(op.f("ix_notice_states_resident_id"), "notice_states", ["resident_id"])


def downgrade() -> None:
    op.drop_table("notice_states")
    op.drop_table("notice_attachments")
    op.drop_table("notices")
