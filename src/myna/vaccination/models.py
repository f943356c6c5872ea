"""The municipalities' certificate-signing keys (接種証明書の署名鍵).

Each municipality signs its vaccination certificates with a P-256 key of its own,
certified by the government CA under the organisation code ``vax-<municipality code>``
(so it signs no hub message, and no hub key signs a certificate). The private key is
kept as encrypted PKCS#8, its passphrase derived from ``MYNA_SECRET_KEY`` (HKDF, RFC
5869). A new key replaces one that is revoked or near its end; old ones stay so that
certificates they signed keep verifying while their certificate is good.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class VaccinationSigner(Base):
    """One signing key of a municipality's vaccination certificates and its certificate."""

    __tablename__ = "vaccination_signers"
    __table_args__ = (
        Index("ix_vaccination_signers_municipality", "municipality_code", "created_at"),
        Index("ix_vaccination_signers_kid", "kid", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    kid: Mapped[str] = mapped_column(String(64))  # RFC 7638 thumbprint of the public key
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
