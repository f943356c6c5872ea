"""The hub: agency identities, link codes (機関別符号).

Revision ID: 0006_network
Revises: 0005_agencies
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0006_network"
down_revision: str | None = "0005_agencies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
