"""Agencies' signing credentials in embedded mode (one database holds every agency).

Each agency's P-256 key is generated once, certified by the government CA and kept
as encrypted PKCS#8 whose passphrase is derived from ``MYNA_SECRET_KEY`` with HKDF
(RFC 5869); in distributed mode an agency node loads its own key file instead. With
``MYNA_MESSAGE_SIGNATURES=hybrid`` each also gets an ML-DSA-65 key, certified by the
post-quantum government CA and kept the same way (ADR 0010).
"""

from __future__ import annotations

from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna import jpki
from myna.network.messages import Credential, PqCredential
from myna.network.models import AgencyCredential
from myna.platform.db import utcnow
from myna.platform.settings import Settings


def _passphrase(settings: Settings, code: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"myna-agency-key:" + code.encode()
    ).derive(settings.secret_key.get_secret_value().encode())


CACHE_KEY = "myna.network.credentials"
CredentialCache = dict[tuple[str, bytes, bytes | None], Credential]

_CREDENTIALS = cast(Table, AgencyCredential.__table__)
# What keys the cache: the certificates, read with a Core select compiled once (not the
# ORM row with its encrypted keys, which only a credential not yet decrypted needs).
_CERTIFICATES = select(_CREDENTIALS.c.certificate_der, _CREDENTIALS.c.pq_certificate_der).where(
    _CREDENTIALS.c.agency_code == bindparam("code")
)


def new_cache() -> CredentialCache:
    """A fresh cache of decrypted credentials for one composition root."""
    return {}


def _cache_of(session: Session) -> CredentialCache:
    # Decrypting PKCS#8 runs PBKDF2: kept, since the same agencies sign all day. The
    # cache comes with the session from the composition root's factory (a bare session
    # gets its own); the certificates' bytes are in the key, so a new one is never
    # answered with an old key.
    cache = session.info.get(CACHE_KEY)
    if not isinstance(cache, dict):
        cache = session.info[CACHE_KEY] = new_cache()
    return cache


def _decoded(session: Session, row: AgencyCredential, passphrase: bytes) -> Credential:
    cache = _cache_of(session)
    entry = (row.agency_code, row.certificate_der, row.pq_certificate_der)
    found = cache.get(entry)
    if found is None:
        found = cache[entry] = _decode(row, passphrase)
    return found


def _known(session: Session, settings: Settings, code: str) -> Credential | None:
    """The decrypted credential of the row the database holds now, if decrypted before
    (and, under hybrid signatures, with its ML-DSA-65 key)."""
    found = session.execute(_CERTIFICATES, {"code": code}).one_or_none()
    if found is None:
        return None
    certificate, pq_certificate = found
    if settings.message_signatures == "hybrid" and pq_certificate is None:
        return None
    return _cache_of(session).get((code, certificate, pq_certificate))


def _decode(row: AgencyCredential, passphrase: bytes) -> Credential:
    code = row.agency_code
    key = serialization.load_pem_private_key(row.private_key_pem.encode(), password=passphrase)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        msg = f"the stored key of {code} is not an EC key"
        raise TypeError(msg)
    pq = None
    if row.pq_certificate_der is not None and row.pq_private_key_pem is not None:
        pq_key = serialization.load_pem_private_key(
            row.pq_private_key_pem.encode(), password=passphrase
        )
        if not isinstance(pq_key, mldsa.MLDSA65PrivateKey):
            msg = f"the stored post-quantum key of {code} is not an ML-DSA-65 key"
            raise TypeError(msg)
        pq = PqCredential(x509.load_der_x509_certificate(row.pq_certificate_der), pq_key)
    certificate = x509.load_der_x509_certificate(row.certificate_der)
    return Credential(code=code, certificate=certificate, private_key=key, pq=pq)


def credential_for(
    *, session: Session, settings: Settings, code: str, name: str | None = None
) -> Credential:
    """The agency's credential, created (key + government-CA certificate) on first use.

    Under ``MYNA_MESSAGE_SIGNATURES=hybrid`` a credential without an ML-DSA-65 key (made
    before) gets one, certified by the post-quantum government CA, on its next use.
    """
    known = _known(session, settings, code)
    if known is not None:
        return known
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
    if settings.message_signatures == "hybrid" and row.pq_certificate_der is None:
        with session.begin_nested():
            locked = session.get(
                AgencyCredential, code, with_for_update=True, populate_existing=True
            )
            if locked is not None and locked.pq_certificate_der is None:
                _add_pq(session, settings, locked, name, passphrase)
            row = locked or row
    return _decoded(session, row, passphrase)


def _add_pq(
    session: Session,
    settings: Settings,
    row: AgencyCredential,
    name: str | None,
    passphrase: bytes,
) -> None:
    # The same organisation name as its ES256 certificate.
    classic = x509.load_der_x509_certificate(row.certificate_der)
    names = classic.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    key = mldsa.MLDSA65PrivateKey.generate()
    certificate = jpki.issue_organization_certificate(
        session=session,
        settings=settings,
        organization_code=row.agency_code,
        organization_name=str(names[0].value) if names else name or row.agency_code,
        public_key=key.public_key(),
    )
    row.pq_certificate_der = certificate.public_bytes(serialization.Encoding.DER)
    row.pq_private_key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    ).decode()
    session.flush()


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
