"""The municipalities' keys for vaccination certificates (接種証明書: SMART Health Card, VDS-NC).

Revision ID: 0041_vaccination_signers
Revises: 0040_proxies
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0041_vaccination_signers"
down_revision: str | None = "0040_proxies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vaccination_signers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *tables.strings(municipality_code=6, kid=64),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        *tables.columns(tables.MOMENT, "created_at"),
        tables.primary_key("vaccination_signers"),
    )
    op.create_index(
        "ix_vaccination_signers_municipality",
        "vaccination_signers",
        ["municipality_code", "created_at"],
    )
    op.create_index("ix_vaccination_signers_kid", "vaccination_signers", ["kid"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_vaccination_signers_kid", table_name="vaccination_signers")
    op.drop_index("ix_vaccination_signers_municipality", table_name="vaccination_signers")
    op.drop_table("vaccination_signers")
