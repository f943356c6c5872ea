"""Applicant identities: J-LIS's 本人確認情報 of an application's signer, as the office got it.

Revision ID: 0021_applicant_identities
Revises: 0020_sessions
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0021_applicant_identities"
down_revision: str | None = "0020_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "office_applicant_identities"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("application_id", sa.Integer(), nullable=False),
        *tables.strings(municipality_code=6, name=200, name_kana=200),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.Integer(), nullable=True),
        *tables.strings(address=400, search_key=800),
        sa.Column("fetched_at", tables.MOMENT, nullable=False),
        tables.foreign_key(TABLE, "application_id", "applications.id", ondelete="CASCADE"),
        tables.primary_key(TABLE, "application_id"),
    )
    tables.create_indexes(TABLE, "municipality_code")


def downgrade() -> None:
    tables.drop_indexes(TABLE, "municipality_code")
    op.drop_table(TABLE)
