"""本籍 and 印鑑登録 in the registry; issued certificates, the signing keys, kiosk sessions.

Revision ID: 0038_certificates
Revises: 0041_vaccination_signers
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0038_certificates"
down_revision: str | None = "0041_vaccination_signers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("residents") as batch:
        batch.add_column(sa.Column("domicile", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("domicile_head", sa.String(length=64), nullable=True))
    op.create_table(
        "seal_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(municipality_code=6, registration_number=16),
        sa.Column("image_png", sa.LargeBinary(), nullable=False),
        *tables.strings(image_sha256=64),
        sa.Column("registered_at", tables.MOMENT, nullable=False),
        *tables.strings(registered_by=64),
        sa.Column("cancelled_at", tables.MOMENT, nullable=True),
        tables.primary_key("seal_registrations"),
        tables.foreign_key("seal_registrations", "resident_id", "residents.id"),
        tables.foreign_key("seal_registrations", "municipality_code", "municipalities.code"),
        tables.unique("seal_registrations", "municipality_code", "registration_number"),
    )
    tables.create_indexes("seal_registrations", "resident_id")
    op.create_table(
        "certificate_signers",
        *tables.strings(code=64),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        tables.primary_key("certificate_signers", "code"),
    )
    op.create_table(
        "certificate_issuances",
        sa.Column("id", sa.Integer(), nullable=False),
        *tables.strings(number=20, kind=32, municipality_code=6),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(door=16),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column("issued_at", tables.MOMENT, nullable=False),
        *tables.strings(message_digest=64, signer_serial=40),
        sa.Column("cancelled_at", tables.MOMENT, nullable=True),
        tables.primary_key("certificate_issuances"),
        tables.unique("certificate_issuances", "number"),
        tables.unique("certificate_issuances", "message_digest"),
    )
    tables.create_indexes("certificate_issuances", "resident_id")
    op.create_table(
        "certificate_kiosk_sessions",
        *tables.strings(id=32, kiosk_id=32, nonce=64),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        sa.Column("expires_at", tables.MOMENT, nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        *tables.strings(certificate_serial=40, nullable=True),
        sa.Column("identified_at", tables.MOMENT, nullable=True),
        sa.Column("ended_at", tables.MOMENT, nullable=True),
        tables.primary_key("certificate_kiosk_sessions"),
    )


def downgrade() -> None:
    op.drop_table("certificate_kiosk_sessions")
    tables.drop_indexes("certificate_issuances", "resident_id")
    op.drop_table("certificate_issuances")
    op.drop_table("certificate_signers")
    tables.drop_indexes("seal_registrations", "resident_id")
    op.drop_table("seal_registrations")
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("domicile_head")
        batch.drop_column("domicile")
