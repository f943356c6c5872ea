"""民間送達: senders, the residents' links, delivered documents and the box's log.

Revision ID: 0025_delivery
Revises: 0024_medical
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0025_delivery"
down_revision: str | None = "0024_medical"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_senders",
        *tables.strings(code=48, name=200, kind=32, organization_code=64),
        sa.Column("registered_at", tables.MOMENT, nullable=False),
        sa.Column("suspended_at", tables.MOMENT, nullable=True),
        tables.primary_key("delivery_senders", "code"),
        tables.unique("delivery_senders", "organization_code"),
    )
    op.create_table(
        "delivery_links",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        *tables.strings(sender_code=48),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(recipient_id=64),
        sa.Column("linked_at", tables.MOMENT, nullable=False),
        sa.Column("revoked_at", tables.MOMENT, nullable=True),
        tables.primary_key("delivery_links"),
        tables.foreign_key("delivery_links", "sender_code", "delivery_senders.code"),
        tables.unique("delivery_links", "sender_code", "resident_id"),
        tables.unique("delivery_links", "recipient_id"),
    )
    tables.create_indexes("delivery_links", "resident_id")
    op.create_table(
        "delivery_documents",
        *tables.strings(id=32, sender_code=48, document_id=64),
        sa.Column("link_id", tables.BIG_ID, nullable=False),
        *tables.strings(kind=16),
        sa.Column("year", sa.Integer(), nullable=False),
        *tables.strings(title=200, sha256=64),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", tables.MOMENT, nullable=False),
        sa.Column("read_at", tables.MOMENT, nullable=True),
        tables.primary_key("delivery_documents"),
        tables.foreign_key("delivery_documents", "sender_code", "delivery_senders.code"),
        tables.foreign_key("delivery_documents", "link_id", "delivery_links.id"),
        tables.unique("delivery_documents", "sender_code", "document_id"),
    )
    tables.create_indexes("delivery_documents", "link_id")
    op.create_table(
        "delivery_log",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(sender_code=48),
        *tables.strings(nullable=True, delivery_id=32),
        *tables.strings(action=16),
        sa.Column("at", tables.MOMENT, nullable=False),
        tables.primary_key("delivery_log"),
    )
    tables.create_indexes("delivery_log", "resident_id")


def downgrade() -> None:
    tables.drop_indexes("delivery_log", "resident_id")
    op.drop_table("delivery_log")
    tables.drop_indexes("delivery_documents", "link_id")
    op.drop_table("delivery_documents")
    tables.drop_indexes("delivery_links", "resident_id")
    op.drop_table("delivery_links")
    op.drop_table("delivery_senders")
