"""最新4情報提供: re-issued signing certificates linked old → new, and residents' consents.

Revision ID: 0034_jpki_latest_info
Revises: 0033_log_pq_signatures
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0034_jpki_latest_info"
down_revision: str | None = "0033_log_pq_signatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jpki_signing_successions",
        *tables.strings(serial=40, successor_serial=40, card_id=64),
        sa.Column("at", tables.MOMENT, nullable=False),
        tables.primary_key("jpki_signing_successions", "serial"),
        tables.foreign_key("jpki_signing_successions", "serial", "jpki_certificates.serial"),
        tables.foreign_key(
            "jpki_signing_successions", "successor_serial", "jpki_certificates.serial"
        ),
        tables.unique("jpki_signing_successions", "successor_serial"),
    )
    op.create_table(
        "jpki_latest_info_consents",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        *tables.strings(verifier_code=40, consent_ref=64),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        *tables.strings(certificate_serial=40, purpose=200),
        *tables.columns(sa.LargeBinary(), "statement", "signature"),
        *tables.columns(tables.MOMENT, "consented_at", "registered_at"),
        sa.Column("withdrawn_at", tables.MOMENT, nullable=True),
        tables.primary_key("jpki_latest_info_consents"),
        tables.foreign_key("jpki_latest_info_consents", "verifier_code", "jpki_verifiers.code"),
        tables.foreign_key(
            "jpki_latest_info_consents", "certificate_serial", "jpki_certificates.serial"
        ),
        tables.unique("jpki_latest_info_consents", "verifier_code", "consent_ref"),
    )
    op.create_index(
        op.f("ix_jpki_latest_info_consents_holder_verifier"),
        "jpki_latest_info_consents",
        ["holder_id", "verifier_code"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_jpki_latest_info_consents_holder_verifier"),
        table_name="jpki_latest_info_consents",
    )
    op.drop_table("jpki_latest_info_consents")
    op.drop_table("jpki_signing_successions")
