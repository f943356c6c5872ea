"""Enveloped XMLDSig on 民間送達 documents: sign, verify, and the ways a document is refused."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import SignatureMethod, XMLSigner

from myna.delivery import (
    Document,
    SchemaInvalidError,
    TamperedDocumentError,
    UnsafeDocumentError,
    UnsignedDocumentError,
    UntrustedSignerError,
    parse,
    sign,
    verify,
)
from myna.delivery.documents import XMLDSIG_NS
from tests.unit.delivery.conftest import ALL_DOCUMENTS, LIFE, SALARY, Signer, make_signer
from tests.unit.delivery.test_documents import BILLION_LAUGHS


def _trust(*certificates: x509.Certificate):  # type: ignore[no-untyped-def]
    """A stand-in for the CA and revocation check: these certificates and no other."""
    fingerprints = {c.fingerprint(hashes.SHA256()) for c in certificates}

    def trusted(certificate: x509.Certificate) -> None:
        if certificate.fingerprint(hashes.SHA256()) not in fingerprints:
            raise ValueError("not issued by the government CA")

    return trusted


def _signed(document: Document, signer: Signer) -> bytes:
    return sign(document.to_xml(), key=signer.key, certificate_chain=[signer.certificate])


@pytest.mark.parametrize("document", ALL_DOCUMENTS, ids=lambda d: d.kind.value)
def test_each_kind_round_trips_signed(document: Document, signers: dict[str, Signer]) -> None:
    signer = signers[document.sender_code]
    signed = _signed(document, signer)
    assert b"ecdsa-sha256" in signed
    assert b"<ds:X509Certificate>" in signed
    verified = verify(signed, trusted=_trust(signer.certificate))
    assert verified.document == document
    assert verified.signer == signer.certificate
    assert parse(verified.signed_content) == document
    assert parse(signed) == document  # the original file still reads as the document


def test_rsa_sha256_signatures_verify_too() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_signer = make_signer(LIFE.sender_code)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(ec_signer.certificate.subject)
        .issuer_name(ec_signer.certificate.issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ec_signer.certificate.not_valid_before_utc)
        .not_valid_after(ec_signer.certificate.not_valid_after_utc)
        .add_extension(
            ec_signer.certificate.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value,
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    signed = sign(LIFE.to_xml(), key=key, certificate_chain=[certificate])
    assert b"rsa-sha256" in signed
    assert verify(signed, trusted=_trust(certificate)).document == LIFE


def test_a_tampered_amount_is_refused(signers: dict[str, Signer]) -> None:
    signer = signers[LIFE.sender_code]
    signed = _signed(LIFE, signer)
    tampered = signed.replace(b"<DeclaredAmount>123456<", b"<DeclaredAmount>923456<")
    assert tampered != signed
    with pytest.raises(TamperedDocumentError):
        verify(tampered, trusted=_trust(signer.certificate))


def test_a_document_without_its_signature_is_refused(signers: dict[str, Signer]) -> None:
    signer = signers[LIFE.sender_code]
    root = etree.fromstring(_signed(LIFE, signer))
    root.remove(root.find(f"{{{XMLDSIG_NS}}}Signature"))
    with pytest.raises(UnsignedDocumentError):
        verify(etree.tostring(root), trusted=_trust(signer.certificate))
    with pytest.raises(UnsignedDocumentError):
        verify(LIFE.to_xml(), trusted=_trust(signer.certificate))


def test_a_signature_by_an_untrusted_certificate_is_refused(signers: dict[str, Signer]) -> None:
    impostor = make_signer(LIFE.sender_code)  # names the sender, but no CA vouches for it
    signed = _signed(LIFE, impostor)
    with pytest.raises(UntrustedSignerError) as refused:
        verify(signed, trusted=_trust(signers[LIFE.sender_code].certificate))
    assert isinstance(refused.value.__cause__, ValueError)


def test_a_trusted_certificate_of_another_organisation_is_refused(
    signers: dict[str, Signer],
) -> None:
    other = signers[SALARY.sender_code]  # a real sender, signing another sender's document
    signed = _signed(LIFE, other)
    with pytest.raises(UntrustedSignerError):
        verify(signed, trusted=_trust(other.certificate))


def test_a_swapped_certificate_is_refused(signers: dict[str, Signer]) -> None:
    signer = signers[LIFE.sender_code]
    trusted_other = make_signer(LIFE.sender_code)
    signed = _signed(LIFE, signer)
    pem = trusted_other.certificate.public_bytes(Encoding.PEM).decode()
    root = etree.fromstring(signed)
    root.find(f".//{{{XMLDSIG_NS}}}X509Certificate").text = "".join(pem.splitlines()[1:-1])
    with pytest.raises(TamperedDocumentError):
        verify(etree.tostring(root), trusted=_trust(trusted_other.certificate))


def test_signed_content_that_breaks_the_schema_is_refused(signers: dict[str, Signer]) -> None:
    # A sender's own software may sign nonsense; verify still validates what was signed.
    signer = signers[LIFE.sender_code]
    root = etree.fromstring(LIFE.to_xml())
    ns = LIFE.kind.namespace
    root.find(f"{{{ns}}}Policy/{{{ns}}}DeclaredAmount").text = "-5"
    # signxml directly: around sign()'s own check that only valid documents are signed
    signed = etree.tostring(
        XMLSigner(signature_algorithm=SignatureMethod.ECDSA_SHA256).sign(
            root, key=signer.key, cert=[signer.certificate]
        )
    )
    with pytest.raises(SchemaInvalidError, match="DeclaredAmount"):
        verify(signed, trusted=_trust(signer.certificate))


def _ds(name: str) -> str:
    return f"{{{XMLDSIG_NS}}}{name}"


def test_an_unsigned_copy_of_the_content_added_beside_the_signed_one_is_refused(
    signers: dict[str, Signer],
) -> None:
    signer = signers[LIFE.sender_code]
    root = etree.fromstring(_signed(LIFE, signer))
    ns = LIFE.kind.namespace
    forged = etree.fromstring(dataclasses.replace(LIFE, declared_amount=9_999_999).to_xml())
    root.insert(3, forged.find(f"{{{ns}}}Policy"))  # a second Policy before the signed one
    with pytest.raises(TamperedDocumentError):
        verify(etree.tostring(root), trusted=_trust(signer.certificate))


def test_a_signed_document_wrapped_in_a_forged_one_is_refused(signers: dict[str, Signer]) -> None:
    signer = signers[LIFE.sender_code]
    signed = etree.fromstring(_signed(LIFE, signer))
    forged = etree.fromstring(dataclasses.replace(LIFE, declared_amount=9_999_999).to_xml())
    forged.append(signed)  # the genuine, signed document moved inside the forgery
    with pytest.raises(TamperedDocumentError):
        verify(etree.tostring(forged), trusted=_trust(signer.certificate))
    # ... or with its signature moved up to the forgery's root
    forged = etree.fromstring(dataclasses.replace(LIFE, declared_amount=9_999_999).to_xml())
    signature = signed.find(_ds("Signature"))
    forged.append(signature)
    with pytest.raises(TamperedDocumentError):
        verify(etree.tostring(forged), trusted=_trust(signer.certificate))


def test_a_forged_copy_hidden_in_the_signature_is_never_read(signers: dict[str, Signer]) -> None:
    # ds:Object is not covered by the signature (the enveloped transform removes the whole
    # ds:Signature); what verify returns is read from the signed content only.
    signer = signers[LIFE.sender_code]
    root = etree.fromstring(_signed(LIFE, signer))
    forged = etree.fromstring(dataclasses.replace(LIFE, declared_amount=9_999_999).to_xml())
    hiding_place = etree.SubElement(root.find(_ds("Signature")), _ds("Object"))
    hiding_place.append(forged)
    verified = verify(etree.tostring(root), trusted=_trust(signer.certificate))
    assert verified.document.declared_amount == LIFE.declared_amount  # type: ignore[union-attr]
    assert b"9999999" not in verified.signed_content


def test_a_reference_to_part_of_the_document_is_refused(signers: dict[str, Signer]) -> None:
    signer = signers[LIFE.sender_code]
    root = etree.fromstring(_signed(LIFE, signer))
    root.find(f"{_ds('Signature')}/{_ds('SignedInfo')}/{_ds('Reference')}").set("URI", "#policy")
    with pytest.raises(TamperedDocumentError):
        verify(etree.tostring(root), trusted=_trust(signer.certificate))


def test_a_second_signature_is_refused(signers: dict[str, Signer]) -> None:
    signer = signers[LIFE.sender_code]
    signed = _signed(LIFE, signer)
    root = etree.fromstring(signed)
    root.insert(0, etree.fromstring(signed).find(_ds("Signature")))
    with pytest.raises(TamperedDocumentError):
        verify(etree.tostring(root), trusted=_trust(signer.certificate))


def test_a_billion_laughs_document_is_refused_before_any_signature_work() -> None:
    with pytest.raises(UnsafeDocumentError):
        verify(BILLION_LAUGHS, trusted=_trust())


def test_sign_refuses_a_key_that_does_not_match_the_certificate(
    signers: dict[str, Signer],
) -> None:
    other = make_signer(LIFE.sender_code)
    with pytest.raises(ValueError, match="not the key's"):
        sign(
            LIFE.to_xml(), key=other.key, certificate_chain=[signers[LIFE.sender_code].certificate]
        )
