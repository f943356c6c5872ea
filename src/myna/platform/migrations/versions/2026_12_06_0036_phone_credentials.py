"""The phone credential (スマホ用電子証明書): the phones residents issued it to.

Revision ID: 0036_phone_credentials
Revises: 0035_authapp
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0036_phone_credentials"
down_revision: str | None = "0035_authapp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = (
    "resident_id",
    "card_id",
    "unlock_credential_id",
    "signing_request_id",
    "sign_serial",
    "auth_serial",
)


def upgrade() -> None:
    op.create_table(
        "phone_credentials",
        *tables.strings(id=32),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(card_id=64, login_serial=40, status=16, nonce=64),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        *tables.columns(sa.LargeBinary(), "sign_public_key", "auth_public_key", nullable=True),
        *tables.strings(unlock_credential_id=1400, nullable=True),
        sa.Column("unlock_public_key", sa.LargeBinary(), nullable=True),
        sa.Column("unlock_sign_count", sa.Integer(), nullable=False),
        *tables.strings(signing_request_id=64, sign_serial=40, auth_serial=40, nullable=True),
        *tables.columns(tables.MOMENT, "issued_at", "revoked_at", nullable=True),
        *tables.strings(revocation_reason=32, nullable=True),
        tables.primary_key("phone_credentials"),
    )
    tables.create_indexes("phone_credentials", *INDEXED)


def downgrade() -> None:
    tables.drop_indexes("phone_credentials", *INDEXED)
    op.drop_table("phone_credentials")
