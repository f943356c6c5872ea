"""Back office: municipal staff accounts and their sessions.

Revision ID: 0012_back_office
Revises: 0011_applications
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0012_back_office"
down_revision: str | None = "0011_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "office_staff",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *tables.strings(municipality_code=6, login_id=64, display_name=100, role=16),
        *tables.strings(password_hash=255, totp_secret=255),
        *tables.columns(sa.Integer(), "totp_last_step", "failed_attempts"),
        sa.Column("locked_until", tables.MOMENT, nullable=True),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        tables.primary_key("office_staff"),
        sa.UniqueConstraint("login_id", name="uq_office_staff_login_id"),
    )
    tables.create_indexes("office_staff", "municipality_code")
    tables.create_office_sessions()


def downgrade() -> None:
    tables.drop_indexes("office_sessions", "staff_id")
    op.drop_table("office_sessions")
    tables.drop_indexes("office_staff", "municipality_code")
    op.drop_table("office_staff")
