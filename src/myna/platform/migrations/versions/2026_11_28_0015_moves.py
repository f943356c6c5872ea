"""Moves: move-out notifications, move-in reservations, move-out certificate information.

Revision ID: 0015_moves
Revises: 0014_filing_api
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0015_moves"
down_revision: str | None = "0014_filing_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
