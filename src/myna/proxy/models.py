"""Proxy tables: appointments (任意代理), the one-time codes that name a proxy, the activity.

Residents are referenced by id only: the registry owns residents (no cross-context
foreign key). Legal representatives (法定代理人) have no table: they are read from the
registry's household each time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class ProxyAppointment(Base):
    """A resident (the principal) appoints another (the proxy) for scopes, until a day.

    ``accepted_at`` is set when the proxy accepts with their own card login;
    ``revoked_at`` when the principal revokes. ``valid_until`` is the last day (in
    Japan) on which the proxy may act.
    """

    __tablename__ = "proxy_appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal_id: Mapped[int] = mapped_column(Integer, index=True)
    proxy_id: Mapped[int] = mapped_column(Integer, index=True)
    scopes: Mapped[str] = mapped_column(String(64))
    valid_until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProxyCode(Base):
    """A one-time code a prospective proxy shows the principal; only its digest is kept."""

    __tablename__ = "proxy_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProxyActivity(Base):
    """What happened under a proxy's authority, written where it happens.

    Beside the exchange log (わたしの情報 by proxy, with its ``actor``) and the
    applications' own records (``proxy_id``), this keeps what neither records: an
    appointment made, accepted or revoked, acting begun and ended, a notice opened.
    """

    __tablename__ = "proxy_activity"
    __table_args__ = (Index("ix_proxy_activity_principal_at", "principal_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    principal_id: Mapped[int] = mapped_column(Integer)
    proxy_id: Mapped[int] = mapped_column(Integer, index=True)
    grant: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(200))
