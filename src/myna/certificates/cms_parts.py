"""CMS signatures and time-stamp tokens assembled from parts encoded once (RFC 5652, RFC 3161).

pyHanko builds every CMS SignedData from asn1crypto values made afresh, and so encodes
the embedded certificates, the signer's identifier and the ESS signing-certificate
attribute again for every signature: two thirds of the time a certificate's signature
took. Those parts are the same for every signature of one set of signing material;
here they are encoded once (:class:`CmsParts`), and each signature encodes only what is
new — the message digest, the time, the serial number and nonce, the signature values.

The structures are exactly the ones pyHanko writes for a PAdES signature and for its
in-process time-stamping authority (a test compares them part by part), so the space
pyHanko measures for them, the validators that read them and the DSS written beside
them are unchanged. asn1crypto still does the encoding; nothing here is hand-written DER.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.general import as_signing_certificate, as_signing_certificate_v2

DIGEST = "sha256"
SIGNER_ALGORITHM = "sha256_ecdsa"  # RFC 5758 §3.2
TSA_ALGORITHM = "rsassa_pkcs1v15"  # RFC 8017 §8.2, with SHA-256


def _attribute(kind: str, value: object) -> cms.CMSAttribute:
    """A CMS attribute with one value (RFC 5652 §5.3)."""
    return cms.CMSAttribute({"type": cms.CMSAttributeType(kind), "values": (value,)})


def _sid(certificate: asn1_x509.Certificate) -> bytes:
    encoded: bytes = cms.SignerIdentifier(
        {
            "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
            )
        }
    ).dump()
    return encoded


def _certificate_set(certificates: list[asn1_x509.Certificate]) -> bytes:
    """SignedData.certificates ([0] IMPLICIT CertificateSet), with duplicates dropped."""
    unique = {c.dump(): c for c in certificates}
    encoded: bytes = cms.CertificateSet(
        [cms.CertificateChoices(name="certificate", value=c) for c in unique.values()],
        implicit=0,
    ).dump()
    return encoded


@dataclass(frozen=True, slots=True)
class CmsParts:
    """What every signature of one signing material shares, encoded (DER) once.

    Bytes only: each signature loads what it needs (asn1crypto parses lazily, so a load
    costs nothing until read), which keeps the parts safe to share between threads.
    """

    signer_sid: bytes  # SignerIdentifier: issuerAndSerialNumber (RFC 5652 §5.3)
    signer_certificates: bytes  # the signer's certificate and its chain, root included
    signer_signing_certificate: bytes  # ESS signing-certificate-v2 (RFC 5035; PAdES §6.3)
    tsa_sid: bytes
    tsa_certificates: bytes  # the TSA's certificate and its chain
    tsa_signing_certificate: bytes  # ESS signing-certificate (RFC 2634 §5.4; RFC 3161 §2.4.2)
    tsa_name: bytes  # TSTInfo.tsa: the TSA's subject as a GeneralName

    @classmethod
    def of(
        cls,
        *,
        signer: asn1_x509.Certificate,
        tsa: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
    ) -> CmsParts:
        """Encode the parts for ``signer`` and ``tsa``, whose issuers ``chain`` holds."""
        return cls(
            signer_sid=_sid(signer),
            signer_certificates=_certificate_set([*chain, signer]),
            signer_signing_certificate=_attribute(
                "signing_certificate_v2", as_signing_certificate_v2(signer, DIGEST)
            ).dump(),
            tsa_sid=_sid(tsa),
            tsa_certificates=_certificate_set([*chain, tsa]),
            tsa_signing_certificate=_attribute(
                "signing_certificate", as_signing_certificate(tsa)
            ).dump(),
            tsa_name=asn1_x509.GeneralName(name="directory_name", value=tsa.subject).dump(),
        )


def _digest(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def _signed_data(
    *,
    version: str,
    content: dict[str, object],
    certificates: bytes,
    signer_info: cms.SignerInfo,
) -> cms.ContentInfo:
    return cms.ContentInfo(
        {
            "content_type": cms.ContentType("signed_data"),
            "content": cms.SignedData(
                {
                    "version": version,
                    "digest_algorithms": cms.DigestAlgorithms(
                        (algos.DigestAlgorithm({"algorithm": DIGEST}),)
                    ),
                    "encap_content_info": content,
                    "certificates": cms.CertificateSet.load(certificates, implicit=0),
                    "signer_infos": cms.SignerInfos((signer_info,)),
                }
            ),
        }
    )


def timestamp_token(
    parts: CmsParts,
    key: rsa.RSAPrivateKey,
    *,
    policy: str,
    message_imprint: bytes,
    nonce: int | None,
    at: datetime | None = None,
) -> cms.ContentInfo:
    """An RFC 3161 time-stamp token over ``message_imprint`` (a SHA-256 digest).

    TSTInfo (§2.4.2) with the policy, a random serial number, the time, the request's
    nonce and the TSA's name; signed attributes content-type, signing-time,
    signing-certificate and message-digest, as pyHanko's in-process TSA writes them.
    """
    when = at or datetime.now(UTC)
    info: dict[str, object] = {
        "version": "v1",
        "policy": tsp.ObjectIdentifier(policy),
        "message_imprint": tsp.MessageImprint(
            {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": DIGEST}),
                "hashed_message": message_imprint,
            }
        ),
        "serial_number": secrets.randbits(63),
        "gen_time": when,
        "tsa": asn1_x509.GeneralName.load(parts.tsa_name),
    }
    if nonce is not None:
        info["nonce"] = nonce
    encoded = tsp.TSTInfo(info).dump()
    signed_attrs = cms.CMSAttributes(
        [
            _attribute("content_type", "tst_info"),
            _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(when)})),
            cms.CMSAttribute.load(parts.tsa_signing_certificate),
            _attribute("message_digest", _digest(encoded)),
        ]
    )
    signature = key.sign(signed_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    return _signed_data(
        version="v3",  # EncapsulatedContentInfo of another type than data (RFC 5652 §5.1)
        content={
            "content_type": cms.ContentType("tst_info"),
            "content": cms.ParsableOctetString(encoded),
        },
        certificates=parts.tsa_certificates,
        signer_info=cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier.load(parts.tsa_sid),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": DIGEST}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": TSA_ALGORITHM}),
                "signature": signature,
            }
        ),
    )


def pades_signature(
    parts: CmsParts,
    key: ec.EllipticCurvePrivateKey,
    *,
    document_digest: bytes,
    tsa_key: rsa.RSAPrivateKey,
    tsa_policy: str,
) -> cms.ContentInfo:
    """A detached CAdES signature for a PDF (ETSI EN 319 142-1 §5.3), time-stamped (B-T).

    Signed attributes content-type, message-digest and signing-certificate-v2 (no
    signing-time: PAdES puts the claimed time in the signature dictionary's /M); the
    signature time-stamp (RFC 3161 over the signature value, ETSI EN 319 122-1 §5.3) as
    the one unsigned attribute.
    """
    signed_attrs = cms.CMSAttributes(
        [
            _attribute("content_type", "data"),
            _attribute("message_digest", document_digest),
            cms.CMSAttribute.load(parts.signer_signing_certificate),
        ]
    )
    signature = key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    token = timestamp_token(
        parts,
        tsa_key,
        policy=tsa_policy,
        message_imprint=_digest(signature),
        nonce=secrets.randbits(63),
    )
    return _signed_data(
        version="v1",
        # SignedData v1 types its content as a ContentInfo (asn1crypto follows RFC 5652 §5.2).
        content={"content_type": cms.ContentType("data")},
        certificates=parts.signer_certificates,
        signer_info=cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier.load(parts.signer_sid),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": DIGEST}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": SIGNER_ALGORITHM}),
                "signature": signature,
                "unsigned_attrs": cms.CMSAttributes(
                    [_attribute("signature_time_stamp_token", token)]
                ),
            }
        ),
    )
