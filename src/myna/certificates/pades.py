"""PAdES signatures on issued certificates, and their validation (ETSI EN 319 142-1).

A certificate's PDF is signed by its municipality's document-signing key with a CAdES
detached signature (SubFilter ETSI.CAdES.detached, §5.3), time-stamped by Myna's
RFC 3161 time-stamping authority (B-T), with the chain, the CRLs and the OCSP answers
that prove it valid stored in the document security store (DSS, §5.4.2: B-LT), and a
document time stamp over all of it (§5.4.3: B-LTA). Whoever holds the Myna root can
check it offline, years later, with any PAdES validator (pyHanko, poppler's pdfsig,
Acrobat).

pyHanko does the PDF and CMS work; this module hands it the keys and the revocation
data (fetched in-process from Myna's JPKI by the caller) and reads its verdict.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import tsp as asn1_tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.ades.report import AdESFailure, AdESPassed
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
from pyhanko.sign.general import CMSStructuralError, SigningError, find_unique_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleCertificateStore, SimpleTrustManager

from myna.platform.errors import N_, MynaError

MD_ALGORITHM = "sha256"
SIGNATURE_FIELD = "MynaCertificateSignature"
TIMESTAMP_FIELD = "MynaDocumentTimestamp"
# What the signer's certificate must allow (RFC 5280 §4.2.1.3, RFC 9336 §3.1).
SIGNER_KEY_USAGE = frozenset({"digital_signature", "non_repudiation"})
EKU_DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"


class NotSignedPdfError(MynaError, code="certificate_pdf_unreadable", status_code=400):
    """Not a PDF, or a PDF without a certificate signature."""

    message = N_(
        "This file is not a certificate issued by Myna: it is not a PDF, or it carries "
        "no signature. Upload the PDF exactly as you received it."
    )


class SignatureInvalidError(MynaError, code="certificate_signature_invalid", status_code=400):
    """The signature does not cover the document as it is: it was changed after signing."""

    message = N_(
        "This certificate has been altered after it was issued: its signature does not "
        "match its content. It is not a valid certificate."
    )


class UnknownSignerError(MynaError, code="certificate_signer_unknown", status_code=400):
    """The signature is intact but no key Myna trusts made it."""

    message = N_(
        "This PDF was not signed by a municipality through Myna: its signer is not "
        "certified by Myna's certificate authority. It is not a valid certificate."
    )


class SigningFailedError(MynaError, code="certificate_signing_failed", status_code=503):
    """The municipality's signature could not be made (its key or CA is unusable)."""

    message = N_("The certificate cannot be issued just now. Please try again later.")


@dataclass(frozen=True, slots=True)
class SigningMaterial:
    """Everything a signature needs: keys, chain, and fresh revocation data (DER)."""

    signer_certificate: x509.Certificate
    signer_key: ec.EllipticCurvePrivateKey
    tsa_certificate: x509.Certificate
    tsa_key: rsa.RSAPrivateKey
    intermediates: tuple[x509.Certificate, ...]  # the government CA
    root: x509.Certificate
    crls: tuple[bytes, ...]
    ocsp_responses: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ValidatedSignature:
    """A PAdES signature that validated: who signed, when, and what it covers."""

    signer_subject: str
    signer_organization: str
    signer_serial: int
    signed_at: datetime  # from the signature time stamp (TSA), else the signing time
    message_digest: str  # hex of the CMS messageDigest: names the issuance
    level: str  # "B-LTA", "B-LT" or "B-T"


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _asn1_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> asn1_keys.PrivateKeyInfo:
    der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    return asn1_keys.PrivateKeyInfo.load(der)


def _validation_context(material: SigningMaterial, at: datetime | None) -> ValidationContext:
    return ValidationContext(
        trust_roots=[_asn1_certificate(material.root)],
        other_certs=[_asn1_certificate(c) for c in material.intermediates],
        crls=[asn1_crl.CertificateList.load(der) for der in material.crls],
        ocsps=[asn1_ocsp.OCSPResponse.load(der) for der in material.ocsp_responses],
        allow_fetching=False,
        revocation_mode="hard-fail",
        moment=at,
    )


def _store(certificates: list[asn1_x509.Certificate]) -> SimpleCertificateStore:
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    store.register_multiple(certificates)
    return store


# Myna's time-stamping policy (RFC 3161 §2.4.2 TSTInfo.policy), under Myna's own arc
# (jpki.domain.MYNA_ARC, a UUID-based OID) beside its certificate policies (.1.x).
TSA_POLICY = "2.25.324120047593859607022947288340813002089.3.1"


class MynaTimeStamper(DummyTimeStamper):
    """Myna's RFC 3161 time-stamping authority, in-process: its key signs each TSTInfo.

    pyHanko's own in-process TSA, with Myna's policy OID in each token (§2.4.2).
    """

    def _build_tst_info(self, message_imprint: Any, dt: datetime, req: Any) -> Any:
        info = super()._build_tst_info(message_imprint, dt, req)
        info["policy"] = asn1_tsp.ObjectIdentifier(TSA_POLICY)
        return info


def sign(pdf: bytes, material: SigningMaterial, *, signer_name: str, location: str) -> bytes:
    """``pdf`` signed at PAdES B-LTA (signature, its time stamp, DSS, document time stamp)."""
    chain = [_asn1_certificate(c) for c in (*material.intermediates, material.root)]
    signer = signers.SimpleSigner(
        signing_cert=_asn1_certificate(material.signer_certificate),
        signing_key=_asn1_key(material.signer_key),
        cert_registry=_store(chain),
    )
    timestamper = MynaTimeStamper(
        tsa_cert=_asn1_certificate(material.tsa_certificate),
        tsa_key=_asn1_key(material.tsa_key),
        certs_to_embed=_store(chain),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm=MD_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        name=signer_name,
        location=location,
        reason="証明書の交付 (certificate issuance)",
        embed_validation_info=True,
        use_pades_lta=True,
        timestamp_field_name=TIMESTAMP_FIELD,
        validation_context=_validation_context(material, None),
        signer_key_usage=set(SIGNER_KEY_USAGE),
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        signed = signers.PdfSigner(metadata, signer=signer, timestamper=timestamper).sign_pdf(
            writer
        )
    except (SigningError, PdfError, ValueError) as exc:
        raise SigningFailedError from exc
    return bytes(signed.getbuffer())


def _reader(pdf: bytes) -> PdfFileReader:
    try:
        return PdfFileReader(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise NotSignedPdfError from exc


def _name_attribute(certificate: asn1_x509.Certificate, name: str) -> str:
    value = certificate.subject.native.get(name, "")
    return value if isinstance(value, str) else ""


def validate(pdf: bytes, *, roots: list[x509.Certificate]) -> ValidatedSignature:
    """Check the certificate signature of ``pdf`` offline, with ``roots`` as trust anchors.

    ETSI EN 319 102-1 §5.6.3 (validation of signatures with long-term availability): the
    revocation data and the proofs of existence come from the document itself (its DSS
    and time stamps), as a verifier years later has them; nothing is fetched. Raises
    :class:`NotSignedPdfError`, :class:`SignatureInvalidError` or
    :class:`UnknownSignerError`.
    """
    reader = _reader(pdf)
    try:
        found = [s for s in reader.embedded_regular_signatures if s.field_name == SIGNATURE_FIELD]
    except (PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NotSignedPdfError from exc
    if len(found) != 1:
        raise NotSignedPdfError
    signature = found[0]
    if not _intact(signature):
        raise SignatureInvalidError
    spec = PdfSignatureValidationSpec(
        signature_validation_spec=SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(
                    trust_roots=[_asn1_certificate(r) for r in roots]
                ),
                revinfo_policy=CertRevTrustPolicy(
                    REQUIRE_REVINFO,
                    freshness=None,
                    freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
                ),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
                certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
            ),
            key_usage_settings=KeyUsageConstraints(
                key_usage=set(SIGNER_KEY_USAGE), extd_key_usage={EKU_DOCUMENT_SIGNING}
            ),
        ),
        diff_policy=DEFAULT_DIFF_POLICY,
    )
    try:
        result = asyncio.run(ades_lta_validation(signature, spec))
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
        raise UnknownSignerError from exc
    status = result.api_status
    if result.ades_subindic is not AdESPassed.OK or status is None:
        if result.ades_subindic in _TAMPERED:
            raise SignatureInvalidError
        raise UnknownSignerError
    if not status.intact or not status.valid:
        raise SignatureInvalidError
    certificate = status.signing_cert
    return ValidatedSignature(
        signer_subject=_name_attribute(certificate, "common_name"),
        signer_organization=_name_attribute(certificate, "organization_name"),
        signer_serial=int(certificate.serial_number),
        signed_at=result.best_signature_time,
        message_digest=_message_digest(signature).hex(),
        level=_level(reader, result.signature_timestamp_status is not None),
    )


# Sub-indications that say the bytes changed, rather than who signed them is unknown.
_TAMPERED = frozenset(
    {AdESFailure.HASH_FAILURE, AdESFailure.SIG_CRYPTO_FAILURE, AdESFailure.FORMAT_FAILURE}
)


def _intact(signature: EmbeddedPdfSignature) -> bool:
    """Whether the signed byte ranges still hash to the signature's messageDigest."""
    try:
        return bool(signature.compute_digest() == _message_digest(signature))
    except (PdfError, ValueError, KeyError, TypeError, CMSStructuralError) as exc:
        raise NotSignedPdfError from exc


def _message_digest(signature: EmbeddedPdfSignature) -> bytes:
    """The CMS messageDigest signed attribute (RFC 5652 §11.2)."""
    value = find_unique_cms_attribute(signature.signer_info["signed_attrs"], "message_digest")
    return bytes(value.native)


def _level(reader: PdfFileReader, timestamped: bool) -> str:
    if not timestamped:
        return "B-B"
    return "B-LTA" if reader.embedded_timestamp_signatures else "B-LT"
