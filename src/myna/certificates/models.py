"""Tables of the certificates context: issued certificates and the signing keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class CertificateSigner(Base):
    """A municipality's document-signing key (or the TSA's), kept as encrypted PKCS#8."""

    __tablename__ = "certificate_signers"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CertificateIssuance(Base):
    """One certificate issued: its number, form, door and the signature that names it.

    No personal data beyond the applicant's registry id: the PDF itself is not kept.
    """

    __tablename__ = "certificate_issuances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    municipality_code: Mapped[str] = mapped_column(String(6))
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    door: Mapped[str] = mapped_column(String(16))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    fee: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_digest: Mapped[str] = mapped_column(String(64), unique=True)
    signer_serial: Mapped[str] = mapped_column(String(40))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class KioskSession(Base):
    """A session at a certificate kiosk: the challenge the card signs, then whose card it was.

    Opened when a copier's user chooses 証明書交付; identified once, by the card's
    user-authentication signature over the kiosk's message; ended when the card is taken
    out or the session expires. Nothing personal beyond the registry id.
    """

    __tablename__ = "certificate_kiosk_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resident_id: Mapped[int | None] = mapped_column(Integer, default=None)
    certificate_serial: Mapped[str | None] = mapped_column(String(40), default=None)
    identified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
