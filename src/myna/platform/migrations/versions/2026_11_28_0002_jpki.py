"""JPKI (公的個人認証): certificate authorities, issued certificates, revocations.

Revision ID: 0002_jpki
Revises: 0001_registry
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0002_jpki"
down_revision: str | None = "0001_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jpki_authorities",
        sa.Column("id", sa.Integer(), nullable=False),
        *tables.strings(kind=8, subject=200, fingerprint=64),
        *tables.columns(sa.LargeBinary(), "certificate", "private_key"),
        *tables.columns(sa.Integer(), "next_crl_number", "crl_revision"),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        tables.primary_key("jpki_authorities"),
        tables.unique("jpki_authorities", "fingerprint"),
        tables.unique("jpki_authorities", "kind"),
    )
    op.create_table(
        "jpki_certificates",
        *tables.strings(serial=40, kind=8),
        *tables.columns(sa.Integer(), "authority_id", "holder_id"),
        *tables.strings(card_id=64, subject_cn=64),
        *tables.columns(tables.MOMENT, "not_before", "not_after"),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", tables.MOMENT, nullable=False),
        sa.Column("revoked_at", tables.MOMENT, nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        sa.Column("invalidity_date", tables.MOMENT, nullable=True),
        tables.foreign_key("jpki_certificates", "authority_id", "jpki_authorities.id"),
        tables.primary_key("jpki_certificates", "serial"),
    )
    op.create_index(
        "ix_jpki_certificates_authority_id_status",
        "jpki_certificates",
        ["authority_id", "status"],
        unique=False,
    )
    tables.create_indexes("jpki_certificates", "card_id", "holder_id")


def downgrade() -> None:
    tables.drop_indexes("jpki_certificates", "holder_id", "card_id")
    op.drop_index("ix_jpki_certificates_authority_id_status", table_name="jpki_certificates")
    op.drop_table("jpki_certificates")
    op.drop_table("jpki_authorities")
