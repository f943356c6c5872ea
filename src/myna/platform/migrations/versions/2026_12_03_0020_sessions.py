"""Sessions: one table for residents' and staff's browser sessions.

``portal_sessions`` and ``office_sessions`` become ``browser_sessions`` with a ``kind``
(``resident`` or ``staff``); live sessions are carried over, so nobody is logged out by
the upgrade. A staff session that passed the password but not the one-time code
(``staff_id`` set, ``mfa_passed`` false) is one ``awaiting_second_factor``.

Revision ID: 0020_sessions
Revises: 0017_partner_auth_time
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.migrations import tables

revision: str = "0020_sessions"
down_revision: str | None = "0017_partner_auth_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain SQL that SQLite (3.23 and later: TRUE and FALSE) and PostgreSQL both run.
COPY_RESIDENTS = """
INSERT INTO browser_sessions (token_digest, kind, csrf_token, subject_id,
    awaiting_second_factor, certificate_serial, certificate_not_after, created_at,
    last_seen_at, authenticated_at)
SELECT token_digest, 'resident', csrf_token, resident_id, FALSE, certificate_serial,
    certificate_not_after, created_at, last_seen_at, authenticated_at
FROM portal_sessions
"""
# The back office did not record when a login happened; the session's start will do.
COPY_STAFF = """
INSERT INTO browser_sessions (token_digest, kind, csrf_token, subject_id,
    awaiting_second_factor, created_at, last_seen_at, authenticated_at)
SELECT token_digest, 'staff', csrf_token, staff_id,
    CASE WHEN staff_id IS NOT NULL AND NOT mfa_passed THEN TRUE ELSE FALSE END,
    created_at, last_seen_at, CASE WHEN staff_id IS NOT NULL THEN created_at END
FROM office_sessions
"""
COPY_RESIDENTS_BACK = """
INSERT INTO portal_sessions (token_digest, csrf_token, resident_id, certificate_serial,
    certificate_not_after, created_at, last_seen_at, authenticated_at)
SELECT token_digest, csrf_token, subject_id, certificate_serial, certificate_not_after,
    created_at, last_seen_at, authenticated_at
FROM browser_sessions WHERE kind = 'resident'
"""
COPY_STAFF_BACK = """
INSERT INTO office_sessions (token_digest, csrf_token, staff_id, mfa_passed, created_at,
    last_seen_at)
SELECT token_digest, csrf_token, subject_id,
    CASE WHEN subject_id IS NOT NULL AND NOT awaiting_second_factor THEN TRUE ELSE FALSE END,
    created_at, last_seen_at
FROM browser_sessions WHERE kind = 'staff'
"""


def upgrade() -> None:
    op.create_table(
        "browser_sessions",
        *tables.strings(token_digest=64, kind=16, csrf_token=64),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("awaiting_second_factor", sa.Boolean(), nullable=False),
        sa.Column("certificate_serial", sa.String(length=64), nullable=True),
        sa.Column("certificate_not_after", tables.MOMENT, nullable=True),
        *tables.columns(tables.MOMENT, "created_at", "last_seen_at"),
        sa.Column("authenticated_at", tables.MOMENT, nullable=True),
        tables.primary_key("browser_sessions", "token_digest"),
    )
    tables.create_indexes("browser_sessions", "subject_id")
    op.execute(COPY_RESIDENTS)
    op.execute(COPY_STAFF)
    tables.drop_indexes("office_sessions", "staff_id")
    op.drop_table("office_sessions")
    tables.drop_indexes("portal_sessions", "resident_id")
    op.drop_table("portal_sessions")


def downgrade() -> None:
    tables.create_portal_sessions()
    tables.create_office_sessions()
    op.execute(COPY_RESIDENTS_BACK)
    op.execute(COPY_STAFF_BACK)
    tables.drop_indexes("browser_sessions", "subject_id")
    op.drop_table("browser_sessions")
