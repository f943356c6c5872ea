"""Public-fund receiving accounts (公金受取口座).

Revision ID: 0010_accounts
Revises: 0009_services
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0010_accounts"
down_revision: str | None = "0009_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_fund_accounts",
        *tables.columns(sa.Integer(), "id", "resident_id"),
        *tables.strings(bank_code=4, branch_code=3, account_type=16, number=7, holder_kana=128),
        *tables.columns(tables.MOMENT, "registered_at", "updated_at"),
        tables.foreign_key("public_fund_accounts", "resident_id", "residents.id"),
        tables.primary_key("public_fund_accounts"),
        tables.unique("public_fund_accounts", "resident_id"),
    )
    op.create_table(
        "public_fund_account_changes",
        *tables.columns(sa.Integer(), "id", "resident_id"),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", tables.MOMENT, nullable=False),
        tables.foreign_key("public_fund_account_changes", "resident_id", "residents.id"),
        tables.primary_key("public_fund_account_changes"),
    )
    tables.create_indexes("public_fund_account_changes", "resident_id")


def downgrade() -> None:
    tables.drop_indexes("public_fund_account_changes", "resident_id")
    op.drop_table("public_fund_account_changes")
    op.drop_table("public_fund_accounts")
