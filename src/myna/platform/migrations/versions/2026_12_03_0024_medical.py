"""オンライン資格確認: institutions, マイナ保険証 registrations, visits at the counter;
agency records findable by key.

Revision ID: 0024_medical
Revises: 0023_cosignatures
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0024_medical"
down_revision: str | None = "0023_cosignatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "medical_institutions",
        *tables.strings(code=10, name=200, organization_code=32),
        sa.Column("registered_at", tables.MOMENT, nullable=False),
        sa.Column("suspended_at", tables.MOMENT, nullable=True),
        tables.primary_key("medical_institutions", "code"),
        tables.unique("medical_institutions", "organization_code"),
    )
    op.create_table(
        "medical_enrolments",
        *tables.strings(
            link_code=64, insurer_number=8, insured_symbol=20, insured_number=20, insured_branch=2
        ),
        sa.Column("registered_at", tables.MOMENT, nullable=False),
        tables.primary_key("medical_enrolments", "link_code"),
    )
    op.create_table(
        "medical_visits",
        *tables.strings(id=32, institution_code=10, nonce=64, status=16),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        sa.Column("expires_at", tables.MOMENT, nullable=False),
        *tables.strings(
            nullable=True, link_code=64, method=16, confirmed_by=100, certificate_serial=64
        ),
        sa.Column("identified_at", tables.MOMENT, nullable=True),
        *tables.columns(
            sa.Boolean(), "consent_medication", "consent_checkup", "consent_limit", nullable=True
        ),
        sa.Column("consented_at", tables.MOMENT, nullable=True),
        sa.Column("view_until", tables.MOMENT, nullable=True),
        sa.Column("visit_date", sa.Date(), nullable=True),
        tables.primary_key("medical_visits"),
        tables.foreign_key("medical_visits", "institution_code", "medical_institutions.code"),
    )
    tables.create_indexes("medical_visits", "link_code")
    op.create_index(
        op.f("ix_agency_records_agency_code_item_code_record_key"),
        "agency_records",
        ["agency_code", "item_code", "record_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_agency_records_agency_code_item_code_record_key"), table_name="agency_records"
    )
    tables.drop_indexes("medical_visits", "link_code")
    op.drop_table("medical_visits")
    op.drop_table("medical_enrolments")
    op.drop_table("medical_institutions")
