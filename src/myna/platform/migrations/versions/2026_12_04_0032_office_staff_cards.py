"""Staff ID (職員証): staff log in with their MyNumber card; challenges have an audience.

``office_staff_cards`` binds a staff account to a user-authentication certificate (its
serial and subject); ``office_staff.disabled_at`` disables an account; a card login
challenge says whose login it is (``audience``, the existing ones residents'), the
subject of the certificate its answer rested on, and why an answer was refused.

Revision ID: 0032_office_staff_cards
Revises: 0031_jpki_verifiers
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0032_office_staff_cards"
down_revision: str | None = "0031_jpki_verifiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("login_challenges") as batch:
        batch.add_column(
            sa.Column("audience", sa.String(16), server_default="resident", nullable=False)
        )
        batch.add_column(sa.Column("subject", sa.String(32), nullable=True))
        batch.add_column(sa.Column("certificate_subject", sa.String(64), nullable=True))
        batch.add_column(sa.Column("failure", sa.String(32), nullable=True))
    with op.batch_alter_table("office_staff") as batch:
        batch.add_column(sa.Column("disabled_at", tables.MOMENT, nullable=True))
    op.create_table(
        "office_staff_cards",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        *tables.strings(certificate_serial=64, certificate_subject=64),
        sa.Column("certificate_not_after", tables.MOMENT, nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=True),
        sa.Column("registered_at", tables.MOMENT, nullable=False),
        sa.Column("last_used_at", tables.MOMENT, nullable=True),
        tables.primary_key("office_staff_cards"),
        tables.foreign_key("office_staff_cards", "staff_id", "office_staff.id", ondelete="CASCADE"),
        tables.unique("office_staff_cards", "certificate_serial"),
    )
    tables.create_indexes("office_staff_cards", "staff_id")


def downgrade() -> None:
    tables.drop_indexes("office_staff_cards", "staff_id")
    op.drop_table("office_staff_cards")
    with op.batch_alter_table("office_staff") as batch:
        batch.drop_column("disabled_at")
    # The back office's challenges go with the column that told them apart.
    op.execute(sa.text("DELETE FROM login_challenges WHERE audience <> 'resident'"))
    with op.batch_alter_table("login_challenges") as batch:
        for name in ("failure", "certificate_subject", "subject", "audience"):
            batch.drop_column(name)
