"""Notices (お知らせ): notices, segments, per-resident states.

Revision ID: 0008_notices
Revises: 0007_government_ca
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0008_notices"
down_revision: str | None = "0007_government_ca"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
