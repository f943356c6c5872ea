"""年末調整: certificates an employee hands over to the employer, and the log names them.

Revision ID: 0029_delivery_handovers
Revises: 0027_tax_filing
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0029_delivery_handovers"
down_revision: str | None = "0027_tax_filing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_handovers",
        *tables.strings(id=32),
        sa.Column("link_id", tables.BIG_ID, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("handed_over_at", tables.MOMENT, nullable=False),
        *tables.columns(tables.MOMENT, "withdrawn_at", "collected_at", nullable=True),
        tables.primary_key("delivery_handovers"),
        tables.foreign_key("delivery_handovers", "link_id", "delivery_links.id"),
    )
    tables.create_indexes("delivery_handovers", "link_id")
    op.create_table(
        "delivery_handover_documents",
        *tables.strings(handover_id=32, delivery_id=32),
        tables.primary_key("delivery_handover_documents", "handover_id", "delivery_id"),
        tables.foreign_key("delivery_handover_documents", "handover_id", "delivery_handovers.id"),
        tables.foreign_key("delivery_handover_documents", "delivery_id", "delivery_documents.id"),
    )
    tables.create_indexes("delivery_handover_documents", "delivery_id")
    with op.batch_alter_table("delivery_log") as batch:
        batch.add_column(sa.Column("handover_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_log") as batch:
        batch.drop_column("handover_id")
    tables.drop_indexes("delivery_handover_documents", "delivery_id")
    op.drop_table("delivery_handover_documents")
    tables.drop_indexes("delivery_handovers", "link_id")
    op.drop_table("delivery_handovers")
