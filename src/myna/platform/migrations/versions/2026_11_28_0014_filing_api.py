"""Municipality filing API: API clients and access tokens.

Revision ID: 0014_filing_api
Revises: 0013_submissions
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0014_filing_api"
down_revision: str | None = "0013_submissions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "municipality_api_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", myna.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_municipality_api_clients")),
    )
    with op.batch_alter_table("municipality_api_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_municipality_api_clients_municipality_code"),
            ["municipality_code"],
            unique=False,
        )

    op.create_table(
        "municipality_api_assertions",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", myna.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_municipality_api_assertions")),
    )
    with op.batch_alter_table("municipality_api_assertions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_municipality_api_assertions_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "municipality_api_tokens",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("created_at", myna.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", myna.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_municipality_api_tokens")),
    )
    with op.batch_alter_table("municipality_api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_municipality_api_tokens_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_municipality_api_tokens_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("municipality_api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_municipality_api_tokens_expires_at"))
        batch_op.drop_index(batch_op.f("ix_municipality_api_tokens_client_id"))

    op.drop_table("municipality_api_tokens")
    with op.batch_alter_table("municipality_api_assertions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_municipality_api_assertions_expires_at"))

    op.drop_table("municipality_api_assertions")
    with op.batch_alter_table("municipality_api_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_municipality_api_clients_municipality_code"))

    op.drop_table("municipality_api_clients")
