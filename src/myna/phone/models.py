"""The phone credential's table: one row per issuance, the phone it lives on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class PhoneCredential(Base):
    """A phone credential (スマホ用電子証明書), from its issuance to its revocation.

    Issued from the card ``card_id`` to ``resident_id`` (the registry's opaque id);
    the phone's two public keys (SubjectPublicKeyInfo DER) and the serials of the two
    certificates JPKI issued for them (40 hex digits, as JPKI keeps them). The WebAuthn
    credential unlocks the keys: its id, its COSE public key and the last signature
    counter seen (WebAuthn L3 §6.1.1). ``nonce`` is the issuance's proof-of-possession and
    registration challenge, ``signing_request_id`` the card's signature it waits for.
    """

    __tablename__ = "phone_credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    card_id: Mapped[str] = mapped_column(String(64), index=True)
    login_serial: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sign_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    auth_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    unlock_credential_id: Mapped[str | None] = mapped_column(String(1400), index=True)
    unlock_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    unlock_sign_count: Mapped[int] = mapped_column(Integer, default=0)
    signing_request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    sign_serial: Mapped[str | None] = mapped_column(String(40), index=True)
    auth_serial: Mapped[str | None] = mapped_column(String(40), index=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(String(32))
