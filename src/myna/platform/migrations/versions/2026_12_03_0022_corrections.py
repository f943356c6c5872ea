"""Corrections (訂正の申出): the portal's requests, the hub's deliveries, agencies' queues.

Revision ID: 0022_corrections
Revises: 0021_applicant_identities
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0022_corrections"
down_revision: str | None = "0021_applicant_identities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "correction_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *tables.strings(request_id=64),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(
            owner=64,
            item_code=48,
            field_name=64,
            current_value=200,
            proposed_value=200,
            reason=1000,
        ),
        *tables.strings(nullable=True, evidence_name=200, evidence_type=64),
        sa.Column("evidence_size", sa.Integer(), nullable=True),
        *tables.strings(agency_reference=64, status=16),
        *tables.strings(nullable=True, answer_reason=1000),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        sa.Column("answered_at", tables.MOMENT, nullable=True),
        tables.primary_key("correction_requests"),
        tables.unique("correction_requests", "request_id"),
    )
    tables.create_indexes("correction_requests", "resident_id")
    op.create_table(
        "network_corrections",
        *tables.strings(request_id=64, requester=64, owner=64, item=64, subject=64),
        sa.Column("delivered_at", tables.MOMENT, nullable=False),
        sa.Column("answered_at", tables.MOMENT, nullable=True),
        tables.primary_key("network_corrections", "request_id"),
    )
    op.create_table(
        "agency_corrections",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        *tables.strings(
            agency_code=32,
            request_id=64,
            requester=64,
            link_code=64,
            item_code=48,
            field_name=64,
            current_value=200,
            proposed_value=200,
            reason=1000,
        ),
        *tables.strings(nullable=True, evidence_name=200, evidence_type=64),
        sa.Column("evidence", sa.LargeBinary(), nullable=True),
        *tables.strings(status=16),
        *tables.strings(nullable=True, answer_reason=1000),
        sa.Column("received_at", tables.MOMENT, nullable=False),
        sa.Column("answered_at", tables.MOMENT, nullable=True),
        tables.primary_key("agency_corrections"),
        tables.unique("agency_corrections", "request_id"),
    )
    op.create_index(
        op.f("ix_agency_corrections_agency_code_status"),
        "agency_corrections",
        ["agency_code", "status"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_agency_corrections_agency_code_status"), table_name="agency_corrections")
    op.drop_table("agency_corrections")
    op.drop_table("network_corrections")
    tables.drop_indexes("correction_requests", "resident_id")
    op.drop_table("correction_requests")
