"""Agencies' signing credentials in embedded mode (one database holds every agency).

Each agency's P-256 key is generated once, certified by the government CA and kept
as encrypted PKCS#8 whose passphrase is derived from ``MYNA_SECRET_KEY`` with HKDF
(RFC 5869); in distributed mode an agency node loads its own key file instead.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna import jpki
from myna.network.messages import Credential
from myna.network.models import AgencyCredential
from myna.platform.db import utcnow
from myna.platform.settings import Settings


def _passphrase(settings: Settings, code: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"myna-agency-key:" + code.encode()
    ).derive(settings.secret_key.get_secret_value().encode())


CACHE_KEY = "myna.network.credentials"


def new_cache() -> dict[tuple[str, bytes], Credential]:
    """A fresh cache of decrypted credentials for one composition root."""
    return {}


def _decoded(session: Session, code: str, der: bytes, pem: str, passphrase: bytes) -> Credential:
    # Decrypting PKCS#8 runs PBKDF2: kept, since the same agencies sign all day. The
    # cache comes with the session from the composition root's factory (a bare session
    # gets its own); the certificate's bytes are in the key, so a new one is never
    # answered with an old key.
    cache = session.info.get(CACHE_KEY)
    if not isinstance(cache, dict):
        cache = session.info[CACHE_KEY] = new_cache()
    found = cache.get((code, der))
    if found is None:
        found = cache[code, der] = _decode(code, der, pem, passphrase)
    return found


def _decode(code: str, der: bytes, pem: str, passphrase: bytes) -> Credential:
    key = serialization.load_pem_private_key(pem.encode(), password=passphrase)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        msg = f"the stored key of {code} is not an EC key"
        raise TypeError(msg)
    return Credential(code=code, certificate=x509.load_der_x509_certificate(der), private_key=key)


def credential_for(
    *, session: Session, settings: Settings, code: str, name: str | None = None
) -> Credential:
    """The agency's credential, created (key + government-CA certificate) on first use."""
    row = session.get(AgencyCredential, code)
    passphrase = _passphrase(settings, code)
    if row is None:
        try:
            # A savepoint: when a concurrent request made the credential first, its
            # certificate and row stand and this attempt leaves nothing behind.
            with session.begin_nested():
                row = _create(session, settings, code, name, passphrase)
        except IntegrityError:
            row = session.get(AgencyCredential, code, populate_existing=True)
            if row is None:  # pragma: no cover - the unique key said it exists
                raise
    return _decoded(session, code, row.certificate_der, row.private_key_pem, passphrase)


def _create(
    session: Session, settings: Settings, code: str, name: str | None, passphrase: bytes
) -> AgencyCredential:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = jpki.issue_organization_certificate(
        session=session,
        settings=settings,
        organization_code=code,
        organization_name=name or code,
        public_key=key.public_key(),
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    ).decode()
    row = AgencyCredential(
        agency_code=code,
        certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        private_key_pem=pem,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row
