"""The post-quantum hierarchy: ML-DSA-65 root and government CA, their CRLs, their certificates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki
from myna.jpki import profile
from myna.jpki.domain import MYNA_ARC, AuthorityKind
from myna.platform.settings import Settings

# One worker builds this module's shared fixture once (make test runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("integration.jpki.test_post_quantum")

PQ_ORG = jpki.CertificateKind.ORGANIZATION_PQ
CERT_ID_HASH = hashes.SHA1()  # noqa: S303 - RFC 5019 §2.1.1 CertIDs


@pytest.fixture(scope="module")
def pq_key() -> mldsa.MLDSA65PrivateKey:
    return mldsa.MLDSA65PrivateKey.generate()


def _ca(session: Session, kind: AuthorityKind) -> x509.Certificate:
    return x509.load_der_x509_certificate(jpki.ca_certificate(session=session, kind=kind))


def _issue(
    session: Session, settings: Settings, key: mldsa.MLDSA65PrivateKey, code: str = "nta"
) -> x509.Certificate:
    return jpki.issue_organization_certificate(
        session=session,
        settings=settings,
        organization_code=code,
        organization_name="国税庁",
        public_key=key.public_key(),
    )


def _policies(certificate: x509.Certificate) -> list[str]:
    policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    return [p.policy_identifier.dotted_string for p in policies]


def test_the_pq_root_and_government_ca_sign_with_ml_dsa_65(
    authorities: None, session: Session
) -> None:
    root = _ca(session, AuthorityKind.PQ_ROOT)
    gov = _ca(session, AuthorityKind.PQ_GOVERNMENT)
    assert isinstance(root.public_key(), mldsa.MLDSA65PublicKey)
    assert root.signature_algorithm_oid == SignatureAlgorithmOID.ML_DSA_65
    assert gov.signature_algorithm_oid == SignatureAlgorithmOID.ML_DSA_65
    root.verify_directly_issued_by(root)
    gov.verify_directly_issued_by(root)
    assert gov.subject.rfc4514_string() == "CN=Myna Government Post-Quantum CA,O=Myna JPKI,C=JP"
    assert _policies(gov) == [f"{MYNA_ARC}.1.6"]
    # Not under the RSA root: the two hierarchies are apart.
    with pytest.raises((ValueError, TypeError)):
        gov.verify_directly_issued_by(_ca(session, AuthorityKind.ROOT))


def test_an_ml_dsa_key_gets_a_pq_organisation_certificate_that_verifies(
    authorities: None, session: Session, settings: Settings, pq_key: mldsa.MLDSA65PrivateKey
) -> None:
    certificate = _issue(session, settings, pq_key)
    assert certificate.signature_algorithm_oid == SignatureAlgorithmOID.ML_DSA_65
    assert certificate.issuer == _ca(session, AuthorityKind.PQ_GOVERNMENT).subject
    assert _policies(certificate) == [f"{MYNA_ARC}.1.6"]
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "nta"
    verified = jpki.verify_organization_certificate(
        session=session, settings=settings, certificate=certificate
    )
    assert verified.organization_code == "nta"
    assert verified.kind is PQ_ORG
    [record] = jpki.list_certificates(session=session, organization_code="nta")
    assert record.kind is PQ_ORG

    signature = pq_key.sign(b"the same bytes")
    jpki.verify_organization_signature(
        certificate=certificate, data=b"the same bytes", signature=signature
    )
    with pytest.raises(jpki.OrganizationVerificationError) as error:
        jpki.verify_organization_signature(
            certificate=certificate, data=b"other bytes", signature=signature
        )
    assert error.value.code == "bad_signature"


def test_a_revoked_pq_certificate_is_refused_and_on_the_ml_dsa_signed_crl(
    authorities: None,
    session: Session,
    settings: Settings,
    client: TestClient,
    pq_key: mldsa.MLDSA65PrivateKey,
) -> None:
    certificate = _issue(session, settings, pq_key)
    jpki.revoke_organization_certificate(
        session=session,
        serial=certificate.serial_number,
        reason=jpki.RevocationReason.KEY_COMPROMISE,
    )
    with pytest.raises(jpki.OrganizationVerificationError) as error:
        jpki.verify_organization_certificate(
            session=session, settings=settings, certificate=certificate
        )
    assert error.value.code == "revoked"

    response = client.get("/jpki/crl/pq-gov.crl")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    gov = _ca(session, AuthorityKind.PQ_GOVERNMENT)
    assert crl.signature_algorithm_oid == SignatureAlgorithmOID.ML_DSA_65
    assert crl.issuer == gov.subject
    assert crl.is_signature_valid(gov.public_key())  # type: ignore[arg-type]
    assert not crl.is_signature_valid(
        _ca(session, AuthorityKind.GOVERNMENT).public_key()  # type: ignore[arg-type]
    )
    entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.key_compromise
    # The classic government CA's CRL does not list it.
    classic = x509.load_der_x509_crl(client.get("/jpki/crl/gov.crl").content)
    assert classic.get_revoked_certificate_by_serial_number(certificate.serial_number) is None
    # The root's CRL (for the issuing CA) is signed with ML-DSA-65 too.
    root_crl = x509.load_der_x509_crl(client.get("/jpki/crl/pq-root.crl").content)
    assert root_crl.is_signature_valid(_ca(session, AuthorityKind.PQ_ROOT).public_key())  # type: ignore[arg-type]


def test_the_pq_cas_are_published_like_the_rsa_ones(
    authorities: None, session: Session, client: TestClient
) -> None:
    index = {a["kind"]: a for a in client.get("/jpki/ca/").json()["authorities"]}
    assert index["pq-gov"]["certificate_url"] == "http://testserver/jpki/ca/pq-gov.crt"
    assert index["pq-gov"]["crl_url"] == "http://testserver/jpki/crl/pq-gov.crl"
    for kind in ("pq-root", "pq-gov"):
        response = client.get(f"/jpki/ca/{kind}.crt")
        assert response.status_code == 200
        assert response.content == jpki.ca_certificate(session=session, kind=kind)


def test_the_issued_certificate_names_where_its_ca_and_crl_are(
    authorities: None, session: Session, settings: Settings, pq_key: mldsa.MLDSA65PrivateKey
) -> None:
    certificate = _issue(session, settings, pq_key)
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for p in points for n in p.full_name or []] == [
        "http://testserver/jpki/crl/pq-gov.crl"
    ]
    access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    assert "http://testserver/jpki/ca/pq-gov.crt" in [d.access_location.value for d in access.value]


def test_ocsp_answers_for_a_pq_certificate_signed_with_ml_dsa_65(
    authorities: None,
    session: Session,
    settings: Settings,
    client: TestClient,
    pq_key: mldsa.MLDSA65PrivateKey,
) -> None:
    certificate = _issue(session, settings, pq_key)
    gov = _ca(session, AuthorityKind.PQ_GOVERNMENT)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, gov, CERT_ID_HASH)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    response = client.post(
        "/jpki/ocsp", content=request, headers={"content-type": "application/ocsp-request"}
    )
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert answer.signature_algorithm_oid == SignatureAlgorithmOID.ML_DSA_65
    public_key = gov.public_key()
    assert isinstance(public_key, mldsa.MLDSA65PublicKey)
    public_key.verify(answer.signature, answer.tbs_response_bytes)


def _rogue_pq_certificate(subject_key: mldsa.MLDSA65PrivateKey, issuer: x509.Name) -> bytes:
    """An ML-DSA-65 organisation certificate under the real CA's name, another key."""
    rogue = mldsa.MLDSA65PrivateKey.generate()
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(profile.organization_subject("nta", "国税庁"))
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(rogue.public_key()), critical=False
        )
        .sign(rogue, None)
        .public_bytes(serialization.Encoding.DER)
    )


def test_an_ml_dsa_certificate_from_an_unknown_ca_is_refused(
    authorities: None, session: Session, settings: Settings, pq_key: mldsa.MLDSA65PrivateKey
) -> None:
    gov = _ca(session, AuthorityKind.PQ_GOVERNMENT)
    with pytest.raises(jpki.OrganizationVerificationError) as error:
        jpki.verify_organization_certificate(
            session=session,
            settings=settings,
            certificate=_rogue_pq_certificate(pq_key, gov.subject),
        )
    assert error.value.code == "untrusted_issuer"


def test_an_ml_dsa_key_under_an_rsa_signature_is_a_weak_algorithm(
    authorities: None,
    session: Session,
    settings: Settings,
    pq_key: mldsa.MLDSA65PrivateKey,
    org_keys: dict[str, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey],
) -> None:
    # Only the post-quantum CA certifies an ML-DSA key, and only with ML-DSA-65.
    certificate = _issue(session, settings, pq_key)
    rsa_signed = (
        x509.CertificateBuilder()
        .subject_name(certificate.subject)
        .issuer_name(_ca(session, AuthorityKind.GOVERNMENT).subject)
        .public_key(pq_key.public_key())
        .serial_number(certificate.serial_number)
        .not_valid_before(certificate.not_valid_before_utc)
        .not_valid_after(certificate.not_valid_after_utc)
        .sign(org_keys["rsa"], hashes.SHA256())  # type: ignore[arg-type]
    )
    with pytest.raises(jpki.OrganizationVerificationError) as error:
        jpki.verify_organization_certificate(
            session=session, settings=settings, certificate=rsa_signed
        )
    assert error.value.code == "weak_algorithm"


def test_a_card_certificate_kind_cannot_come_from_the_pq_hierarchy(
    authorities: None, session: Session, settings: Settings, pq_key: mldsa.MLDSA65PrivateKey
) -> None:
    # Cards stay RSA: an ML-DSA organisation certificate is no card certificate.
    certificate = _issue(session, settings, pq_key)
    with pytest.raises(jpki.VerificationError) as error:
        jpki.verify_certificate(
            session=session,
            settings=settings,
            certificate=certificate,
            kind=jpki.CertificateKind.AUTH,
        )
    assert error.value.code == "weak_algorithm"
