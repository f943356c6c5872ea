"""The keys that sign certificates: one per municipality, and Myna's time-stamping authority.

Each municipality's certificate-issuing role (証明書発行) gets a P-256 key on first use,
certified by Myna's government CA for document signing (id-kp-documentSigning, RFC
9336); the time-stamping authority gets an RSA-2048 key certified for id-kp-timeStamping
(RFC 3161 §2.3). Keys are kept as encrypted PKCS#8 whose passphrase is derived from
``MYNA_SECRET_KEY`` with HKDF (RFC 5869), as the agencies' credentials are. Signatures
embed revocation data gathered in-process: the CRLs of the government CA and the root,
and OCSP answers for the two end-entity certificates (RFC 6960).

The keys are decrypted once per process and the signing material — keys, chain, CRLs
and OCSP answers, converted for pyHanko — is gathered once and reused while fresh: for
:data:`REVOCATION_REFRESH`, and only while the CAs' CRLs are the ones it was gathered
with (a revocation publishes a new CRL, so the next signature gathers again and a
revoked key signs nothing more).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509 import ocsp
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna import jpki
from myna.certificates.models import CertificateSigner
from myna.certificates.pades import PreparedSigning, SigningMaterial
from myna.platform.db import utcnow
from myna.platform.settings import Settings

TSA_CODE = "myna-tsa"
TSA_NAME = "Myna Time-Stamping Authority"
CACHE_KEY = "myna.certificates.signers"
# Signing material older than this is gathered again (CRLs and OCSP answers last longer).
REVOCATION_REFRESH = timedelta(minutes=10)

SignerKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def signer_code(municipality_code: str) -> str:
    """The organisation code of a municipality's certificate-issuing role."""
    return f"certificates-{municipality_code}"


def _passphrase(settings: Settings, code: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"myna-certificate-signer:" + code.encode(),
    ).derive(settings.secret_key.get_secret_value().encode())


class SignerCache:
    """Decrypted signing keys and prepared signing material, shared by one process's threads.

    Keys are keyed by the stored certificate, material by the certificates and CRLs it
    was gathered with: a key replaced, a database reset or a revocation can never be
    served from a stale entry.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, bytes], tuple[x509.Certificate, SignerKey]] = {}
        self._prepared: dict[tuple[bytes, ...], tuple[datetime, PreparedSigning]] = {}

    def key(self, code: str, certificate_der: bytes) -> tuple[x509.Certificate, SignerKey] | None:
        """The loaded certificate and key of ``code``, if this process loaded them."""
        with self._lock:
            return self._keys.get((code, certificate_der))

    def keep_key(
        self, code: str, certificate_der: bytes, loaded: tuple[x509.Certificate, SignerKey]
    ) -> None:
        """Remember a decrypted key (one per signer code: a replaced key drops the old)."""
        with self._lock:
            for entry in [e for e in self._keys if e[0] == code]:
                del self._keys[entry]
            self._keys[(code, certificate_der)] = loaded

    def prepared(self, basis: tuple[bytes, ...], now: datetime) -> PreparedSigning | None:
        """Material gathered on ``basis`` less than :data:`REVOCATION_REFRESH` ago."""
        with self._lock:
            found = self._prepared.get(basis)
        if found is None or found[0] <= now - REVOCATION_REFRESH:
            return None
        return found[1]

    def keep_prepared(
        self, basis: tuple[bytes, ...], now: datetime, prepared: PreparedSigning
    ) -> None:
        """Remember material gathered on ``basis``; what is stale goes."""
        with self._lock:
            for entry, (at, _) in list(self._prepared.items()):
                if at <= now - REVOCATION_REFRESH or entry[0] == basis[0]:
                    del self._prepared[entry]
            self._prepared[basis] = (now, prepared)


def new_cache() -> SignerCache:
    """An empty cache for one composition root (``bootstrap.session_caches``)."""
    return SignerCache()


def _cache(session: Session) -> SignerCache:
    """The process's cache, handed over by the composition root with each session.

    A session made without one (a bare ``Session``) gets its own: nothing is shared
    through a module global.
    """
    cache = session.info.get(CACHE_KEY)
    if not isinstance(cache, SignerCache):
        cache = session.info[CACHE_KEY] = SignerCache()
    return cache


def _create(
    session: Session, settings: Settings, code: str, name: str, *, tsa: bool
) -> CertificateSigner:
    key: SignerKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if tsa
        else ec.generate_private_key(ec.SECP256R1())
    )
    certificate = jpki.issue_organization_certificate(
        session=session,
        settings=settings,
        organization_code=code,
        organization_name=name,
        public_key=key.public_key(),
        purpose=jpki.OrganizationPurpose.TIMESTAMPS if tsa else jpki.OrganizationPurpose.DOCUMENTS,
    )
    row = CertificateSigner(
        code=code,
        certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_passphrase(settings, code)),
        ).decode(),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def _signer(
    session: Session, settings: Settings, code: str, name: str, *, tsa: bool
) -> tuple[x509.Certificate, SignerKey]:
    row = session.get(CertificateSigner, code)
    if row is None:
        try:
            with session.begin_nested():
                row = _create(session, settings, code, name, tsa=tsa)
        except IntegrityError:
            row = session.get(CertificateSigner, code, populate_existing=True)
            if row is None:  # pragma: no cover - the primary key said it exists
                raise
    cache = _cache(session)
    found = cache.key(code, row.certificate_der)
    if found is not None:
        return found
    loaded = serialization.load_pem_private_key(
        row.private_key_pem.encode(), password=_passphrase(settings, code)
    )
    if not isinstance(loaded, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        msg = f"the stored key of {code} is neither EC nor RSA"
        raise TypeError(msg)
    pair = (x509.load_der_x509_certificate(row.certificate_der), loaded)
    cache.keep_key(code, row.certificate_der, pair)
    return pair


def _ocsp(
    session: Session, settings: Settings, certificate: x509.Certificate, issuer: x509.Certificate
) -> bytes:
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, issuer, hashes.SHA256())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    return jpki.ocsp_response(session=session, settings=settings, request_der=request)


def material_for(
    *, session: Session, settings: Settings, municipality_code: str, municipality_name: str
) -> PreparedSigning:
    """Keys, chain and current revocation data to sign a certificate of the municipality.

    Reused from the process's cache while fresh (see the module docstring); otherwise
    gathered — OCSP answers made, CRLs read — and converted for pyHanko once.
    """
    code = signer_code(municipality_code)
    signer_certificate, signer_key = _signer(session, settings, code, municipality_name, tsa=False)
    tsa_certificate, tsa_key = _signer(session, settings, TSA_CODE, TSA_NAME, tsa=True)
    if not isinstance(signer_key, ec.EllipticCurvePrivateKey) or not isinstance(
        tsa_key, rsa.RSAPrivateKey
    ):
        msg = "the signing keys are not of their kinds"
        raise TypeError(msg)
    gov_der = jpki.ca_certificate(session=session, kind=jpki.AuthorityKind.GOVERNMENT)
    root_der = jpki.ca_certificate(session=session, kind=jpki.AuthorityKind.ROOT)
    crls = tuple(
        jpki.current_crl(session=session, settings=settings, kind=kind)
        for kind in (jpki.AuthorityKind.GOVERNMENT, jpki.AuthorityKind.ROOT)
    )
    basis = (
        code.encode(),
        signer_certificate.fingerprint(hashes.SHA256()),
        tsa_certificate.fingerprint(hashes.SHA256()),
        gov_der,
        root_der,
        *crls,
    )
    cache = _cache(session)
    now = utcnow()
    prepared = cache.prepared(basis, now)
    if prepared is not None:
        return prepared
    gov = x509.load_der_x509_certificate(gov_der)
    answers = tuple(_ocsp(session, settings, c, gov) for c in (signer_certificate, tsa_certificate))
    prepared = PreparedSigning.of(
        SigningMaterial(
            signer_certificate=signer_certificate,
            signer_key=signer_key,
            tsa_certificate=tsa_certificate,
            tsa_key=tsa_key,
            intermediates=(gov,),
            root=x509.load_der_x509_certificate(root_der),
            crls=crls,
            ocsp_responses=answers,
        )
    )
    cache.keep_prepared(basis, now, prepared)
    return prepared


def trust_roots(*, session: Session) -> list[x509.Certificate]:
    """The trust anchors a certificate's signature is checked against: Myna's root."""
    return [
        x509.load_der_x509_certificate(
            jpki.ca_certificate(session=session, kind=jpki.AuthorityKind.ROOT)
        )
    ]
