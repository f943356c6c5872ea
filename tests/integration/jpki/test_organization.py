"""The government CA (政府認証基盤 GPKI's role) and agencies' organisation certificates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from myna import jpki
from myna.jpki import profile, service
from myna.jpki.domain import MYNA_ARC, AuthorityKind, serial_key
from myna.jpki.models import IssuedCertificate
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.jpki.conftest import IssueFn

OrgKeys = dict[str, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey]
Reason = jpki.RevocationReason
SIGN = jpki.CertificateKind.SIGN
AUTH = jpki.CertificateKind.AUTH
CERT_ID_HASH = hashes.SHA1()  # noqa: S303 - RFC 5019 §2.1.1 CertIDs


def _ca(session: Session, kind: AuthorityKind) -> x509.Certificate:
    return x509.load_der_x509_certificate(jpki.ca_certificate(session=session, kind=kind))


def _verify(
    session: Session, settings: Settings, certificate: x509.Certificate | bytes, **kwargs: object
) -> jpki.VerifiedOrganization:
    return jpki.verify_organization_certificate(
        session=session,
        settings=settings,
        certificate=certificate,
        **kwargs,  # type: ignore[arg-type]
    )


def _code(error: pytest.ExceptionInfo[jpki.VerificationError]) -> str:
    return error.value.code


# --- the government CA ---------------------------------------------------------------


def test_the_government_ca_is_an_issuing_ca_under_the_root(
    authorities: None, session: Session
) -> None:
    root, gov = _ca(session, AuthorityKind.ROOT), _ca(session, AuthorityKind.GOVERNMENT)
    gov.verify_directly_issued_by(root)
    assert gov.subject.rfc4514_string() == "CN=Myna Government CA,O=Myna JPKI,C=JP"
    constraints = gov.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length == 0
    policies = gov.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == [f"{MYNA_ARC}.1.3"]


def test_a_database_with_only_the_three_card_cas_gets_the_government_ca(
    session: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    org_keys: OrgKeys,
) -> None:
    # What the version before the government CA created.
    with monkeypatch.context() as patched:
        patched.setattr(service, "ISSUING_AUTHORITIES", (AuthorityKind.SIGN, AuthorityKind.AUTH))
        jpki.ensure_authorities(session=session, settings=settings)
    before = jpki.list_authorities(session=session)
    assert [a.kind for a in before] == [AuthorityKind.ROOT, AuthorityKind.SIGN, AuthorityKind.AUTH]
    with pytest.raises(jpki.AuthoritiesNotInitializedError):
        jpki.issue_organization_certificate(
            session=session,
            settings=settings,
            organization_code="nta",
            organization_name="国税庁",
            public_key=org_keys["p256"].public_key(),
        )

    jpki.ensure_authorities(session=session, settings=settings)

    after = jpki.list_authorities(session=session)
    assert [a.kind for a in after] == [
        *[a.kind for a in before],
        AuthorityKind.GOVERNMENT,
        AuthorityKind.PQ_ROOT,
        AuthorityKind.PQ_GOVERNMENT,
    ]
    assert [a.sha256_fingerprint for a in after[:3]] == [a.sha256_fingerprint for a in before]
    _ca(session, AuthorityKind.GOVERNMENT).verify_directly_issued_by(
        _ca(session, AuthorityKind.ROOT)
    )
    certificate = jpki.issue_organization_certificate(
        session=session,
        settings=settings,
        organization_code="nta",
        organization_name="国税庁",
        public_key=org_keys["p256"].public_key(),
    )
    assert _verify(session, settings, certificate).organization_code == "nta"
    jpki.ensure_authorities(session=session, settings=settings)
    assert [a.sha256_fingerprint for a in jpki.list_authorities(session=session)] == [
        a.sha256_fingerprint for a in after
    ]


# --- issuance and the profile --------------------------------------------------------


def test_an_organisation_certificate_follows_the_profile(
    issue_org: IssueFn, session: Session, settings: Settings
) -> None:
    now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    certificate = issue_org("nta", name="国税庁", now=now)
    assert certificate.subject.rfc4514_string() == "CN=nta,O=国税庁,C=JP"
    assert certificate.issuer == _ca(session, AuthorityKind.GOVERNMENT).subject
    assert certificate.signature_algorithm_oid == x509.SignatureAlgorithmOID.RSA_WITH_SHA256
    assert certificate.not_valid_before_utc == now
    assert certificate.not_valid_after_utc == now + timedelta(days=3 * 365)
    extensions = certificate.extensions
    constraints = extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert not constraints.value.ca
    key_usage = extensions.get_extension_for_class(x509.KeyUsage)
    assert key_usage.critical
    assert key_usage.value.digital_signature
    assert not key_usage.value.content_commitment
    assert not key_usage.value.key_encipherment
    assert not key_usage.value.key_cert_sign
    eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [oid.dotted_string for oid in eku] == [f"{MYNA_ARC}.2.1"]
    assert ExtendedKeyUsageOID.CLIENT_AUTH not in eku
    san = extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert not san.critical
    assert san.value.get_values_for_type(x509.UniformResourceIdentifier) == ["urn:myna:agency:nta"]
    ski = extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(certificate.public_key())  # type: ignore[arg-type]
    aki = extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    gov_ski = (
        _ca(session, AuthorityKind.GOVERNMENT)
        .extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        .value
    )
    assert aki.key_identifier == gov_ski.digest
    points = extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [p.full_name[0].value for p in points if p.full_name] == [
        "http://testserver/jpki/crl/gov.crl"
    ]
    access = {
        a.access_method: a.access_location.value
        for a in extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    }
    assert access == {
        x509.AuthorityInformationAccessOID.OCSP: "http://testserver/jpki/ocsp",
        x509.AuthorityInformationAccessOID.CA_ISSUERS: "http://testserver/jpki/ca/gov.crt",
    }
    policies = extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == [f"{MYNA_ARC}.1.3"]


def test_the_issue_is_recorded_under_the_organisation_code(
    issue_org: IssueFn, session: Session
) -> None:
    first = issue_org("nta")
    second = issue_org("nta")  # a new key before the old one lapses: both stand
    issue_org("jps", name="日本年金機構", key="rsa")
    records = jpki.list_certificates(session=session, organization_code="nta")
    assert [r.serial for r in records] == [first.serial_number, second.serial_number]
    record = records[0]
    assert record.kind is jpki.CertificateKind.ORGANIZATION
    assert record.organization_code == "nta"
    assert record.subject_cn == "nta"
    assert record.holder_id is None
    assert record.card_id is None
    assert record.status is jpki.CertificateStatus.VALID


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505
        lambda: ec.generate_private_key(ec.SECP384R1()),
        ed25519.Ed25519PrivateKey.generate,
    ],
    ids=["rsa-1024", "p-384", "ed25519"],
)
def test_it_refuses_keys_other_than_p256_or_rsa_2048(
    authorities: None, session: Session, settings: Settings, make_key: object
) -> None:
    key = make_key()  # type: ignore[operator]
    with pytest.raises(jpki.UnsupportedOrganizationKeyError):
        jpki.issue_organization_certificate(
            session=session,
            settings=settings,
            organization_code="nta",
            organization_name="国税庁",
            public_key=key.public_key(),
        )


@pytest.mark.parametrize(
    ("code", "name"),
    [("NTA", "国税庁"), ("nta/../x", "国税庁"), ("", "国税庁"), ("nta", "  "), ("nta", "x" * 65)],
)
def test_it_refuses_codes_and_names_that_cannot_go_into_a_certificate(
    issue_org: IssueFn, session: Session, code: str, name: str
) -> None:
    with pytest.raises(jpki.InvalidOrganizationError):
        issue_org(code, name=name)
    assert jpki.list_certificates(session=session, organization_code=code) == []


def test_it_refuses_a_validity_beyond_the_government_ca_or_an_empty_one(
    issue_org: IssueFn, session: Session
) -> None:
    with pytest.raises(jpki.InvalidValidityError):
        issue_org(not_after=utcnow() + timedelta(days=40 * 365))
    with pytest.raises(jpki.InvalidValidityError):
        now = utcnow()
        issue_org(now=now, not_after=now - timedelta(seconds=1))


# --- verification ------------------------------------------------------------------


@pytest.mark.parametrize("key", ["p256", "rsa"])
def test_a_fresh_organisation_certificate_verifies(
    issue_org: IssueFn, session: Session, settings: Settings, key: str
) -> None:
    certificate = issue_org("kokuho-131016", name="千代田区国民健康保険", key=key)
    for form in (
        certificate,
        certificate.public_bytes(serialization.Encoding.DER),
        certificate.public_bytes(serialization.Encoding.PEM),
    ):
        verified = _verify(session, settings, form)
        assert verified == jpki.VerifiedOrganization(
            serial=certificate.serial_number,
            organization_code="kokuho-131016",
            organization_name="千代田区国民健康保険",
            not_after=certificate.not_valid_after_utc,
        )


def test_a_revoked_organisation_certificate_fails_from_its_invalidity_date(
    issue_org: IssueFn, session: Session, settings: Settings
) -> None:
    # Within the hour the CAs are backdated by, so the government CA is already valid.
    now = utcnow().replace(microsecond=0)
    certificate = issue_org(now=now - timedelta(minutes=50))
    leaked = now - timedelta(minutes=30)
    record = jpki.revoke_organization_certificate(
        session=session,
        serial=certificate.serial_number,
        reason=Reason.KEY_COMPROMISE,
        at=leaked,
    )
    assert record.status is jpki.CertificateStatus.REVOKED
    assert record.revocation_reason is Reason.KEY_COMPROMISE
    with pytest.raises(jpki.OrganizationVerificationError) as error:
        _verify(session, settings, certificate)
    assert _code(error) == "revoked"
    assert "Government CA" in error.value.message
    with pytest.raises(jpki.VerificationError, match="revoked"):
        _verify(session, settings, certificate, at=leaked)
    assert _verify(session, settings, certificate, at=leaked - timedelta(seconds=1))


def test_a_certificate_verified_before_is_refused_as_soon_as_it_is_revoked(
    issue_org: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue_org()
    der = certificate.public_bytes(serialization.Encoding.DER)
    # Verified twice: the second time its bytes are known to the process.
    assert _verify(session, settings, der) == _verify(session, settings, der)
    jpki.revoke_organization_certificate(
        session=session, serial=certificate.serial_number, reason=Reason.KEY_COMPROMISE
    )
    for form in (der, certificate):
        with pytest.raises(jpki.OrganizationVerificationError) as error:
            _verify(session, settings, form)
        assert _code(error) == "revoked"


def test_a_certificate_verified_before_is_untrusted_once_its_record_is_gone(
    issue_org: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue_org()
    assert _verify(session, settings, certificate)
    # A database reset, or an issuance rolled back: what the process knew counts for nothing.
    session.execute(
        delete(IssuedCertificate).where(
            IssuedCertificate.serial == serial_key(certificate.serial_number)
        )
    )
    with pytest.raises(jpki.OrganizationVerificationError) as error:
        _verify(session, settings, certificate)
    assert _code(error) == "untrusted_issuer"


def test_a_certificate_verified_before_is_still_checked_for_its_dates(
    issue_org: IssueFn, session: Session, settings: Settings
) -> None:
    now = utcnow().replace(microsecond=0)
    certificate = issue_org(now=now - timedelta(minutes=50), not_after=now + timedelta(days=1))
    assert _verify(session, settings, certificate)
    with pytest.raises(jpki.VerificationError) as error:
        _verify(session, settings, certificate, at=now + timedelta(days=2))
    assert _code(error) == "expired"
    with pytest.raises(jpki.VerificationError) as error:
        _verify(session, settings, certificate, at=now - timedelta(hours=2))
    assert _code(error) == "not_yet_valid"


def test_an_expired_or_not_yet_valid_organisation_certificate_fails(
    issue_org: IssueFn, session: Session, settings: Settings
) -> None:
    now = utcnow().replace(microsecond=0)
    certificate = issue_org(now=now - timedelta(days=10), not_after=now - timedelta(days=1))
    with pytest.raises(jpki.VerificationError) as error:
        _verify(session, settings, certificate)
    assert _code(error) == "expired"
    with pytest.raises(jpki.VerificationError) as error:
        _verify(session, settings, certificate, at=now - timedelta(days=11))
    assert _code(error) == "not_yet_valid"


@pytest.mark.parametrize("kind", [SIGN, AUTH])
def test_a_residents_card_certificate_is_refused_by_the_organisation_verifier(
    issue: IssueFn, session: Session, settings: Settings, kind: jpki.CertificateKind
) -> None:
    with pytest.raises(jpki.OrganizationVerificationError) as error:
        _verify(session, settings, issue(kind))
    assert _code(error) == "wrong_key_usage"


@pytest.mark.parametrize(("key", "code"), [("rsa", "wrong_key_usage"), ("p256", "weak_algorithm")])
@pytest.mark.parametrize("kind", [SIGN, AUTH])
def test_an_organisation_certificate_is_refused_by_the_card_verifier(
    issue_org: IssueFn,
    session: Session,
    settings: Settings,
    kind: jpki.CertificateKind,
    key: str,
    code: str,
) -> None:
    with pytest.raises(jpki.VerificationError) as error:
        jpki.verify_certificate(
            session=session, settings=settings, certificate=issue_org(key=key), kind=kind
        )
    assert _code(error) == code


def test_the_card_routines_refuse_the_organisation_kind(
    issue_org: IssueFn, session: Session, settings: Settings, org_keys: OrgKeys
) -> None:
    with pytest.raises(ValueError, match="verify_organization_certificate"):
        jpki.verify_certificate(
            session=session,
            settings=settings,
            certificate=issue_org(key="rsa"),
            kind=jpki.CertificateKind.ORGANIZATION,
        )
    with pytest.raises(ValueError, match="issue_organization_certificate"):
        jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=jpki.CertificateKind.ORGANIZATION,
            public_key=org_keys["rsa"].public_key(),  # type: ignore[arg-type]
            holder_id=1,
            card_id="x",
            birth_date=datetime(1990, 1, 1, tzinfo=UTC).date(),
            basic_info=None,
        )


def _signed_by_gov(
    session: Session,
    settings: Settings,
    public_key: ec.EllipticCurvePublicKey,
    *,
    with_eku: bool,
) -> x509.Certificate:
    """A certificate signed with the government CA's own key but never recorded by it."""
    gov_key = service._private_key(
        service._cache_of(session),
        service._authority(session, AuthorityKind.GOVERNMENT),
        settings,
    )
    certificate = profile.build_organization(
        public_key=public_key,
        issuer=_ca(session, AuthorityKind.GOVERNMENT),
        issuer_key=gov_key,
        serial=x509.random_serial_number(),
        code="rogue",
        name="Rogue",
        not_before=utcnow() - timedelta(hours=1),
        not_after=utcnow() + timedelta(days=30),
        base_url=settings.portal_url,
    )
    if with_eku:
        return certificate
    builder = (
        x509.CertificateBuilder()
        .subject_name(certificate.subject)
        .issuer_name(certificate.issuer)
        .public_key(public_key)
        .serial_number(certificate.serial_number)
        .not_valid_before(certificate.not_valid_before_utc)
        .not_valid_after(certificate.not_valid_after_utc)
    )
    for extension in certificate.extensions:
        if not isinstance(extension.value, x509.ExtendedKeyUsage):
            builder = builder.add_extension(extension.value, extension.critical)
    return builder.sign(gov_key, hashes.SHA256())


def test_a_certificate_the_government_ca_never_recorded_is_untrusted(
    authorities: None, session: Session, settings: Settings, org_keys: OrgKeys
) -> None:
    key = org_keys["p256"].public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    forged = _signed_by_gov(session, settings, key, with_eku=True)
    with pytest.raises(jpki.VerificationError) as error:
        _verify(session, settings, forged)
    assert _code(error) == "untrusted_issuer"


def test_a_certificate_without_the_message_signing_purpose_is_refused(
    authorities: None, session: Session, settings: Settings, org_keys: OrgKeys
) -> None:
    key = org_keys["p256"].public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    without = _signed_by_gov(session, settings, key, with_eku=False)
    with pytest.raises(jpki.VerificationError) as error:
        _verify(session, settings, without)
    assert _code(error) == "wrong_key_usage"


def test_a_look_alike_government_ca_is_untrusted(
    issue_org: IssueFn, session: Session, settings: Settings, org_keys: OrgKeys
) -> None:
    genuine = issue_org()
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = (
        x509.CertificateBuilder()
        .subject_name(genuine.subject)
        .issuer_name(genuine.issuer)
        .public_key(org_keys["p256"].public_key())
        .serial_number(genuine.serial_number)
        .not_valid_before(genuine.not_valid_before_utc)
        .not_valid_after(genuine.not_valid_after_utc)
    )
    for extension in genuine.extensions:
        if isinstance(extension.value, x509.AuthorityKeyIdentifier):
            continue
        forged = forged.add_extension(extension.value, extension.critical)
    signed = forged.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(impostor.public_key()), critical=False
    ).sign(impostor, hashes.SHA256())
    with pytest.raises(jpki.VerificationError) as error:
        _verify(session, settings, signed)
    assert _code(error) == "untrusted_issuer"
    # Same key identifier as ours, but not our signature: altered.
    tampered = forged.add_extension(
        genuine.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value,
        critical=False,
    ).sign(impostor, hashes.SHA256())
    with pytest.raises(jpki.VerificationError) as error:
        _verify(session, settings, tampered)
    assert _code(error) == "bad_certificate_signature"


def test_garbage_is_a_malformed_certificate(
    authorities: None, session: Session, settings: Settings
) -> None:
    with pytest.raises(jpki.OrganizationVerificationError) as error:
        _verify(session, settings, b"not a certificate")
    assert _code(error) == "malformed_certificate"


@pytest.mark.parametrize("key", ["p256", "rsa"])
def test_an_organisation_signature_verifies_and_a_changed_message_does_not(
    issue_org: IssueFn, org_keys: OrgKeys, key: str
) -> None:
    certificate = issue_org(key=key)
    private = org_keys[key]
    message = b'{"procedure":"child_allowance","item":"resident_tax"}'
    if isinstance(private, ec.EllipticCurvePrivateKey):
        signature = private.sign(message, ec.ECDSA(hashes.SHA256()))
    else:
        signature = private.sign(message, padding.PKCS1v15(), hashes.SHA256())
    jpki.verify_organization_signature(certificate=certificate, data=message, signature=signature)
    with pytest.raises(jpki.OrganizationVerificationError) as error:
        jpki.verify_organization_signature(
            certificate=certificate, data=message + b" ", signature=signature
        )
    assert _code(error) == "bad_signature"


# --- revocation, gov.crl and OCSP -----------------------------------------------------


def test_reasons_stay_on_their_side(issue: IssueFn, issue_org: IssueFn, session: Session) -> None:
    card = issue(AUTH, card_id="card-side")
    organisation = issue_org()
    with pytest.raises(jpki.RevocationReasonMismatchError):
        jpki.revoke_certificate(
            session=session, serial=organisation.serial_number, reason=Reason.LOSS
        )
    with pytest.raises(jpki.RevocationReasonMismatchError):
        jpki.revoke_certificate(
            session=session, serial=card.serial_number, reason=Reason.KEY_COMPROMISE
        )
    with pytest.raises(jpki.RevocationReasonMismatchError):
        jpki.revoke_organization_certificate(
            session=session, serial=organisation.serial_number, reason=Reason.DEATH
        )
    with pytest.raises(jpki.RevocationReasonMismatchError):
        jpki.revoke_for_card(session=session, card_id="card-side", reason=Reason.SUPERSEDED)
    with pytest.raises(jpki.OrganizationCertificateNotFoundError):
        jpki.revoke_organization_certificate(
            session=session, serial=card.serial_number, reason=Reason.SUPERSEDED
        )
    statuses = {
        jpki.certificate_status(session=session, serial=c.serial_number).status
        for c in (card, organisation)
    }
    assert statuses == {jpki.CertificateStatus.VALID}


def test_the_generic_revoke_accepts_an_organisation_reason_and_the_first_reason_stands(
    issue_org: IssueFn, session: Session
) -> None:
    certificate = issue_org()
    jpki.revoke_certificate(
        session=session, serial=certificate.serial_number, reason=Reason.SUPERSEDED
    )
    again = jpki.revoke_organization_certificate(
        session=session, serial=certificate.serial_number, reason=Reason.KEY_COMPROMISE
    )
    assert again.revocation_reason is Reason.SUPERSEDED


@pytest.mark.parametrize(
    ("reason", "flag"),
    [
        (Reason.KEY_COMPROMISE, x509.ReasonFlags.key_compromise),
        (Reason.CESSATION_OF_OPERATION, x509.ReasonFlags.cessation_of_operation),
        (Reason.SUPERSEDED, x509.ReasonFlags.superseded),
    ],
)
def test_gov_crl_lists_a_revoked_organisation_certificate_with_its_reason(
    issue_org: IssueFn,
    issue: IssueFn,
    session: Session,
    settings: Settings,
    reason: jpki.RevocationReason,
    flag: x509.ReasonFlags,
) -> None:
    kept, revoked = issue_org("mhlw", name="厚生労働省"), issue_org("nta")
    card = issue(AUTH)
    jpki.revoke_certificate(session=session, serial=card.serial_number, reason=Reason.LOSS)
    before = x509.load_der_x509_crl(
        jpki.current_crl(session=session, settings=settings, kind="gov")
    )
    jpki.revoke_organization_certificate(
        session=session, serial=revoked.serial_number, reason=reason
    )
    crl = x509.load_der_x509_crl(jpki.current_crl(session=session, settings=settings, kind="gov"))
    assert crl.is_signature_valid(_ca(session, AuthorityKind.GOVERNMENT).public_key())  # type: ignore[arg-type]
    assert crl.issuer == _ca(session, AuthorityKind.GOVERNMENT).subject
    assert len(before) == 0  # a card's revocation is not the government CA's business
    assert [entry.serial_number for entry in crl] == [revoked.serial_number]
    entry = crl.get_revoked_certificate_by_serial_number(revoked.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is flag
    assert crl.get_revoked_certificate_by_serial_number(kept.serial_number) is None
    auth_crl = x509.load_der_x509_crl(
        jpki.current_crl(session=session, settings=settings, kind="auth")
    )
    assert [entry.serial_number for entry in auth_crl] == [card.serial_number]


def test_the_gov_crl_and_ca_are_served_over_http(
    issue_org: IssueFn, session: Session, client: TestClient
) -> None:
    certificate = issue_org()
    jpki.revoke_organization_certificate(
        session=session, serial=certificate.serial_number, reason=Reason.KEY_COMPROMISE
    )
    response = client.get("/jpki/crl/gov.crl")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    assert crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None
    ca = client.get("/jpki/ca/gov.crt")
    assert ca.status_code == 200
    assert x509.load_der_x509_certificate(ca.content) == _ca(session, AuthorityKind.GOVERNMENT)


def _ocsp(client: TestClient, serial: int, issuer: x509.Certificate) -> ocsp.OCSPResponse:
    """Ask the responder about ``serial`` under ``issuer`` (RFC 6960 §4.1.1 CertID)."""
    name_hash = hashes.Hash(CERT_ID_HASH)
    name_hash.update(issuer.subject.public_bytes())
    key_hash = hashes.Hash(CERT_ID_HASH)
    key_hash.update(
        issuer.public_key().public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )
    )
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(name_hash.finalize(), key_hash.finalize(), serial, CERT_ID_HASH)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    answer = client.post(
        "/jpki/ocsp", content=request, headers={"Content-Type": "application/ocsp-request"}
    )
    assert answer.status_code == 200
    response = ocsp.load_der_ocsp_response(answer.content)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    return response


def test_ocsp_answers_good_then_revoked_for_an_organisation_certificate(
    issue_org: IssueFn, session: Session, client: TestClient
) -> None:
    certificate = issue_org()
    gov = _ca(session, AuthorityKind.GOVERNMENT)
    good = _ocsp(client, certificate.serial_number, gov)
    assert good.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert good.certificate_status is ocsp.OCSPCertStatus.GOOD
    gov_key = gov.public_key()
    assert isinstance(gov_key, rsa.RSAPublicKey)
    gov_key.verify(good.signature, good.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256())
    assert good.certificates == [gov]

    jpki.revoke_organization_certificate(
        session=session, serial=certificate.serial_number, reason=Reason.CESSATION_OF_OPERATION
    )
    revoked = _ocsp(client, certificate.serial_number, gov)
    assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason is x509.ReasonFlags.cessation_of_operation


def test_ocsp_says_unknown_when_asked_the_wrong_ca_about_an_organisation_certificate(
    issue_org: IssueFn, issue: IssueFn, session: Session, client: TestClient
) -> None:
    organisation = issue_org()
    card = issue(SIGN)
    assert (
        _ocsp(
            client, organisation.serial_number, _ca(session, AuthorityKind.SIGN)
        ).certificate_status
        is ocsp.OCSPCertStatus.UNKNOWN
    )
    assert (
        _ocsp(client, card.serial_number, _ca(session, AuthorityKind.GOVERNMENT)).certificate_status
        is ocsp.OCSPCertStatus.UNKNOWN
    )
