"""PAdES signatures on issued certificates, and their validation (ETSI EN 319 142-1).

A certificate's PDF is signed by its municipality's document-signing key with a CAdES
detached signature (SubFilter ETSI.CAdES.detached, §5.3), time-stamped by Myna's
RFC 3161 time-stamping authority (B-T), with the chain, the CRLs and the OCSP answers
that prove it valid stored in the document security store (DSS, §5.4.2: B-LT), and a
document time stamp over all of it (§5.4.3: B-LTA). Whoever holds the Myna root can
check it offline, years later, with any PAdES validator (pyHanko, poppler's pdfsig,
Acrobat).

pyHanko does the PDF and CMS work; this module hands it the keys and the revocation
data (gathered in-process from Myna's JPKI by the caller, and prepared once for many
signatures: :class:`PreparedSigning`), writes the DSS from them, and reads pyHanko's
verdict when a certificate is verified.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms as asn1_cms
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
from pyhanko.sign.general import (
    CMSStructuralError,
    SigningError,
    find_unique_cms_attribute,
)
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
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
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleCertificateStore, SimpleTrustManager
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from myna.certificates import cms_parts
from myna.certificates.cms_parts import CmsParts
from myna.platform import coroutines
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


def _pkcs8(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())


def _store(certificates: list[asn1_x509.Certificate]) -> SimpleCertificateStore:
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    store.register_multiple(certificates)
    return store


@dataclass(frozen=True, slots=True)
class PreparedSigning:
    """:class:`SigningMaterial` with everything a signature needs already encoded.

    Built once when the material is gathered and reused for every certificate signed
    with it while its revocation data is fresh. It holds DER (and the loaded keys); the
    asn1crypto objects pyHanko works with are read from it once per thread
    (:meth:`objects`), since asn1crypto parses lazily into the object and so its objects
    are not safe to share between threads.
    """

    material: SigningMaterial
    signer_key_der: bytes  # PKCS#8, as pyHanko's signer carries it
    tsa_key_der: bytes
    signer_certificate_der: bytes
    tsa_certificate_der: bytes
    chain_der: tuple[bytes, ...]  # the intermediates, then the root
    # The parts of the CMS structures every signature shares, encoded once.
    cms: CmsParts | None = None
    # The space the signature's and the document time stamp's /Contents get (hex
    # digits), measured once (see ``of``).
    signature_reserved: int = 0
    timestamp_reserved: int = 0
    _per_thread: threading.local = field(default_factory=threading.local, compare=False, repr=False)

    @classmethod
    def of(cls, material: SigningMaterial) -> PreparedSigning:
        """Encode ``material`` once, and measure the space its signatures need."""
        prepared = cls(
            material=material,
            signer_key_der=_pkcs8(material.signer_key),
            tsa_key_der=_pkcs8(material.tsa_key),
            signer_certificate_der=material.signer_certificate.public_bytes(Encoding.DER),
            tsa_certificate_der=material.tsa_certificate.public_bytes(Encoding.DER),
            chain_der=tuple(
                c.public_bytes(Encoding.DER) for c in (*material.intermediates, material.root)
            ),
        )
        objects = prepared.objects()
        prepared = replace(
            prepared,
            cms=CmsParts.of(
                signer=objects.signer_certificate,
                tsa=objects.tsa_certificate,
                chain=list(objects.chain),
            ),
        )
        coroutines.run(_check_certificates(prepared))
        signature, timestamp = coroutines.run(_measure(prepared))
        return replace(prepared, signature_reserved=signature, timestamp_reserved=timestamp)

    def objects(self) -> _Asn1Objects:
        """This thread's asn1crypto objects of the material, read on its first signature."""
        found: _Asn1Objects | None = getattr(self._per_thread, "objects", None)
        if found is None:
            found = self._per_thread.objects = _Asn1Objects.of(self)
        return found

    def validation_context(self) -> ValidationContext:
        """A context of the material alone: its chain, CRLs and OCSP answers, no fetching.

        The signer's and the TSA's certificates are validated with it when the material
        is gathered (:func:`_check_certificates`). A new one each time: pyHanko's
        validator records what it validated in it.
        """
        objects = self.objects()
        return ValidationContext(
            trust_roots=list(objects.chain[-1:]),
            other_certs=list(objects.chain[:-1]),
            crls=list(objects.crls),
            ocsps=list(objects.ocsp_responses),
            allow_fetching=False,
            revocation_mode="hard-fail",
        )


@dataclass(frozen=True, slots=True)
class _Asn1Objects:
    """The material as asn1crypto objects, for the signatures of one thread."""

    signer_certificate: asn1_x509.Certificate
    signer_key: asn1_keys.PrivateKeyInfo
    tsa_certificate: asn1_x509.Certificate
    tsa_key: asn1_keys.PrivateKeyInfo
    chain: tuple[asn1_x509.Certificate, ...]  # the intermediates, then the root
    chain_store: SimpleCertificateStore  # only read by pyHanko's signer
    crls: tuple[asn1_crl.CertificateList, ...]
    ocsp_responses: tuple[asn1_ocsp.OCSPResponse, ...]

    @classmethod
    def of(cls, prepared: PreparedSigning) -> _Asn1Objects:
        chain = tuple(asn1_x509.Certificate.load(der) for der in prepared.chain_der)
        return cls(
            signer_certificate=asn1_x509.Certificate.load(prepared.signer_certificate_der),
            signer_key=asn1_keys.PrivateKeyInfo.load(prepared.signer_key_der),
            tsa_certificate=asn1_x509.Certificate.load(prepared.tsa_certificate_der),
            tsa_key=asn1_keys.PrivateKeyInfo.load(prepared.tsa_key_der),
            chain=chain,
            chain_store=_store(list(chain)),
            crls=tuple(asn1_crl.CertificateList.load(der) for der in prepared.material.crls),
            ocsp_responses=tuple(
                asn1_ocsp.OCSPResponse.load(der) for der in prepared.material.ocsp_responses
            ),
        )


@dataclass(frozen=True, slots=True)
class SignedPdf:
    """A signed certificate and the CMS messageDigest of its signature (hex)."""

    pdf: bytes
    message_digest: str


class _DocumentSigner(signers.SimpleSigner):
    """pyHanko's in-memory signer, signing from the material's keys and encoded parts.

    pyHanko's own :class:`~pyhanko.sign.signers.SimpleSigner` parses its PKCS#8 key
    again for every raw signature and encodes the whole CMS structure afresh. This one
    makes the real signature from the loaded P-256 key and the parts encoded once
    (:func:`cms_parts.pades_signature`, the structure pyHanko writes), leaves pyHanko's
    trial signature (which only sizes the placeholder) to pyHanko, and keeps the
    messageDigest it signed (RFC 5652 §11.2): the digest that names the issuance, known
    without reading the PDF back.
    """

    def __init__(self, prepared: PreparedSigning) -> None:
        objects = prepared.objects()
        super().__init__(
            signing_cert=objects.signer_certificate,
            signing_key=objects.signer_key,
            cert_registry=objects.chain_store,
        )
        self._prepared = prepared
        self.message_digest: bytes | None = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """ECDSA over ``data`` (the DER of the signed attributes)."""
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if mechanism != "ecdsa":
            msg = f"a municipality's key signs with ECDSA, not {mechanism}"
            raise SigningError(msg)
        return self._prepared.material.signer_key.sign(
            data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm))
        )

    async def async_sign(  # type: ignore[override]
        self, data_digest: bytes, digest_algorithm: str, dry_run: bool = False, **kwargs: Any
    ) -> Any:
        """The CMS signature over ``data_digest``, time-stamped; its digest is kept.

        The real one as DER, which pyHanko writes into /Contents as it is.
        """
        parts = self._prepared.cms
        if dry_run or parts is None:
            return await super().async_sign(
                data_digest, digest_algorithm, dry_run=dry_run, **kwargs
            )
        if digest_algorithm != MD_ALGORITHM or not kwargs.get("use_pades"):
            msg = f"certificates are signed as PAdES with {MD_ALGORITHM}"
            raise SigningError(msg)
        self.message_digest = data_digest
        material = self._prepared.material
        return cms_parts.pades_signature(
            parts,
            material.signer_key,
            document_digest=data_digest,
            tsa_key=material.tsa_key,
            tsa_policy=TSA_POLICY,
        )


# Myna's time-stamping policy (RFC 3161 §2.4.2 TSTInfo.policy), under Myna's own arc
# (jpki.domain.MYNA_ARC, a UUID-based OID) beside its certificate policies (.1.x).
TSA_POLICY = "2.25.324120047593859607022947288340813002089.3.1"


class MynaTimeStamper(DummyTimeStamper):
    """Myna's RFC 3161 time-stamping authority, in-process: its key signs each TSTInfo.

    pyHanko's own in-process TSA answers every request; this one answers with a token
    of Myna's policy (§2.4.2) signed by the RSA key loaded once, from the parts encoded
    once (:func:`cms_parts.timestamp_token`, the structure pyHanko writes).
    """

    def __init__(self, prepared: PreparedSigning) -> None:
        objects = prepared.objects()
        super().__init__(
            tsa_cert=objects.tsa_certificate,
            tsa_key=objects.tsa_key,
            certs_to_embed=objects.chain_store,
        )
        self._prepared = prepared

    def request_tsa_response(self, req: asn1_tsp.TimeStampReq) -> asn1_tsp.TimeStampResp:
        """A granted response with a token over the request's imprint (RFC 3161 §2.4.2)."""
        parts = self._prepared.cms
        imprint = req["message_imprint"]
        if parts is None or imprint["hash_algorithm"]["algorithm"].native != MD_ALGORITHM:
            msg = f"Myna's TSA stamps {MD_ALGORITHM} digests"
            raise SigningError(msg)
        token = asn1_cms.ContentInfo.load(
            cms_parts.timestamp_token(
                parts,
                self._prepared.material.tsa_key,
                policy=TSA_POLICY,
                message_imprint=bytes(imprint["hashed_message"].native),
                nonce=req["nonce"].native,
            )
        )
        return asn1_tsp.TimeStampResp(
            {
                "status": asn1_tsp.PKIStatusInfo({"status": asn1_tsp.PKIStatus("granted")}),
                "time_stamp_token": token,
            }
        )


async def _measure(prepared: PreparedSigning) -> tuple[int, int]:
    """How much room the signature and the document time stamp need, as pyHanko sizes them.

    pyHanko makes a trial signature (a CMS with a trial time stamp) before each real one
    to size the /Contents placeholder, and a trial time stamp before a document time
    stamp; the sizes depend only on the keys and the chain, so they are measured once
    here, with the same 50 % margin pyHanko allows. Hex digits, as in the PDF.
    """
    timestamper = MynaTimeStamper(prepared)
    trial = await _DocumentSigner(prepared).async_sign(
        bytes(get_pyca_cryptography_hash(MD_ALGORITHM).digest_size),
        MD_ALGORITHM,
        dry_run=True,
        use_pades=True,
        timestamper=timestamper,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now(UTC)),
    )
    token = await timestamper.async_dummy_response(MD_ALGORITHM)
    sizes = (len(trial.dump()) * 2, len(token.dump()) * 2)
    return (sizes[0] + 2 * (sizes[0] // 4), sizes[1] + 2 * (sizes[1] // 4))


async def _check_certificates(prepared: PreparedSigning) -> None:
    """The signer's and the TSA's certificates valid now, for their use, and not revoked.

    The path to Myna's root, validity, key usage (the signer) and id-kp-timeStamping
    (the TSA), checked against the CRLs and OCSP answers the signatures will carry
    (RFC 5280 §6, in hard-fail mode): once for the material, not for every signature.
    """
    objects = prepared.objects()
    context = prepared.validation_context()
    try:
        await CertificateValidator(
            objects.signer_certificate,
            intermediate_certs=objects.chain_store,
            validation_context=context,
        ).async_validate_usage(set(SIGNER_KEY_USAGE))  # type: ignore[no-untyped-call]
        await CertificateValidator(
            objects.tsa_certificate,
            intermediate_certs=objects.chain_store,
            validation_context=context,
        ).async_validate_usage(set(), {"time_stamping"})  # type: ignore[no-untyped-call]
    except (PathBuildingError, PathValidationError) as exc:
        raise SigningFailedError from exc


def sign(pdf: bytes, prepared: PreparedSigning, *, signer_name: str, location: str) -> SignedPdf:
    """``pdf`` signed at PAdES B-LTA (signature, its time stamp, DSS, document time stamp).

    Two incremental updates, as pyHanko's own B-LTA signing writes them: the signature
    with its time stamp (B-T), then the DSS — the chain, the CRLs and the OCSP answers of
    the material (B-LT) — with the document time stamp over all of it (B-LTA). The
    certificates were validated against exactly that revocation data when the material
    was gathered (:func:`_check_certificates`); only their expiry is checked here.
    """
    material = prepared.material
    now = datetime.now(UTC)
    if any(
        not c.not_valid_before_utc <= now < c.not_valid_after_utc
        for c in (material.signer_certificate, material.tsa_certificate)
    ):
        raise SigningFailedError
    signer = _DocumentSigner(prepared)
    timestamper = MynaTimeStamper(prepared)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm=MD_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        name=signer_name,
        location=location,
        reason="証明書の交付 (certificate issuance)",
    )
    objects = prepared.objects()
    try:
        # pyHanko's synchronous methods call asyncio.run themselves: its coroutines go
        # through coroutines.run, which also works where an event loop is running.
        signed = coroutines.run(
            signers.PdfSigner(metadata, signer=signer, timestamper=timestamper).async_sign_pdf(
                IncrementalPdfFileWriter(io.BytesIO(pdf)),
                bytes_reserved=prepared.signature_reserved,
            )
        )
        writer = IncrementalPdfFileWriter(signed)
        DocumentSecurityStore.supply_dss_in_writer(
            writer,
            None,
            certs=[objects.signer_certificate, objects.tsa_certificate, *objects.chain],
            ocsps=list(objects.ocsp_responses),
            crls=list(objects.crls),
        )
        coroutines.run(
            signers.PdfTimeStamper(timestamper, field_name=TIMESTAMP_FIELD).async_timestamp_pdf(
                writer, MD_ALGORITHM, bytes_reserved=prepared.timestamp_reserved, in_place=True
            )
        )
    except (SigningError, PdfError, ValueError) as exc:
        raise SigningFailedError from exc
    if signer.message_digest is None:  # pragma: no cover - pyHanko signs once, for real
        raise SigningFailedError
    return SignedPdf(pdf=bytes(signed.getbuffer()), message_digest=signer.message_digest.hex())


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
        result = coroutines.run(ades_lta_validation(signature, spec))
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
