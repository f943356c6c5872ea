"""Public-fund receiving accounts (公金受取口座).

Revision ID: 0010_accounts
Revises: 0009_services
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0010_accounts"
down_revision: str | None = "0009_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_fund_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("bank_code", sa.String(length=4), nullable=False),
        sa.Column("branch_code", sa.String(length=3), nullable=False),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=7), nullable=False),
        sa.Column("holder_kana", sa.String(length=128), nullable=False),
        sa.Column("registered_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_public_fund_accounts_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_fund_accounts")),
        sa.UniqueConstraint("resident_id", name=op.f("uq_public_fund_accounts_resident_id")),
    )
    op.create_table(
        "public_fund_account_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_public_fund_account_changes_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_fund_account_changes")),
    )
    op.create_index(
        op.f("ix_public_fund_account_changes_resident_id"),
        "public_fund_account_changes",
        ["resident_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_public_fund_account_changes_resident_id"),
        table_name="public_fund_account_changes",
    )
    op.drop_table("public_fund_account_changes")
    op.drop_table("public_fund_accounts")
