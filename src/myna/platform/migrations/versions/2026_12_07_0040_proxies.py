"""Proxies (代理人): appointments, appointment codes, their activity; acting-for in the
session; the actor beside the subject in the exchange log and in applications.

Revision ID: 0040_proxies
Revises: 0039_counters
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0040_proxies"
down_revision: str | None = "0039_counters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proxy_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        *tables.columns(sa.Integer(), "principal_id", "proxy_id"),
        *tables.strings(scopes=64),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("created_at", tables.MOMENT, nullable=False),
        *tables.columns(tables.MOMENT, "accepted_at", "revoked_at", nullable=True),
        tables.primary_key("proxy_appointments"),
    )
    tables.create_indexes("proxy_appointments", "principal_id", "proxy_id")
    op.create_table(
        "proxy_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        *tables.strings(code_digest=64),
        *tables.columns(tables.MOMENT, "created_at", "expires_at"),
        sa.Column("used_at", tables.MOMENT, nullable=True),
        tables.primary_key("proxy_codes"),
        tables.unique("proxy_codes", "code_digest"),
    )
    tables.create_indexes("proxy_codes", "resident_id")
    op.create_table(
        "proxy_activity",
        sa.Column("id", tables.BIG_ID, autoincrement=True, nullable=False),
        sa.Column("occurred_at", tables.MOMENT, nullable=False),
        *tables.columns(sa.Integer(), "principal_id", "proxy_id"),
        *tables.strings(grant=40, action=32),
        *tables.strings(detail=200, nullable=True),
        tables.primary_key("proxy_activity"),
    )
    op.create_index(
        op.f("ix_proxy_activity_principal_at"),
        "proxy_activity",
        ["principal_id", "occurred_at"],
        unique=False,
    )
    tables.create_indexes("proxy_activity", "proxy_id")
    with op.batch_alter_table("browser_sessions") as batch:
        batch.add_column(sa.Column("acting_for_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("acting_grant", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("acting_label", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("acting_scopes", sa.String(length=64), nullable=True))
    with op.batch_alter_table("exchange_log_entries") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=64), nullable=True))
    for table in ("applications", "signing_requests"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("proxy_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ("signing_requests", "applications"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("proxy_id")
    with op.batch_alter_table("exchange_log_entries") as batch:
        batch.drop_column("actor")
    with op.batch_alter_table("browser_sessions") as batch:
        batch.drop_column("acting_scopes")
        batch.drop_column("acting_label")
        batch.drop_column("acting_grant")
        batch.drop_column("acting_for_id")
    tables.drop_indexes("proxy_activity", "proxy_id")
    op.drop_index(op.f("ix_proxy_activity_principal_at"), table_name="proxy_activity")
    op.drop_table("proxy_activity")
    tables.drop_indexes("proxy_codes", "resident_id")
    op.drop_table("proxy_codes")
    tables.drop_indexes("proxy_appointments", "principal_id", "proxy_id")
    op.drop_table("proxy_appointments")
