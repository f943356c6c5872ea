"""Agencies' ML-DSA-65 keys and certificates beside their ES256 ones (hybrid hub messages).

Revision ID: 0037_message_pq_keys
Revises: 0036_phone_credentials
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037_message_pq_keys"
down_revision: str | None = "0036_phone_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("network_agency_credentials") as batch:
        batch.add_column(sa.Column("pq_certificate_der", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("pq_private_key_pem", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("network_agency_credentials") as batch:
        batch.drop_column("pq_private_key_pem")
        batch.drop_column("pq_certificate_der")
