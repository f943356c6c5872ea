"""JPKI verifiers (署名検証者・利用者証明検証者) and their billed usage of the status API.

Revision ID: 0031_jpki_verifiers
Revises: 0030_tax_previous_year
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0031_jpki_verifiers"
down_revision: str | None = "0030_tax_previous_year"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jpki_verifiers",
        *tables.strings(code=40, name=64, kind=16),
        *tables.strings(nullable=True, platform_code=40),
        *tables.strings(organization_code=64),
        sa.Column("registered_at", tables.MOMENT, nullable=False),
        sa.Column("suspended_at", tables.MOMENT, nullable=True),
        tables.primary_key("jpki_verifiers", "code"),
        tables.foreign_key("jpki_verifiers", "platform_code", "jpki_verifiers.code"),
        tables.unique("jpki_verifiers", "organization_code"),
    )
    tables.create_indexes("jpki_verifiers", "platform_code")
    op.create_table(
        "jpki_verifier_usage",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        *tables.strings(verifier_code=40, month=7, kind=16, request_id=64),
        *tables.columns(sa.Integer(), "items", "unit_price_yen"),
        sa.Column("amount_yen", sa.BigInteger(), nullable=False),
        sa.Column("at", tables.MOMENT, nullable=False),
        tables.primary_key("jpki_verifier_usage"),
        tables.foreign_key("jpki_verifier_usage", "verifier_code", "jpki_verifiers.code"),
    )
    op.create_index(
        op.f("ix_jpki_verifier_usage_verifier_code_month"),
        "jpki_verifier_usage",
        ["verifier_code", "month"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_jpki_verifier_usage_verifier_code_month"), table_name="jpki_verifier_usage"
    )
    op.drop_table("jpki_verifier_usage")
    tables.drop_indexes("jpki_verifiers", "platform_code")
    op.drop_table("jpki_verifiers")
