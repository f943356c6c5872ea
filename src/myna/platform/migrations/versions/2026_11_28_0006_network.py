"""The hub: agency credentials (embedded mode), link codes (機関別符号), seen requests.

Revision ID: 0006_network
Revises: 0005_agencies
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0006_network"
down_revision: str | None = "0005_agencies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "network_link_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("my_number", sa.String(length=12), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("link_code", sa.String(length=64), nullable=False),
        sa.Column("issued_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_link_codes")),
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
        sa.Column("created_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("agency_code", name=op.f("pk_network_agency_credentials")),
    )
    op.create_table(
        "network_seen_requests",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("requester", sa.String(length=64), nullable=False),
        sa.Column("received_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_network_seen_requests")),
    )
    op.create_index(
        op.f("ix_network_seen_requests_received_at"),
        "network_seen_requests",
        ["received_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_network_seen_requests_received_at"), table_name="network_seen_requests")
    op.drop_table("network_seen_requests")
    op.drop_table("network_agency_credentials")
    op.drop_index("ix_network_link_codes_agency_link", table_name="network_link_codes")
    op.drop_table("network_link_codes")
