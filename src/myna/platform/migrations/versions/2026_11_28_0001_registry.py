"""Resident registry (住民基本台帳): municipalities, households, residents, address history.

Revision ID: 0001_registry
Revises: None
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0001_registry"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "municipalities",
        *tables.strings(code=6, prefecture_code=2, prefecture_name=8, prefecture_name_kana=16),
        *tables.strings(name=32, name_kana=64),
        tables.primary_key("municipalities", "code"),
    )
    tables.create_indexes("municipalities", "prefecture_code")
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        *tables.strings(municipality_code=6, address=200),
        tables.foreign_key("households", "municipality_code", "municipalities.code"),
        tables.primary_key("households"),
    )
    tables.create_indexes("households", "municipality_code")
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        *tables.strings(my_number=12, family_name=32, given_name=32),
        *tables.strings(family_name_kana=64, given_name_kana=64),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.SmallInteger(), nullable=False),
        *tables.strings(municipality_code=6, address=200),
        sa.Column("household_id", sa.Integer(), nullable=False),
        *tables.strings(relation=16, status=16),
        sa.Column("registered_on", sa.Date(), nullable=False),
        tables.foreign_key("residents", "household_id", "households.id"),
        tables.foreign_key("residents", "municipality_code", "municipalities.code"),
        tables.primary_key("residents"),
        tables.unique("residents", "my_number"),
    )
    tables.create_indexes("residents", "household_id", "municipality_code")
    op.create_index("ix_residents_kana_birth", "residents", ["family_name_kana", "birth_date"])
    op.create_table(
        "address_history",
        *tables.columns(sa.Integer(), "id", "resident_id"),
        *tables.strings(municipality_code=6, address=200),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        tables.foreign_key("address_history", "municipality_code", "municipalities.code"),
        tables.foreign_key("address_history", "resident_id", "residents.id"),
        tables.primary_key("address_history"),
    )
    tables.create_indexes("address_history", "resident_id")


def downgrade() -> None:
    op.drop_table("address_history")
    op.drop_table("residents")
    op.drop_table("households")
    op.drop_table("municipalities")
