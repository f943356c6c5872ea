"""The session table: one row per live browser session, residents' and staff's alike."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class StoredSession(Base):
    """A browser session; the cookie holds a token, this row only its digest.

    ``kind`` says whose it is (``resident`` or ``staff``): a token is looked up with its
    kind, so one kind's cookie opens nothing of the other. ``subject_id`` is empty until
    a login (it then holds the resident's or the staff member's id; before that the row
    only carries the login form's CSRF token). ``awaiting_second_factor`` is true between
    the two steps of a two-step login; only a session with a subject that awaits nothing
    opens pages. ``certificate_*`` describe the certificate a card login rested on.
    """

    __tablename__ = "browser_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    csrf_token: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    awaiting_second_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    certificate_serial: Mapped[str | None] = mapped_column(String(64))
    certificate_not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    authenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Acting for another resident (代理人, docs/proxy.md): whom, on which grant (checked
    # against its live record at every request), their name for the banner, the scopes.
    acting_for_id: Mapped[int | None] = mapped_column(Integer)
    acting_grant: Mapped[str | None] = mapped_column(String(40))
    acting_label: Mapped[str | None] = mapped_column(String(200))
    acting_scopes: Mapped[str | None] = mapped_column(String(64))
