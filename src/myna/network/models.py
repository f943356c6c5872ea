"""Hub tables: link codes (the only place besides the registry with MyNumbers), agency
credentials held in embedded mode, and request ids seen (replay protection)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class LinkCode(Base):
    """情報提供用個人識別符号: one random code per (person, agency)."""

    __tablename__ = "network_link_codes"
    __table_args__ = (
        UniqueConstraint("my_number", "agency_code", name="uq_network_link_codes_person_agency"),
        Index("ix_network_link_codes_agency_link", "agency_code", "link_code", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    my_number: Mapped[str] = mapped_column(String(12))
    agency_code: Mapped[str] = mapped_column(String(64))
    link_code: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgencyCredential(Base):
    """An agency's signing key and certificate, kept here in embedded mode only.

    In distributed mode each agency node keeps its own key; the hub then holds none.
    The ML-DSA-65 key and its certificate from the post-quantum government CA are made
    when ``MYNA_MESSAGE_SIGNATURES`` is ``hybrid`` (ADR 0010).
    """

    __tablename__ = "network_agency_credentials"

    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    private_key_pem: Mapped[str] = mapped_column(Text)
    pq_certificate_der: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    pq_private_key_pem: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SeenRequest(Base):
    """Request ids the hub has accepted: the same id twice is a replay."""

    __tablename__ = "network_seen_requests"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    requester: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class DeliveredCorrection(Base):
    """A correction request the hub delivered: only its holder may answer it, once.

    ``subject`` is the person's opaque id as in the exchange log (never a MyNumber).
    """

    __tablename__ = "network_corrections"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    requester: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
