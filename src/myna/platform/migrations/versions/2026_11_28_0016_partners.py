"""Partners: organisations, pushed requests, codes, tokens, consents and their uses.

Revision ID: 0016_partners
Revises: 0015_moves
Create Date: 2026-11-28 04:08:02.927922
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0016_partners"
down_revision: str | None = "0015_moves"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_access_tokens",
        *tables.strings(digest=64, client_id=64),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(consent_id=64, scope=500, jkt=64),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        sa.Column("revoked_at", tables.MOMENT, nullable=True),
        tables.primary_key("partner_access_tokens", "digest"),
    )
    tables.create_indexes("partner_access_tokens", "client_id", "consent_id")
    op.create_table(
        "partner_authorization_codes",
        *tables.strings(digest=64, client_id=64),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(consent_id=64, redirect_uri=500, scope=500, code_challenge=128),
        *tables.strings(nonce=255, dpop_jkt=64, nullable=True),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        sa.Column("used_at", tables.MOMENT, nullable=True),
        tables.primary_key("partner_authorization_codes", "digest"),
    )
    op.create_table(
        "partner_consents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        *tables.columns(sa.JSON(), "scopes", "items"),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("retention", sa.String(length=200), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("granted_at", tables.MOMENT, nullable=False),
        sa.Column("revoked_at", tables.MOMENT, nullable=True),
        tables.primary_key("partner_consents"),
    )
    tables.create_indexes("partner_consents", "client_id", "resident_id")
    op.create_table(
        "partner_organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        *tables.strings(client_id=64, name=200),
        sa.Column("purpose", sa.Text(), nullable=False),
        *tables.strings(contact=200, retention=200, status=16),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("jwks_uri", sa.String(length=500), nullable=True),
        *tables.columns(sa.JSON(), "requested_scopes", "approved_scopes"),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        sa.Column("reviewed_at", tables.MOMENT, nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        tables.primary_key("partner_organizations"),
        tables.unique("partner_organizations", "client_id"),
    )
    op.create_table(
        "partner_pushed_requests",
        *tables.strings(id=64, client_id=64),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("dpop_jkt", sa.String(length=64), nullable=True),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        sa.Column("used_at", tables.MOMENT, nullable=True),
        tables.primary_key("partner_pushed_requests"),
    )
    tables.create_indexes("partner_pushed_requests", "client_id")
    op.create_table(
        "partner_seen_proofs",
        *tables.strings(jti=128, kind=16),
        sa.Column("expires_at", tables.MOMENT, nullable=False),
        tables.primary_key("partner_seen_proofs", "jti", "kind"),
    )
    tables.create_indexes("partner_seen_proofs", "expires_at")
    op.create_table(
        "partner_consent_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        *tables.strings(consent_id=64, api=64),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("used_at", tables.MOMENT, nullable=False),
        tables.foreign_key(
            "partner_consent_uses", "consent_id", "partner_consents.id", ondelete="CASCADE"
        ),
        tables.primary_key("partner_consent_uses"),
    )
    tables.create_indexes("partner_consent_uses", "consent_id")


def downgrade() -> None:
    tables.drop_indexes("partner_consent_uses", "consent_id")
    op.drop_table("partner_consent_uses")
    tables.drop_indexes("partner_seen_proofs", "expires_at")
    op.drop_table("partner_seen_proofs")
    tables.drop_indexes("partner_pushed_requests", "client_id")
    op.drop_table("partner_pushed_requests")
    op.drop_table("partner_organizations")
    tables.drop_indexes("partner_consents", "resident_id", "client_id")
    op.drop_table("partner_consents")
    op.drop_table("partner_authorization_codes")
    tables.drop_indexes("partner_access_tokens", "consent_id", "client_id")
    op.drop_table("partner_access_tokens")
