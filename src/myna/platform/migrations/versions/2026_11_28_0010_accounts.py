"""Public-fund receiving accounts (公金受取口座).

Revision ID: 0010_accounts
Revises: 0009_services
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0010_accounts"
down_revision: str | None = "0009_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
