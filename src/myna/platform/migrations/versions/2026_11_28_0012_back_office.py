"""Back office: municipal staff accounts and their sessions.

Revision ID: 0012_back_office
Revises: 0011_applications
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0012_back_office"
down_revision: str | None = "0011_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "office_staff",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("login_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret", sa.String(length=255), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", myna.platform.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_staff")),
        sa.UniqueConstraint("login_id", name="uq_office_staff_login_id"),
    )
    op.create_index(
        op.f("ix_office_staff_municipality_code"),
        "office_staff",
        ["municipality_code"],
        unique=False,
    )
    op.create_table(
        "office_sessions",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("mfa_passed", sa.Boolean(), nullable=False),
        sa.Column("created_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_office_sessions")),
    )
    op.create_index(
        op.f("ix_office_sessions_staff_id"), "office_sessions", ["staff_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_office_sessions_staff_id"), table_name="office_sessions")
    op.drop_table("office_sessions")
    op.drop_index(op.f("ix_office_staff_municipality_code"), table_name="office_staff")
    op.drop_table("office_staff")
