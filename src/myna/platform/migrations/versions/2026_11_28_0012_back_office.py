"""Back office

Revision ID: 0012_back_office
Revises: 0011_applications
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0012_back_office"
down_revision: str | None = "0011_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
