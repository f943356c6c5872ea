"""Resident registry (住民基本台帳): municipalities, households, residents, address history.

Revision ID: 0001_registry
Revises: None
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_registry"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "municipalities",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("prefecture_code", sa.String(length=2), nullable=False),
        sa.Column("prefecture_name", sa.String(length=8), nullable=False),
        sa.Column("prefecture_name_kana", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("name_kana", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_municipalities")),
    )
    op.create_index(
        op.f("ix_municipalities_prefecture_code"), "municipalities", ["prefecture_code"]
    )
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_households_municipality_code_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
    )
    op.create_index(op.f("ix_households_municipality_code"), "households", ["municipality_code"])
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("my_number", sa.String(length=12), nullable=False),
        sa.Column("family_name", sa.String(length=32), nullable=False),
        sa.Column("given_name", sa.String(length=32), nullable=False),
        sa.Column("family_name_kana", sa.String(length=64), nullable=False),
        sa.Column("given_name_kana", sa.String(length=64), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.SmallInteger(), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_residents_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_residents_municipality_code_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
        sa.UniqueConstraint("my_number", name=op.f("uq_residents_my_number")),
    )
    op.create_index(op.f("ix_residents_household_id"), "residents", ["household_id"])
    op.create_index(op.f("ix_residents_municipality_code"), "residents", ["municipality_code"])
    op.create_index("ix_residents_kana_birth", "residents", ["family_name_kana", "birth_date"])
    op.create_table(
        "address_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_address_history_municipality_code_municipalities"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_address_history_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_history")),
    )
    op.create_index(op.f("ix_address_history_resident_id"), "address_history", ["resident_id"])


def downgrade() -> None:
    op.drop_table("address_history")
    op.drop_table("residents")
    op.drop_table("households")
    op.drop_table("municipalities")
