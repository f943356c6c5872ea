"""Verification of detached CMS signatures made with a card's signing key (署名検証).

A signed e-application carries a CMS SignedData (RFC 5652 §5) with one signer, the
signer's certificate included, SHA-256, signed attributes and an RSASSA-PKCS1-v1_5
signature — what ``openssl cms -sign -binary`` and the card's ``sign_cms`` produce.

``cryptography`` builds such signatures but has no verifier for them, so the structure is
parsed with ``asn1crypto`` (the ASN.1 layer pyHanko and certvalidator stand on) and the
checks below are written out, each after the section of RFC 5652 it applies:

1. the ContentInfo holds SignedData, detached: no encapsulated content (§5.2);
2. exactly one SignerInfo, identified by issuer and serial number, whose certificate
   is in the ``certificates`` field (§5.3, §5.6);
3. digest SHA-256; the signed attributes contain content-type ``id-data`` and a
   message-digest equal to SHA-256 of the content (§5.4, §11.1, §11.2);
4. the signature verifies over the DER of the signed attributes as a SET OF (§5.4);
5. the certificate is a current signing certificate of our CA (:func:`verify_certificate`:
   chain, key usage, validity and revocation now — the signer's claimed signing time
   is reported, not trusted).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy.orm import Session

from myna.jpki.domain import BasicInfo, CertificateKind, VerificationError, VerifiedCertificate
from myna.jpki.service import _check_rsa, read_basic_info, verify_certificate
from myna.platform.settings import Settings

MAX_SIGNATURE_BYTES = 64 * 1024
_RSA_SIGNATURE_ALGORITHMS = frozenset({"rsassa_pkcs1v15", "sha256_rsa"})


@dataclass(frozen=True, slots=True)
class SignedContent:
    """What a verified detached signature tells: who signed, with which certificate, when."""

    certificate: VerifiedCertificate
    certificate_der: bytes
    basic_info: BasicInfo
    signing_time: datetime | None


def _malformed() -> VerificationError:
    return VerificationError("malformed_signature")


def _signer_and_certificate(
    signature: bytes,
) -> tuple[asn1_cms.SignerInfo, bytes]:
    """Steps 1 and 2: the one SignerInfo and the DER of its certificate."""
    if not signature or len(signature) > MAX_SIGNATURE_BYTES:
        raise _malformed()
    try:
        info = asn1_cms.ContentInfo.load(bytes(signature), strict=True)
        if info["content_type"].native != "signed_data":
            raise _malformed()
        signed = info["content"]
        if signed["encap_content_info"]["content"].native is not None:
            raise _malformed()  # attached content: we verify detached signatures only
        signers = list(signed["signer_infos"])
        if len(signers) != 1:
            raise _malformed()
        signer = signers[0]
        sid = signer["sid"]
        if sid.name != "issuer_and_serial_number":
            raise _malformed()
        wanted_issuer = sid.chosen["issuer"].dump()
        wanted_serial = sid.chosen["serial_number"].native
        for choice in signed["certificates"] or []:
            if choice.name != "certificate":
                continue
            tbs = choice.chosen["tbs_certificate"]
            same_issuer = tbs["issuer"].dump() == wanted_issuer
            if tbs["serial_number"].native == wanted_serial and same_issuer:
                return signer, choice.chosen.dump()
    except (ValueError, TypeError, KeyError) as exc:
        raise _malformed() from exc
    raise _malformed()


def _check_attributes(signer: asn1_cms.SignerInfo, content: bytes) -> datetime | None:
    """Step 3: digest algorithm, content type and message digest; the signing time."""
    try:
        if signer["digest_algorithm"]["algorithm"].native != "sha256":
            raise VerificationError("weak_algorithm")
        attributes = signer["signed_attrs"]
        if not attributes:
            raise _malformed()
        values: dict[str, list[object]] = {}
        for attribute in attributes:
            values.setdefault(attribute["type"].native, []).extend(attribute["values"].native)
    except (ValueError, TypeError, KeyError) as exc:
        raise _malformed() from exc
    if values.get("content_type") != ["data"] or len(values.get("message_digest", [])) != 1:
        raise _malformed()
    if values["message_digest"][0] != hashlib.sha256(content).digest():
        raise VerificationError("bad_signature")
    signing_time = values.get("signing_time", [None])[0]
    return signing_time if isinstance(signing_time, datetime) else None


def _check_signature(signer: asn1_cms.SignerInfo, certificate: x509.Certificate) -> None:
    """Step 4: the RSA signature over the signed attributes, re-tagged as SET OF."""
    try:
        algorithm = signer["signature_algorithm"]["algorithm"].native
        signed_attributes = signer["signed_attrs"].untag().dump()
        value = signer["signature"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise _malformed() from exc
    if algorithm not in _RSA_SIGNATURE_ALGORITHMS:
        raise VerificationError("weak_algorithm")
    public_key = _check_rsa(certificate)
    try:
        public_key.verify(value, signed_attributes, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError) as exc:
        raise VerificationError("bad_signature") from exc


def verify_detached_signature(
    *,
    session: Session,
    settings: Settings,
    signature: bytes,
    content: bytes,
    at: datetime | None = None,
) -> SignedContent:
    """Verify a detached CMS signature over ``content`` by a card's signing certificate.

    Each failure is a :class:`VerificationError` with its own code (see the module
    docstring for the order of the checks).
    """
    signer, certificate_der = _signer_and_certificate(signature)
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
    except ValueError as exc:
        raise VerificationError("malformed_certificate") from exc
    signing_time = _check_attributes(signer, content)
    _check_signature(signer, certificate)
    verified = verify_certificate(
        session=session,
        settings=settings,
        certificate=certificate,
        kind=CertificateKind.SIGN,
        at=at,
    )
    return SignedContent(
        certificate=verified,
        certificate_der=certificate_der,
        basic_info=read_basic_info(certificate),
        signing_time=signing_time,
    )
