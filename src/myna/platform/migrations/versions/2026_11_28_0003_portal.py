"""Portal: sessions, login challenges, authentication audit.

Revision ID: 0003_portal
Revises: 0002_jpki
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0003_portal"
down_revision: str | None = "0002_jpki"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
