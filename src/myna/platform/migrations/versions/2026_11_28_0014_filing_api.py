"""Municipality filing API: API clients and access tokens.

Revision ID: 0014_filing_api
Revises: 0013_submissions
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0014_filing_api"
down_revision: str | None = "0013_submissions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "municipality_api_clients",
        *tables.strings(client_id=64, municipality_code=6, name=200),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        tables.primary_key("municipality_api_clients", "client_id"),
    )
    tables.create_indexes("municipality_api_clients", "municipality_code")
    op.create_table(
        "municipality_api_assertions",
        *tables.strings(client_id=64, jti=255),
        sa.Column("expires_at", tables.MOMENT, nullable=False),
        tables.primary_key("municipality_api_assertions", "client_id", "jti"),
    )
    tables.create_indexes("municipality_api_assertions", "expires_at")
    op.create_table(
        "municipality_api_tokens",
        *tables.strings(token_digest=64, client_id=64, municipality_code=6, scope=64),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        tables.primary_key("municipality_api_tokens", "token_digest"),
    )
    tables.create_indexes("municipality_api_tokens", "client_id", "expires_at")


def downgrade() -> None:
    tables.drop_indexes("municipality_api_tokens", "expires_at", "client_id")
    op.drop_table("municipality_api_tokens")
    tables.drop_indexes("municipality_api_assertions", "expires_at")
    op.drop_table("municipality_api_assertions")
    tables.drop_indexes("municipality_api_clients", "municipality_code")
    op.drop_table("municipality_api_clients")
