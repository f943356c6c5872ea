"""E-application drafts

Revision ID: 0011_applications
Revises: 0010_accounts
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0011_applications"
down_revision: str | None = "0010_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
