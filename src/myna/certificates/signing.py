"""The keys that sign certificates: one per municipality, and Myna's time-stamping authority.

Each municipality's certificate-issuing role (証明書発行) gets a P-256 key on first use,
certified by Myna's government CA for document signing (id-kp-documentSigning, RFC
9336); the time-stamping authority gets an RSA-2048 key certified for id-kp-timeStamping
(RFC 3161 §2.3). Keys are kept as encrypted PKCS#8 whose passphrase is derived from
``MYNA_SECRET_KEY`` with HKDF (RFC 5869), as the agencies' credentials are. Each
signature gathers fresh revocation data in-process: the CRLs of the government CA and
the root, and OCSP answers for the two end-entity certificates (RFC 6960).
"""

from __future__ import annotations

from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509 import ocsp
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna import jpki
from myna.certificates.models import CertificateSigner
from myna.certificates.pades import SigningMaterial
from myna.platform.db import utcnow
from myna.platform.settings import Settings

TSA_CODE = "myna-tsa"
TSA_NAME = "Myna Time-Stamping Authority"
CACHE_KEY = "myna.certificates.signers"
# Revocation data older than this is gathered again (CRLs and OCSP answers last longer).
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


def _cache(session: Session) -> dict[object, object]:
    cache = session.info.get(CACHE_KEY)
    if not isinstance(cache, dict):
        cache = session.info[CACHE_KEY] = {}
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
    entry = ("key", code, row.certificate_der)
    found = cache.get(entry)
    if isinstance(found, tuple):
        certificate, key = found
        if isinstance(certificate, x509.Certificate) and isinstance(
            key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        ):
            return certificate, key
    loaded = serialization.load_pem_private_key(
        row.private_key_pem.encode(), password=_passphrase(settings, code)
    )
    if not isinstance(loaded, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        msg = f"the stored key of {code} is neither EC nor RSA"
        raise TypeError(msg)
    loaded_certificate = x509.load_der_x509_certificate(row.certificate_der)
    cache[entry] = (loaded_certificate, loaded)
    return loaded_certificate, loaded


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
) -> SigningMaterial:
    """Keys, chain and current revocation data to sign a certificate of the municipality."""
    signer_certificate, signer_key = _signer(
        session, settings, signer_code(municipality_code), municipality_name, tsa=False
    )
    tsa_certificate, tsa_key = _signer(session, settings, TSA_CODE, TSA_NAME, tsa=True)
    if not isinstance(signer_key, ec.EllipticCurvePrivateKey) or not isinstance(
        tsa_key, rsa.RSAPrivateKey
    ):
        msg = "the signing keys are not of their kinds"
        raise TypeError(msg)
    gov = x509.load_der_x509_certificate(
        jpki.ca_certificate(session=session, kind=jpki.AuthorityKind.GOVERNMENT)
    )
    root = x509.load_der_x509_certificate(
        jpki.ca_certificate(session=session, kind=jpki.AuthorityKind.ROOT)
    )
    cache = _cache(session)
    revocation_key = ("revocation", signer_certificate.serial_number, gov.serial_number)
    cached = cache.get(revocation_key)
    now = utcnow()
    if not (isinstance(cached, tuple) and cached[0] > now - REVOCATION_REFRESH):
        crls = tuple(
            jpki.current_crl(session=session, settings=settings, kind=kind)
            for kind in (jpki.AuthorityKind.GOVERNMENT, jpki.AuthorityKind.ROOT)
        )
        answers = tuple(
            _ocsp(session, settings, c, gov) for c in (signer_certificate, tsa_certificate)
        )
        cached = cache[revocation_key] = (now, crls, answers)
    _at, crls, answers = cached
    return SigningMaterial(
        signer_certificate=signer_certificate,
        signer_key=signer_key,
        tsa_certificate=tsa_certificate,
        tsa_key=tsa_key,
        intermediates=(gov,),
        root=root,
        crls=crls,
        ocsp_responses=answers,
    )


def trust_roots(*, session: Session) -> list[x509.Certificate]:
    """The trust anchors a certificate's signature is checked against: Myna's root."""
    return [
        x509.load_der_x509_certificate(
            jpki.ca_certificate(session=session, kind=jpki.AuthorityKind.ROOT)
        )
    ]
