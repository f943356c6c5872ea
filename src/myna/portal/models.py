"""Portal tables: the authentication audit (the challenges are ``myna.cardlogin``'s)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class AuthEvent(Base):
    """The authentication audit trail, written in the same transaction as the event."""

    __tablename__ = "auth_events"
    __table_args__ = (Index("ix_auth_events_resident_at", "resident_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    resident_id: Mapped[int | None] = mapped_column(Integer)
    certificate_serial: Mapped[str | None] = mapped_column(String(64))
    challenge_id: Mapped[str | None] = mapped_column(String(32))
    client_ip: Mapped[str | None] = mapped_column(String(64))
