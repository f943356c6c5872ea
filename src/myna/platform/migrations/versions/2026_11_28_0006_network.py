"""The hub: agency credentials (embedded mode), link codes (機関別符号), seen requests.

Revision ID: 0006_network
Revises: 0005_agencies
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0006_network"
down_revision: str | None = "0005_agencies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "network_link_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *tables.strings(my_number=12, agency_code=64, link_code=64),
        sa.Column("issued_at", tables.MOMENT, nullable=False),
        tables.primary_key("network_link_codes"),
        sa.UniqueConstraint("my_number", "agency_code", name="uq_network_link_codes_person_agency"),
    )
    op.create_index(
        "ix_network_link_codes_agency_link",
        "network_link_codes",
        ["agency_code", "link_code"],
        unique=True,
    )
    op.create_table(
        "network_agency_credentials",
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        tables.primary_key("network_agency_credentials", "agency_code"),
    )
    op.create_table(
        "network_seen_requests",
        *tables.strings(request_id=64, requester=64),
        sa.Column("received_at", tables.MOMENT, nullable=False),
        tables.primary_key("network_seen_requests", "request_id"),
    )
    tables.create_indexes("network_seen_requests", "received_at")


def downgrade() -> None:
    tables.drop_indexes("network_seen_requests", "received_at")
    op.drop_table("network_seen_requests")
    op.drop_table("network_agency_credentials")
    op.drop_index("ix_network_link_codes_agency_link", table_name="network_link_codes")
    op.drop_table("network_link_codes")
