"""CMS signatures and time-stamp tokens assembled from parts encoded once (RFC 5652, RFC 3161).

pyHanko builds every CMS SignedData from asn1crypto values made afresh, and so encodes
the embedded certificates, the signer's identifier and the ESS signing-certificate
attribute again for every signature: two thirds of the time a certificate's signature
took. Those parts are the same for every signature of one set of signing material;
here they are encoded once (:class:`CmsParts`), and each signature encodes only what is
new — the signed attributes, the TSTInfo, the signature values.

asn1crypto encodes every part. The layers that hold the parts together (ContentInfo,
SignedData, SignerInfo and the attribute that carries the time-stamp token) are joined
here as DER type-length-value triples (X.690 §8.1, definite lengths): asn1crypto
re-encodes a whole value, certificates included, whenever one of its definite lengths
happens to end in the byte 0x80 (it takes that for an indefinite length), which made
one signature in a few cost ten times as much. The structures are exactly the ones
pyHanko writes for a PAdES signature and for its in-process time-stamping authority (a
test compares them part by part and checks every signature in them), so the space
pyHanko measures for them and the validators that read them are unchanged.
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

# DER identifier octets (X.690 §8.1.2): universal and context-specific constructed types.
_SEQUENCE, _SET, _OCTET_STRING = 0x30, 0x31, 0x04
_CONTEXT_0, _CONTEXT_1 = 0xA0, 0xA1


def _tlv(tag: int, *contents: bytes) -> bytes:
    """One DER value: identifier, definite length (X.690 §8.1.3), contents."""
    body = b"".join(contents)
    size = len(body)
    if size < 0x80:
        return bytes((tag, size)) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + body


def _retagged(der: bytes, tag: int) -> bytes:
    """``der`` with another identifier (an IMPLICIT tag, X.690 §8.14.3): SET → [0]."""
    return bytes((tag,)) + der[1:]


def _der(value: core.Asn1Value) -> bytes:
    encoded: bytes = value.dump()
    return encoded


# Parts that never change, encoded once.
_SHA256 = _der(algos.DigestAlgorithm({"algorithm": DIGEST}))
_ECDSA_SHA256 = _der(algos.SignedDigestAlgorithm({"algorithm": SIGNER_ALGORITHM}))
_RSA_PKCS1 = _der(algos.SignedDigestAlgorithm({"algorithm": TSA_ALGORITHM}))
_SIGNED_DATA = _der(cms.ContentType("signed_data"))
_DATA = _der(cms.ContentType("data"))
_TST_INFO = _der(cms.ContentType("tst_info"))
_TIME_STAMP_TOKEN = _der(cms.CMSAttributeType("signature_time_stamp_token"))
_V1, _V3 = _der(core.Integer(1)), _der(core.Integer(3))


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
    version: bytes,
    content: bytes,
    certificates: bytes,
    signer_info: bytes,
) -> bytes:
    """ContentInfo { signedData, [0] EXPLICIT SignedData } (RFC 5652 §3, §5.1)."""
    signed_data = _tlv(
        _SEQUENCE,
        version,
        _tlv(_SET, _SHA256),  # digestAlgorithms
        content,  # encapContentInfo
        certificates,  # [0] IMPLICIT CertificateSet, encoded once
        _tlv(_SET, signer_info),  # signerInfos
    )
    return _tlv(_SEQUENCE, _SIGNED_DATA, _tlv(_CONTEXT_0, signed_data))


def _signer_info(
    *, sid: bytes, signed_attrs: bytes, algorithm: bytes, signature: bytes, unsigned: bytes = b""
) -> bytes:
    """SignerInfo v1 (RFC 5652 §5.3), signed attributes as [0], unsigned as [1]."""
    return _tlv(
        _SEQUENCE,
        _V1,
        sid,
        _SHA256,
        _retagged(signed_attrs, _CONTEXT_0),
        algorithm,
        _tlv(_OCTET_STRING, signature),
        unsigned,
    )


def timestamp_token(
    parts: CmsParts,
    key: rsa.RSAPrivateKey,
    *,
    policy: str,
    message_imprint: bytes,
    nonce: int | None,
    at: datetime | None = None,
) -> bytes:
    """An RFC 3161 time-stamp token over ``message_imprint`` (a SHA-256 digest), as DER.

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
    encoded = _der(tsp.TSTInfo(info))
    signed_attrs = _der(
        cms.CMSAttributes(
            [
                _attribute("content_type", "tst_info"),
                _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(when)})),
                cms.CMSAttribute.load(parts.tsa_signing_certificate),
                _attribute("message_digest", _digest(encoded)),
            ]
        )
    )
    return _signed_data(
        version=_V3,  # an encapsulated content of another type than data (RFC 5652 §5.1)
        content=_tlv(_SEQUENCE, _TST_INFO, _tlv(_CONTEXT_0, _tlv(_OCTET_STRING, encoded))),
        certificates=parts.tsa_certificates,
        signer_info=_signer_info(
            sid=parts.tsa_sid,
            signed_attrs=signed_attrs,
            algorithm=_RSA_PKCS1,
            signature=key.sign(signed_attrs, padding.PKCS1v15(), hashes.SHA256()),
        ),
    )


def pades_signature(
    parts: CmsParts,
    key: ec.EllipticCurvePrivateKey,
    *,
    document_digest: bytes,
    tsa_key: rsa.RSAPrivateKey,
    tsa_policy: str,
) -> bytes:
    """A detached CAdES signature for a PDF (ETSI EN 319 142-1 §5.3), time-stamped (B-T).

    Signed attributes content-type, message-digest and signing-certificate-v2 (no
    signing-time: PAdES puts the claimed time in the signature dictionary's /M); the
    signature time-stamp (RFC 3161 over the signature value, ETSI EN 319 122-1 §5.3) as
    the one unsigned attribute. DER, as it goes into the PDF's /Contents.
    """
    signed_attrs = _der(
        cms.CMSAttributes(
            [
                _attribute("content_type", "data"),
                _attribute("message_digest", document_digest),
                cms.CMSAttribute.load(parts.signer_signing_certificate),
            ]
        )
    )
    signature = key.sign(signed_attrs, ec.ECDSA(hashes.SHA256()))
    token = timestamp_token(
        parts,
        tsa_key,
        policy=tsa_policy,
        message_imprint=_digest(signature),
        nonce=secrets.randbits(63),
    )
    unsigned = _tlv(_CONTEXT_1, _tlv(_SEQUENCE, _TIME_STAMP_TOKEN, _tlv(_SET, token)))
    return _signed_data(
        version=_V1,
        content=_tlv(_SEQUENCE, _DATA),  # detached: no eContent
        certificates=parts.signer_certificates,
        signer_info=_signer_info(
            sid=parts.signer_sid,
            signed_attrs=signed_attrs,
            algorithm=_ECDSA_SHA256,
            signature=signature,
            unsigned=unsigned,
        ),
    )
