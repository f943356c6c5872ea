"""The exchange log's tree heads carry a second, post-quantum signature (ML-DSA-65).

Revision ID: 0033_log_pq_signatures
Revises: 0032_office_staff_cards
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_log_pq_signatures"
down_revision: str | None = "0032_office_staff_cards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_log_tree_heads") as batch:
        batch.add_column(sa.Column("pq_signature", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exchange_log_tree_heads") as batch:
        batch.drop_column("pq_signature")
