"""Enveloped XML signatures on 民間送達 documents (XMLDSig 1.1 with signxml).

The sender signs the whole document with an enveloped signature (XML Signature Syntax
and Processing 1.1 §6.6.4), as e-Tax's electronic certificates are signed — but by
Reference URI="" rather than e-Tax's reference to the root's id attribute, so that no
id can be moved around — with RSA-SHA256 or ECDSA-SHA256 (§6.4.2, §6.4.3), SHA-256
digests and its certificate chain in KeyInfo/X509Data (§4.5.4).

:func:`verify` defends against signature wrapping (the reference must cover the whole
document and the signature must sit directly under the root) and reads only what signxml
returns as signed; the certificate is judged by the caller's ``trusted`` callback (the
government CA and revocation: ``jpki.verify_organization_certificate``) and must name the
document's sender.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.exceptions import InvalidCertificate, InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, VerifyResult, XMLVerifier

from myna.delivery.documents import (
    XMLDSIG_NS,
    Document,
    hardened_parser,
    kind_of,
    load_xml,
    parse,
)
from myna.delivery.errors import (
    TamperedDocumentError,
    UnsignedDocumentError,
    UntrustedSignerError,
)
from myna.jpki import organization_urn

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
_ALLOWED_TRANSFORMS = frozenset({ENVELOPED, *(method.value for method in CanonicalizationMethod)})
_MIN_RSA_BITS = 2048

_EXPECTED = SignatureConfiguration(
    require_x509=True,
    location="./",  # directly under the root: an enveloped signature, nowhere else
    expect_references=1,
    signature_methods=frozenset({SignatureMethod.RSA_SHA256, SignatureMethod.ECDSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
)


def _ds(name: str) -> str:
    return f"{{{XMLDSIG_NS}}}{name}"


@dataclass(frozen=True, slots=True)
class VerifiedDocument:
    """A document whose signature, signer and schema were checked, read from what was signed."""

    document: Document
    signer: x509.Certificate
    signed_content: bytes
    """The signed bytes (canonical XML, the signature taken out) the document was read from."""


def _signature_method(key: SigningKey) -> SignatureMethod:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            msg = "organisation keys for ECDSA are P-256"
            raise ValueError(msg)
        return SignatureMethod.ECDSA_SHA256
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < _MIN_RSA_BITS:
            msg = "RSA keys have at least 2048 bits"
            raise ValueError(msg)
        return SignatureMethod.RSA_SHA256
    msg = "the key is neither ECDSA P-256 nor RSA"
    raise TypeError(msg)


def _spki(public_key: Any) -> bytes:
    der: bytes = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return der


def sign(xml: bytes, *, key: SigningKey, certificate_chain: Sequence[x509.Certificate]) -> bytes:
    """Sign a document with an enveloped signature over all of it; the chain goes in KeyInfo.

    ``xml`` must be a valid, unsigned document (see :func:`myna.delivery.parse`);
    ``certificate_chain`` starts with the certificate of ``key``.
    """
    method = _signature_method(key)
    if not certificate_chain:
        msg = "the certificate chain is empty"
        raise ValueError(msg)
    if _spki(certificate_chain[0].public_key()) != _spki(key.public_key()):
        msg = "the first certificate is not the key's"
        raise ValueError(msg)
    parse(xml)  # only valid documents are signed
    root = load_xml(xml)
    if root.find(f".//{_ds('Signature')}") is not None:
        msg = "the document is signed already"
        raise ValueError(msg)
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=C14N,
    )
    # No Id on the root (the schema allows none), so signxml references the whole document: URI="".
    signed = signer.sign(root, key=key, cert=list(certificate_chain))
    data: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return data


def _signer_certificate(signature: Any) -> x509.Certificate:
    """The first certificate in KeyInfo/X509Data: the signer's (the rest is its chain)."""
    found = signature.find(f"{_ds('KeyInfo')}/{_ds('X509Data')}/{_ds('X509Certificate')}")
    if found is None or not (found.text or "").strip():
        raise UnsignedDocumentError
    pem = (
        "-----BEGIN CERTIFICATE-----\n"
        + "".join(found.text.split())
        + "\n-----END CERTIFICATE-----\n"
    )
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError as exc:
        raise TamperedDocumentError from exc


def _check_shape(root: Any) -> Any:
    """The one signature, directly under the root, with one reference to the whole document."""
    signatures = list(root.iter(_ds("Signature")))
    if not signatures:
        raise UnsignedDocumentError
    signature = signatures[0]
    if len(signatures) != 1 or signature.getparent() is not root:
        raise TamperedDocumentError
    references = signature.findall(f"{_ds('SignedInfo')}/{_ds('Reference')}")
    if len(references) != 1 or references[0].get("URI") != "":
        raise TamperedDocumentError
    transforms = [
        transform.get("Algorithm")
        for transform in references[0].findall(f"{_ds('Transforms')}/{_ds('Transform')}")
    ]
    if ENVELOPED not in transforms or not set(transforms) <= _ALLOWED_TRANSFORMS:
        raise TamperedDocumentError
    return signature


def _organizations(certificate: x509.Certificate) -> set[str]:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return set()
    return set(names.value.get_values_for_type(x509.UniformResourceIdentifier))


def verify(xml: bytes, *, trusted: Callable[[x509.Certificate], None]) -> VerifiedDocument:
    """Check a delivered document's signature, signer and schema; read only what was signed.

    In order: safe parsing (size, no DTD or entities); the signature's shape (one enveloped
    signature under the root whose single reference covers the whole document, §6.6.4);
    the signature itself with signxml (RSA-SHA256 or ECDSA-SHA256, SHA-256 digests, the
    KeyInfo certificate's validity); ``trusted(certificate)``, which raises for a
    certificate the caller does not trust (CA, revocation); then the signed content alone
    is schema-validated and parsed, and its sender must be the certificate's organisation.

    Raises UnsignedDocumentError, TamperedDocumentError, UntrustedSignerError or any error
    of :func:`myna.delivery.parse`.
    """
    root = load_xml(xml)
    kind_of(root)
    signature = _check_shape(root)
    certificate = _signer_certificate(signature)
    try:
        result = XMLVerifier().verify(
            xml, x509_cert=certificate, parser=hardened_parser(), expect_config=_EXPECTED
        )
    except InvalidCertificate as exc:
        raise UntrustedSignerError from exc
    except (InvalidSignature, InvalidInput, etree.DocumentInvalid) as exc:
        raise TamperedDocumentError from exc
    if not isinstance(result, VerifyResult) or result.signed_xml is None:
        raise TamperedDocumentError
    if result.signed_xml.tag != root.tag:
        raise TamperedDocumentError
    try:
        trusted(certificate)
    except Exception as exc:  # any refusal by the caller's trust decision means "not trusted"
        raise UntrustedSignerError from exc
    document = parse(result.signed_data)
    if organization_urn(document.sender_code) not in _organizations(certificate):
        raise UntrustedSignerError
    return VerifiedDocument(
        document=document, signer=certificate, signed_content=result.signed_data
    )
