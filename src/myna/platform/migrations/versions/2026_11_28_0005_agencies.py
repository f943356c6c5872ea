"""Agencies' replica stores (副本).

Revision ID: 0005_agencies
Revises: 0004_transparency
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0005_agencies"
down_revision: str | None = "0004_transparency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
