"""Service catalog (ぴったりサービス).

Revision ID: 0009_services
Revises: 0008_notices
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0009_services"
down_revision: str | None = "0008_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
