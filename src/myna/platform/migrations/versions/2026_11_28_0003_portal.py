"""Portal: sessions, login challenges, authentication audit.

Revision ID: 0003_portal
Revises: 0002_jpki
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0003_portal"
down_revision: str | None = "0002_jpki"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tables.create_portal_sessions()
    op.create_table(
        "login_challenges",
        *tables.strings(id=32, nonce=64, origin=255, session_digest=64, status=16),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("certificate_serial", sa.String(length=64), nullable=True),
        *tables.columns(tables.MOMENT, "certificate_not_after", "answered_at", nullable=True),
        tables.primary_key("login_challenges"),
    )
    tables.create_indexes("login_challenges", "expires_at")
    op.create_table(
        "auth_events",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        sa.Column("occurred_at", tables.MOMENT, nullable=False),
        *tables.strings(event=32, outcome=32),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        *tables.strings(certificate_serial=64, challenge_id=32, client_ip=64, nullable=True),
        tables.primary_key("auth_events"),
    )
    op.create_index(
        "ix_auth_events_resident_at", "auth_events", ["resident_id", "occurred_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_auth_events_resident_at", table_name="auth_events")
    op.drop_table("auth_events")
    tables.drop_indexes("login_challenges", "expires_at")
    op.drop_table("login_challenges")
    tables.drop_indexes("portal_sessions", "resident_id")
    op.drop_table("portal_sessions")
