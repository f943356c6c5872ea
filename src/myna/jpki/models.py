"""JPKI tables: the CAs, every certificate they issued, re-issues, verifiers and consents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime, utcnow

__all__ = [
    "Base",
    "CertificateAuthority",
    "IssuedCertificate",
    "LatestInfoConsent",
    "SigningSuccession",
    "Verifier",
    "VerifierUsage",
]

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class CertificateAuthority(Base):
    """A CA (root, signing or user-authentication) with its key encrypted at rest.

    ``private_key`` is PKCS#8 ``EncryptedPrivateKeyInfo`` DER (RFC 5958 §3; PBES2 with
    PBKDF2-HMAC-SHA256 and AES-256-CBC) under ``settings.ca_secret``.
    ``crl_revision`` moves on every revocation under this CA, so every process can tell
    that its cached CRL is stale; ``next_crl_number`` keeps RFC 5280 §5.2.3 CRL numbers
    increasing across processes.
    """

    __tablename__ = "jpki_authorities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    certificate: Mapped[bytes] = mapped_column(LargeBinary)
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    next_crl_number: Mapped[int] = mapped_column(Integer, default=1)
    crl_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IssuedCertificate(Base):
    """One issued certificate: written to a card, or given to an organisation.

    A card certificate has ``holder_id`` (the registry's opaque resident id) and
    ``card_id``; an organisation certificate (kind ``organization``) has
    ``organization_code`` (the agency's code, also its subject CN) and neither of the two.
    """

    __tablename__ = "jpki_certificates"
    __table_args__ = (Index("ix_jpki_certificates_authority_id_status", "authority_id", "status"),)

    # 40 lowercase hex digits: a 159-bit serial fits, and text sorts and compares alike
    # on every backend (no 160-bit integer type exists in SQL).
    serial: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    authority_id: Mapped[int] = mapped_column(ForeignKey("jpki_authorities.id"))
    holder_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    card_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    organization_code: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    subject_cn: Mapped[str] = mapped_column(String(64))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    certificate: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="valid")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # RFC 5280 §5.3.2: when the key is known or suspected to have become invalid.
    invalidity_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Verifier(Base):
    """A business registered to check card certificates (署名検証者 / 利用者証明検証者).

    ``kind`` is what it was approved for (``signature``, ``authentication``, ``both``);
    ``platform_code`` names the platform operator (プラットフォーム事業者) a service provider
    works under, itself a verifier. ``organization_code`` (``jv-<code>``) is the subject of
    its certificate from the government CA, with which it signs its requests.
    """

    __tablename__ = "jpki_verifiers"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    platform_code: Mapped[str | None] = mapped_column(
        ForeignKey("jpki_verifiers.code"), index=True, nullable=True
    )
    organization_code: Mapped[str] = mapped_column(String(64), unique=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class VerifierUsage(Base):
    """One answered request of a verifier, as billed: written in the request's transaction.

    ``items`` is how many statuses (or CRLs) it is billed for, at ``unit_price_yen`` each
    as the tariff stood when it was answered; ``month`` is the month in Japan (YYYY-MM)
    whose statement it goes on.
    """

    __tablename__ = "jpki_verifier_usage"
    __table_args__ = (
        Index("ix_jpki_verifier_usage_verifier_code_month", "verifier_code", "month"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    verifier_code: Mapped[str] = mapped_column(ForeignKey("jpki_verifiers.code"))
    month: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str] = mapped_column(String(64))
    items: Mapped[int] = mapped_column(Integer)
    unit_price_yen: Mapped[int] = mapped_column(Integer)
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SigningSuccession(Base):
    """A signing certificate re-issued onto the same card: the old serial → the new one.

    Written when the municipality's counter re-issues the signing certificate after a
    change of the basic 4 info (署名用電子証明書の再発行); 最新4情報提供 follows these links
    from a serial a verifier once verified to the newest certificate.
    """

    __tablename__ = "jpki_signing_successions"

    serial: Mapped[str] = mapped_column(ForeignKey("jpki_certificates.serial"), primary_key=True)
    successor_serial: Mapped[str] = mapped_column(
        ForeignKey("jpki_certificates.serial"), unique=True
    )
    card_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class LatestInfoConsent(Base):
    """A resident's consent, signed with the card, that a verifier may get their latest 4 info.

    ``holder_id`` is the registry's opaque resident id (as on the certificates);
    ``certificate_serial`` the signing certificate that signed ``statement``
    (the canonical bytes, :mod:`myna.jpki.consent_statement`) into ``signature`` (CMS DER).
    ``consent_ref`` is the verifier's consent-id, unique per verifier. A withdrawn consent
    (``withdrawn_at``) is kept, and no longer lets the 4 info go out.
    """

    __tablename__ = "jpki_latest_info_consents"
    __table_args__ = (
        UniqueConstraint("verifier_code", "consent_ref"),
        Index("ix_jpki_latest_info_consents_holder_verifier", "holder_id", "verifier_code"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    verifier_code: Mapped[str] = mapped_column(ForeignKey("jpki_verifiers.code"))
    consent_ref: Mapped[str] = mapped_column(String(64))
    holder_id: Mapped[int] = mapped_column(Integer)
    certificate_serial: Mapped[str] = mapped_column(ForeignKey("jpki_certificates.serial"))
    purpose: Mapped[str] = mapped_column(String(200))
    statement: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
