"""Card login challenges have an audience (whose login), a certificate subject, a failure.

A card login challenge says whose login it is (``audience``, the existing ones
residents'), the subject of the certificate its answer rested on, and why an answer
was refused.

Revision ID: 0032_office_staff_cards
Revises: 0030_tax_previous_year
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_office_staff_cards"
down_revision: str | None = "0030_tax_previous_year"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("login_challenges") as batch:
        batch.add_column(
            sa.Column("audience", sa.String(16), server_default="resident", nullable=False)
        )
        batch.add_column(sa.Column("certificate_subject", sa.String(64), nullable=True))
        batch.add_column(sa.Column("failure", sa.String(32), nullable=True))


def downgrade() -> None:
    # The back office's challenges go with the column that told them apart.
    op.execute(sa.text("DELETE FROM login_challenges WHERE audience <> 'resident'"))
    with op.batch_alter_table("login_challenges") as batch:
        for name in ("failure", "certificate_subject", "audience"):
            batch.drop_column(name)
