"""Signing requests for more than applications (a tax return), and filed tax returns.

Revision ID: 0027_tax_filing
Revises: 0026_tax
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0027_tax_filing"
down_revision: str | None = "0026_tax"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signing_requests") as batch:
        batch.add_column(
            sa.Column("purpose", sa.String(32), server_default="application", nullable=False)
        )
        batch.add_column(sa.Column("receipt_number", sa.String(32), nullable=True))
        batch.add_column(sa.Column("signature", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("done_path", sa.String(200), nullable=True))
    op.create_table(
        "tax_filings",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        sa.Column("return_id", tables.BIG_ID, nullable=False),
        *tables.strings(receipt_number=32, signing_request_id=64, office_name=100),
        *tables.columns(sa.LargeBinary(), "content", "return_xml", "signature"),
        *tables.strings(certificate_serial=64, signer_name=200),
        *tables.columns(tables.MOMENT, "signed_at", "filed_at"),
        *tables.columns(sa.BigInteger(), "declared_tax", "refund", "due"),
        tables.primary_key("tax_filings"),
        tables.foreign_key("tax_filings", "return_id", "tax_returns.id", ondelete="CASCADE"),
        tables.unique("tax_filings", "return_id"),
        tables.unique("tax_filings", "receipt_number"),
        tables.unique("tax_filings", "signing_request_id"),
    )


def downgrade() -> None:
    op.drop_table("tax_filings")
    with op.batch_alter_table("signing_requests") as batch:
        for name in ("done_path", "signature", "receipt_number", "purpose"):
            batch.drop_column(name)
