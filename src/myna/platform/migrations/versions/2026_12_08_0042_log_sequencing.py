"""Exchange log by group commit: entries get a key of their own and wait pending for a leaf.

An append now inserts its entries without a leaf index or hash; the sequencer gives them
both later, in insertion order (ADR 0016). ``id`` becomes the primary key (insertion
order); existing entries keep their leaf indices and get ``id = leaf_index + 1``, so
their order is the tree's. The resident's index follows ``id`` instead of the leaf.

Revision ID: 0042_log_sequencing
Revises: 0038_certificates
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0042_log_sequencing"
down_revision: str | None = "0038_certificates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "exchange_log_entries"
PK = f"pk_{TABLE}"
SUBJECT_INDEX = "ix_exchange_log_entries_subject_time"
LEAF_INDEX = "ix_exchange_log_entries_leaf_index"
# What BIGSERIAL makes on PostgreSQL (the models' autoincrementing BIGINT key).
SEQUENCE = f"{TABLE}_id_seq"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index(SUBJECT_INDEX, table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("id", tables.BIG_ID, nullable=True))
    op.execute(sa.text(f"UPDATE {TABLE} SET id = leaf_index + 1"))  # noqa: S608 - constant
    with op.batch_alter_table(TABLE, recreate="always" if not postgresql else "never") as batch:
        batch.drop_constraint(op.f(PK), type_="primary")
        batch.alter_column("id", existing_type=tables.BIG_ID, nullable=False)
        batch.create_primary_key(op.f(PK), ["id"])
        batch.alter_column("leaf_index", existing_type=tables.BIG_ID, nullable=True)
        batch.alter_column("leaf_hash", existing_type=sa.LargeBinary(length=32), nullable=True)
        batch.create_index(op.f(LEAF_INDEX), ["leaf_index"], unique=True)
    if postgresql:
        op.execute(sa.text(f"CREATE SEQUENCE {SEQUENCE} OWNED BY {TABLE}.id"))
        op.execute(
            sa.text(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{SEQUENCE}')")
        )
        op.execute(
            sa.text(
                f"SELECT setval('{SEQUENCE}', COALESCE((SELECT MAX(id) FROM {TABLE}), 0) + 1, "  # noqa: S608
                "false)"
            )
        )
    op.create_index(SUBJECT_INDEX, TABLE, ["subject", "occurred_at", "id"], unique=False)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    pending = op.get_bind().execute(
        sa.text(f"SELECT COUNT(*) FROM {TABLE} WHERE leaf_index IS NULL")  # noqa: S608
    )
    if pending.scalar_one():
        msg = "pending exchange-log entries: sequence them (publish a tree head) first"
        raise RuntimeError(msg)
    op.drop_index(SUBJECT_INDEX, table_name=TABLE)
    if postgresql:
        op.execute(sa.text(f"ALTER TABLE {TABLE} ALTER COLUMN id DROP DEFAULT"))
        op.execute(sa.text(f"DROP SEQUENCE {SEQUENCE}"))
    with op.batch_alter_table(TABLE, recreate="always" if not postgresql else "never") as batch:
        batch.drop_index(op.f(LEAF_INDEX))
        batch.drop_constraint(op.f(PK), type_="primary")
        batch.alter_column("leaf_hash", existing_type=sa.LargeBinary(length=32), nullable=False)
        batch.alter_column("leaf_index", existing_type=tables.BIG_ID, nullable=False)
        batch.create_primary_key(op.f(PK), ["leaf_index"])
        batch.drop_column("id")
    op.create_index(SUBJECT_INDEX, TABLE, ["subject", "occurred_at", "leaf_index"], unique=False)
