"""Exchange log (やりとり履歴) as a transparency log: entries, tree nodes, signed tree heads.

Revision ID: 0004_transparency
Revises: 0003_portal
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0004_transparency"
down_revision: str | None = "0003_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
