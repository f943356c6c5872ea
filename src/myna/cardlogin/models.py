"""Card login tables: the single-use challenges of every audience."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class LoginChallenge(Base):
    """A single-use card login challenge, bound to the session that asked for it.

    ``audience`` says whose login it is (``cardlogin.Audience``). Once answered it
    keeps the certificate the answer rested on (serial, subject CN, end of validity);
    ``resident_id`` is set for a resident's login only. A refused answer leaves its
    reason in ``failure`` (an error code), so the page that started the challenge can
    say why.
    """

    __tablename__ = "login_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(255))
    session_digest: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(16), server_default="resident")
    # Whom the challenge is for, when its audience needs it (the staff member a card
    # is being registered to).
    subject: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    resident_id: Mapped[int | None] = mapped_column(Integer)
    certificate_serial: Mapped[str | None] = mapped_column(String(64))
    certificate_subject: Mapped[str | None] = mapped_column(String(64))
    certificate_not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
