"""The authentication app (デジタル認証アプリ): clients, login requests, codes, tokens,
signing transactions and used client-assertion ids.

Revision ID: 0035_authapp
Revises: 0034_jpki_latest_info
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0035_authapp"
down_revision: str | None = "0034_jpki_latest_info"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authapp_clients",
        *tables.strings(client_id=64, name=200),
        *tables.columns(sa.JSON(), "redirect_uris", "jwks", "scopes"),
        *tables.columns(tables.MOMENT, "created_at", "updated_at"),
        tables.primary_key("authapp_clients", "client_id"),
        tables.unique("authapp_clients", "name"),
    )
    op.create_table(
        "authapp_authorizations",
        *tables.strings(id=64, client_id=64, redirect_uri=500, scope=200),
        *tables.strings(nullable=True, state=500, nonce=255),
        *tables.strings(code_challenge=64),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        *tables.strings(nullable=True, signing_request_id=64),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=True),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        sa.Column("used_at", tables.MOMENT, nullable=True),
        tables.primary_key("authapp_authorizations", "id"),
    )
    tables.create_indexes("authapp_authorizations", "client_id", "signing_request_id")
    op.create_table(
        "authapp_codes",
        *tables.strings(digest=64, client_id=64),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(redirect_uri=500, scope=200, code_challenge=64),
        *tables.strings(nullable=True, nonce=255),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=True),
        *tables.columns(tables.MOMENT, "auth_time", "created_at", "expires_at"),
        sa.Column("used_at", tables.MOMENT, nullable=True),
        tables.primary_key("authapp_codes", "digest"),
    )
    op.create_table(
        "authapp_tokens",
        *tables.strings(digest=64, client_id=64),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        *tables.strings(nullable=True, code_digest=64),
        *tables.strings(scope=200),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=True),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        sa.Column("revoked_at", tables.MOMENT, nullable=True),
        tables.primary_key("authapp_tokens", "digest"),
    )
    tables.create_indexes("authapp_tokens", "code_digest")
    op.create_table(
        "authapp_sign_requests",
        *tables.strings(id=64, client_id=64, title=100),
        sa.Column("digests", sa.JSON(), nullable=False),
        *tables.strings(return_url=500),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        *tables.strings(nullable=True, signing_request_id=64),
        *tables.columns(sa.LargeBinary(), "content", "signature", "certificate_der", nullable=True),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        sa.Column("signed_at", tables.MOMENT, nullable=True),
        tables.primary_key("authapp_sign_requests", "id"),
    )
    tables.create_indexes("authapp_sign_requests", "client_id", "signing_request_id")
    op.create_table(
        "authapp_seen_assertions",
        *tables.strings(jti=64),
        sa.Column("expires_at", tables.MOMENT, nullable=False),
        tables.primary_key("authapp_seen_assertions", "jti"),
    )
    tables.create_indexes("authapp_seen_assertions", "expires_at")


def downgrade() -> None:
    tables.drop_indexes("authapp_seen_assertions", "expires_at")
    op.drop_table("authapp_seen_assertions")
    tables.drop_indexes("authapp_sign_requests", "client_id", "signing_request_id")
    op.drop_table("authapp_sign_requests")
    tables.drop_indexes("authapp_tokens", "code_digest")
    op.drop_table("authapp_tokens")
    op.drop_table("authapp_codes")
    tables.drop_indexes("authapp_authorizations", "client_id", "signing_request_id")
    op.drop_table("authapp_authorizations")
    op.drop_table("authapp_clients")
