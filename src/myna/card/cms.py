"""A detached CMS SignedData whose one signature comes from a card (RFC 5652 §5).

``cryptography`` builds SignedData only with a private key in hand; a card keeps its key
and signs what it is given. This builds the same structure around any signing function:
SHA-256, signed attributes (content type, signing time, message digest, §11), an
RSASSA-PKCS1-v1_5 signature over their DER as a SET OF (§5.4), the signer identified by
issuer and serial number and its certificate included — what ``VirtualCardSession``
produces, and what ``myna.jpki.cms`` and ``openssl cms -verify`` accept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from asn1crypto import algos as asn1_algos
from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding


def detached_signed_data(
    content: bytes,
    certificate: x509.Certificate,
    sign: Callable[[bytes], bytes],
    *,
    signing_time: datetime | None = None,
) -> bytes:
    """The DER ContentInfo of a detached SignedData over ``content``, signed by ``sign``.

    ``sign`` takes the bytes to sign and returns an RSASSA-PKCS1-v1_5 / SHA-256
    signature made with ``certificate``'s key (a card session's ``sign``).
    """
    signer = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    moment = (signing_time or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    # DER orders a SET OF by encoding (X.690 §11.6): these three sort as written.
    attributes = asn1_cms.CMSAttributes(
        [
            asn1_cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            asn1_cms.CMSAttribute(
                {"type": "signing_time", "values": [asn1_cms.Time({"utc_time": moment})]}
            ),
            asn1_cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.sha256(content).digest()]}
            ),
        ]
    )
    sha256 = asn1_algos.DigestAlgorithm({"algorithm": "sha256"})
    signer_info = asn1_cms.SignerInfo(
        {
            "version": "v1",
            "sid": asn1_cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": asn1_cms.IssuerAndSerialNumber(
                        {"issuer": signer.issuer, "serial_number": signer.serial_number}
                    )
                }
            ),
            "digest_algorithm": sha256,
            "signed_attrs": attributes,
            "signature_algorithm": asn1_algos.SignedDigestAlgorithm(
                {"algorithm": "rsassa_pkcs1v15"}
            ),
            "signature": sign(attributes.dump()),
        }
    )
    signed_data = asn1_cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [sha256],
            "encap_content_info": {"content_type": "data"},
            "certificates": [signer],
            "signer_infos": [signer_info],
        }
    )
    return bytes(
        asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    )
