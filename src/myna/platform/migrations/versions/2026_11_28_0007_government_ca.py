"""The government CA's organisation certificates in the issued-certificates table.

``kind`` widens to hold ``organization``; ``holder_id`` and ``card_id`` become optional
(an organisation has neither) and ``organization_code`` names the organisation. The
government CA itself is a row of ``jpki_authorities`` created by ``ensure_authorities``.

Revision ID: 0007_government_ca
Revises: 0006_network
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_government_ca"
down_revision: str | None = "0006_network"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jpki_certificates", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.String(length=8),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
        batch_op.alter_column("holder_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("card_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column("organization_code", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_jpki_certificates_organization_code"),
            ["organization_code"],
            unique=False,
        )


def downgrade() -> None:
    # Organisation certificates cannot live in the older table: they go with the column.
    op.execute("DELETE FROM jpki_certificates WHERE organization_code IS NOT NULL")
    with op.batch_alter_table("jpki_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jpki_certificates_organization_code"))
        batch_op.drop_column("organization_code")
        batch_op.alter_column("card_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("holder_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "kind",
            existing_type=sa.String(length=16),
            type_=sa.String(length=8),
            existing_nullable=False,
        )
