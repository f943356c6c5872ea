"""Portal: sessions, login challenges, authentication audit.

Revision ID: 0003_portal
Revises: 0002_jpki
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0003_portal"
down_revision: str | None = "0002_jpki"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("certificate_serial", sa.String(length=64), nullable=True),
        sa.Column("certificate_not_after", myna.platform.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("authenticated_at", myna.platform.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_portal_sessions")),
    )
    op.create_index(
        op.f("ix_portal_sessions_resident_id"), "portal_sessions", ["resident_id"], unique=False
    )
    op.create_table(
        "login_challenges",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("session_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("certificate_serial", sa.String(length=64), nullable=True),
        sa.Column("certificate_not_after", myna.platform.db.UTCDateTime(), nullable=True),
        sa.Column("answered_at", myna.platform.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_challenges")),
    )
    op.create_index(
        op.f("ix_login_challenges_expires_at"), "login_challenges", ["expires_at"], unique=False
    )
    op.create_table(
        "auth_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("certificate_serial", sa.String(length=64), nullable=True),
        sa.Column("challenge_id", sa.String(length=32), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_events")),
    )
    op.create_index(
        "ix_auth_events_resident_at", "auth_events", ["resident_id", "occurred_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_auth_events_resident_at", table_name="auth_events")
    op.drop_table("auth_events")
    op.drop_index(op.f("ix_login_challenges_expires_at"), table_name="login_challenges")
    op.drop_table("login_challenges")
    op.drop_index(op.f("ix_portal_sessions_resident_id"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
