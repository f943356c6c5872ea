"""Municipality filing API: API clients and access tokens.

Revision ID: 0014_filing_api
Revises: 0013_submissions
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0014_filing_api"
down_revision: str | None = "0013_submissions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
