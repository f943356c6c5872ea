"""Issuing card certificates and verifying them: the profile and every failure code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID, SignatureAlgorithmOID
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from myna import jpki
from myna.jpki import profile, service
from myna.jpki.domain import AuthorityKind
from myna.jpki.models import CertificateAuthority
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.jpki.conftest import BASIC_INFO, BIRTH_DATE, IssueFn

SIGN = jpki.CertificateKind.SIGN
AUTH = jpki.CertificateKind.AUTH


def _verify(
    session: Session,
    settings: Settings,
    certificate: x509.Certificate | bytes,
    kind: jpki.CertificateKind,
    at: datetime | None = None,
) -> jpki.VerifiedCertificate:
    return jpki.verify_certificate(
        session=session, settings=settings, certificate=certificate, kind=kind, at=at
    )


def _failure(
    session: Session,
    settings: Settings,
    certificate: x509.Certificate | bytes,
    kind: jpki.CertificateKind,
    at: datetime | None = None,
) -> str:
    with pytest.raises(jpki.VerificationError) as caught:
        _verify(session, settings, certificate, kind, at)
    return caught.value.code


def _issuer_key(session: Session, settings: Settings, kind: AuthorityKind) -> rsa.RSAPrivateKey:
    return service._private_key(
        service._cache_of(session), service._authority(session, kind), settings
    )


def _issuer_cert(session: Session, kind: AuthorityKind) -> x509.Certificate:
    return x509.load_der_x509_certificate(jpki.ca_certificate(session=session, kind=kind))


# --- the authorities ----------------------------------------------------------------


def test_it_creates_the_authorities_once(
    authorities: None, session: Session, settings: Settings
) -> None:
    before = jpki.list_authorities(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    after = jpki.list_authorities(session=session)
    assert [a.kind for a in before] == [
        AuthorityKind.ROOT,
        AuthorityKind.SIGN,
        AuthorityKind.AUTH,
        AuthorityKind.GOVERNMENT,
        AuthorityKind.PQ_ROOT,
        AuthorityKind.PQ_GOVERNMENT,
    ]
    assert [a.sha256_fingerprint for a in after] == [a.sha256_fingerprint for a in before]


def test_the_hierarchy_has_a_root_over_two_issuing_cas(authorities: None, session: Session) -> None:
    root = _issuer_cert(session, AuthorityKind.ROOT)
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Myna JPKI Root CA"
    root_constraints = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert root_constraints.critical
    assert (root_constraints.value.ca, root_constraints.value.path_length) == (True, 1)
    root.verify_directly_issued_by(root)
    names = {
        AuthorityKind.SIGN: "Myna JPKI Signing CA",
        AuthorityKind.AUTH: "Myna JPKI User Authentication CA",
    }
    for kind, name in names.items():
        issuing = _issuer_cert(session, kind)
        assert issuing.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == name
        issuing.verify_directly_issued_by(root)
        constraints = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
        assert (constraints.ca, constraints.path_length) == (True, 0)
        usage = issuing.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical
        assert usage.value.key_cert_sign and usage.value.crl_sign
        assert issuing.public_key().key_size == 2048  # type: ignore[union-attr]


def test_the_ca_private_keys_are_encrypted_at_rest(authorities: None, session: Session) -> None:
    for row in session.query(CertificateAuthority):
        with pytest.raises(TypeError):
            serialization.load_der_private_key(row.private_key, password=None)


def test_issuing_before_the_authorities_exist_says_to_run_init(
    session: Session, settings: Settings, card_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    with pytest.raises(jpki.AuthoritiesNotInitializedError):
        jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=AUTH,
            public_key=card_keys["auth"].public_key(),
            holder_id=1,
            card_id="c",
            birth_date=BIRTH_DATE,
            basic_info=None,
        )


# --- the certificate profile -------------------------------------------------------


def test_the_signing_certificate_follows_the_jpki_profile(issue: IssueFn, session: Session) -> None:
    now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    certificate = issue(SIGN, now=now)
    assert certificate.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256
    assert certificate.public_key().key_size == 2048  # type: ignore[union-attr]
    assert 0 < certificate.serial_number < 2**159
    # Valid through the 5th birthday after issue (14 Jul 2031), to its end in Japan.
    assert certificate.not_valid_after_utc == datetime(2031, 7, 14, 14, 59, 59, tzinfo=UTC)
    assert certificate.not_valid_before_utc == now
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert BASIC_INFO.name not in certificate.subject.rfc4514_string()
    assert len(str(common_name)) == 32
    extensions = certificate.extensions
    usage = extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value == profile.leaf_key_usage(SIGN)
    assert usage.value.digital_signature and usage.value.content_commitment
    assert not extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    issuer = _issuer_cert(session, AuthorityKind.SIGN)
    assert (
        extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        == issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )
    assert extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    policies = extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier for p in policies] == [jpki.domain.POLICY_SIGN]
    points = extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name == [
        x509.UniformResourceIdentifier("http://testserver/jpki/crl/sign.crl")
    ]
    access = {
        d.access_method: d.access_location.value
        for d in extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    }
    assert access == {
        AuthorityInformationAccessOID.OCSP: "http://testserver/jpki/ocsp",
        AuthorityInformationAccessOID.CA_ISSUERS: "http://testserver/jpki/ca/sign.crt",
    }
    assert jpki.read_basic_info(certificate) == BASIC_INFO


def test_the_auth_certificate_carries_no_personal_data(issue: IssueFn) -> None:
    certificate = issue(AUTH)
    with pytest.raises(x509.ExtensionNotFound):
        certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and not usage.value.content_commitment
    policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier for p in policies] == [jpki.domain.POLICY_AUTH]
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == "http://testserver/jpki/crl/auth.crl"  # type: ignore[index]
    with pytest.raises(jpki.NoBasicInfoError):
        jpki.read_basic_info(certificate)


def test_each_certificate_gets_its_own_serial_and_subject(issue: IssueFn) -> None:
    first, second = issue(AUTH), issue(AUTH)
    assert first.serial_number != second.serial_number
    assert first.subject != second.subject


@pytest.mark.parametrize("bits", [1024])
def test_it_refuses_to_certify_a_short_rsa_key(
    authorities: None, session: Session, settings: Settings, bits: int
) -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    with pytest.raises(jpki.WeakKeyError):
        jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=AUTH,
            public_key=short.public_key(),
            holder_id=1,
            card_id="c",
            birth_date=BIRTH_DATE,
            basic_info=None,
        )


def test_it_refuses_to_certify_a_key_that_is_not_rsa(
    authorities: None, session: Session, settings: Settings
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(jpki.WeakKeyError):
        jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=AUTH,
            public_key=key.public_key(),  # type: ignore[arg-type]
            holder_id=1,
            card_id="c",
            birth_date=BIRTH_DATE,
            basic_info=None,
        )


def test_a_signing_certificate_needs_the_basic_info(
    authorities: None,
    session: Session,
    settings: Settings,
    card_keys: dict[str, rsa.RSAPrivateKey],
) -> None:
    with pytest.raises(jpki.BasicInfoRequiredError):
        jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=SIGN,
            public_key=card_keys["sign"].public_key(),
            holder_id=1,
            card_id="c",
            birth_date=BIRTH_DATE,
            basic_info=None,
        )


def test_an_auth_certificate_refuses_the_basic_info(
    authorities: None,
    session: Session,
    settings: Settings,
    card_keys: dict[str, rsa.RSAPrivateKey],
) -> None:
    with pytest.raises(jpki.BasicInfoForbiddenError):
        jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=AUTH,
            public_key=card_keys["auth"].public_key(),
            holder_id=1,
            card_id="c",
            birth_date=BIRTH_DATE,
            basic_info=BASIC_INFO,
        )


def test_the_basic_info_must_agree_with_the_date_of_birth(
    authorities: None,
    session: Session,
    settings: Settings,
    card_keys: dict[str, rsa.RSAPrivateKey],
) -> None:
    with pytest.raises(jpki.InvalidBasicInfoError):
        jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=SIGN,
            public_key=card_keys["sign"].public_key(),
            holder_id=1,
            card_id="c",
            birth_date=date(1985, 7, 15),
            basic_info=BASIC_INFO,
        )


def test_it_refuses_an_empty_validity_period(issue: IssueFn) -> None:
    now = utcnow()
    with pytest.raises(jpki.InvalidValidityError):
        issue(AUTH, now=now, not_after=now - timedelta(seconds=1))


# --- verification: success ---------------------------------------------------------


def test_it_verifies_a_good_certificate_of_each_kind(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    for kind in (SIGN, AUTH):
        certificate = issue(kind, holder_id=42, card_id="card-42")
        verified = _verify(session, settings, certificate, kind)
        assert verified.serial == certificate.serial_number
        assert verified.kind is kind
        assert (verified.holder_id, verified.card_id) == (42, "card-42")
        assert verified.not_after == certificate.not_valid_after_utc
        common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert verified.subject_cn == common_name


def test_it_accepts_der_and_pem_bytes(issue: IssueFn, session: Session, settings: Settings) -> None:
    certificate = issue(AUTH)
    for encoding in (serialization.Encoding.DER, serialization.Encoding.PEM):
        verified = _verify(session, settings, certificate.public_bytes(encoding), AUTH)
        assert verified.serial == certificate.serial_number


def test_verification_costs_one_query_once_the_authorities_are_known(
    issue: IssueFn, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    certificate = issue(AUTH)
    with session_factory() as fresh:
        _verify(fresh, settings, certificate, AUTH)  # warms nothing new: CAs already known
        statements: list[str] = []
        connection = fresh.connection()

        def _count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                statements.append(statement)

        event.listen(connection, "before_cursor_execute", _count)
        try:
            fresh.expunge_all()
            _verify(fresh, settings, certificate, AUTH)
        finally:
            event.remove(connection, "before_cursor_execute", _count)
    assert len(statements) == 1
    assert "jpki_certificates" in statements[0]


def test_a_certificate_verified_before_is_still_checked_for_what_can_change(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    # The checks of its bytes are remembered; its purpose, its validity at the moment
    # asked and its revocation are not.
    now = utcnow()
    certificate = issue(AUTH, now=now - timedelta(days=1), not_after=now + timedelta(days=1))
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert _verify(session, settings, der, AUTH).serial == certificate.serial_number
    assert _failure(session, settings, der, SIGN) == "wrong_key_usage"
    assert _failure(session, settings, der, AUTH, at=now + timedelta(days=2)) == "expired"
    jpki.revoke_certificate(
        session=session, serial=certificate.serial_number, reason=jpki.RevocationReason.LOSS
    )
    assert _failure(session, settings, der, AUTH) == "revoked"


def test_a_copy_of_a_verified_certificate_with_a_byte_changed_is_checked_afresh(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    der = issue(AUTH).public_bytes(serialization.Encoding.DER)
    _verify(session, settings, der, AUTH)
    tampered = bytearray(der)
    tampered[-10] ^= 0xFF  # inside the signature value
    assert _failure(session, settings, bytes(tampered), AUTH) == "bad_certificate_signature"
    assert _verify(session, settings, der, AUTH).serial


def test_a_revocation_after_the_moment_of_verification_does_not_count(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(SIGN, now=utcnow() - timedelta(hours=1))
    signed_at = utcnow() - timedelta(minutes=1)
    jpki.revoke_certificate(
        session=session, serial=certificate.serial_number, reason=jpki.RevocationReason.DEATH
    )
    assert _verify(session, settings, certificate, SIGN, at=signed_at).serial
    assert _failure(session, settings, certificate, SIGN) == "revoked"


# --- verification: every failure code ----------------------------------------------


def test_it_rejects_a_revoked_certificate(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(AUTH)
    jpki.revoke_certificate(
        session=session, serial=certificate.serial_number, reason=jpki.RevocationReason.LOSS
    )
    assert _failure(session, settings, certificate, AUTH) == "revoked"


def test_it_rejects_an_expired_certificate(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    now = utcnow()
    certificate = issue(AUTH, now=now - timedelta(days=10), not_after=now - timedelta(days=1))
    assert _failure(session, settings, certificate, AUTH) == "expired"


def test_it_rejects_a_certificate_that_is_not_valid_yet(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(AUTH, now=utcnow() + timedelta(days=1))
    assert _failure(session, settings, certificate, AUTH) == "not_yet_valid"


def test_it_checks_validity_at_the_moment_asked(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(AUTH)
    after_expiry = certificate.not_valid_after_utc + timedelta(seconds=1)
    assert _failure(session, settings, certificate, AUTH, at=after_expiry) == "expired"


def _self_made_ca(kind: AuthorityKind) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A CA with exactly the names of ours, but its own key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = utcnow()
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = profile.build_root(key=root_key, now=now)
    issuing = profile.build_issuing(
        kind=kind, key=key, root=root, root_key=root_key, now=now, base_url="http://testserver"
    )
    return issuing, key


def test_it_rejects_a_certificate_from_a_different_ca_with_the_same_names(
    authorities: None,
    session: Session,
    settings: Settings,
    card_keys: dict[str, rsa.RSAPrivateKey],
) -> None:
    ca, ca_key = _self_made_ca(AuthorityKind.AUTH)
    assert ca.subject == _issuer_cert(session, AuthorityKind.AUTH).subject
    forged = profile.build_leaf(
        kind=AUTH,
        public_key=card_keys["auth"].public_key(),
        issuer=ca,
        issuer_key=ca_key,
        serial=x509.random_serial_number(),
        subject_cn="FORGED",
        not_before=utcnow(),
        not_after=utcnow() + timedelta(days=30),
        basic_info=None,
        base_url="http://testserver",
    )
    assert _failure(session, settings, forged, AUTH) == "untrusted_issuer"


def test_it_rejects_a_tampered_certificate_signature(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    der = bytearray(issue(AUTH).public_bytes(serialization.Encoding.DER))
    der[-10] ^= 0xFF  # inside the signature value, the last field
    assert _failure(session, settings, bytes(der), AUTH) == "bad_certificate_signature"


def test_it_rejects_a_certificate_whose_body_was_altered(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(SIGN)
    der = certificate.public_bytes(serialization.Encoding.DER)
    # Change the holder's name inside the signed body; the signature no longer fits.
    altered = der.replace("渡邊".encode(), "渡部".encode())
    assert altered != der
    assert _failure(session, settings, altered, SIGN) == "bad_certificate_signature"


def test_it_rejects_an_auth_certificate_used_to_sign(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    assert _failure(session, settings, issue(AUTH), SIGN) == "wrong_key_usage"


def test_it_rejects_a_signing_certificate_used_to_log_in(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    assert _failure(session, settings, issue(SIGN), AUTH) == "wrong_key_usage"


def test_it_rejects_a_certificate_with_the_wrong_key_usage_bits(
    authorities: None,
    session: Session,
    settings: Settings,
    card_keys: dict[str, rsa.RSAPrivateKey],
) -> None:
    issuer = _issuer_cert(session, AuthorityKind.AUTH)
    key = _issuer_key(session, settings, AuthorityKind.AUTH)
    wrong = (
        x509.CertificateBuilder()
        .subject_name(profile.leaf_subject("WRONGUSAGE"))
        .issuer_name(issuer.subject)
        .public_key(card_keys["auth"].public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(utcnow() - timedelta(minutes=1))
        .not_valid_after(utcnow() + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(profile.leaf_key_usage(SIGN), critical=True)  # nonRepudiation too
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    assert _failure(session, settings, wrong, AUTH) == "wrong_key_usage"


def _signed_by_our_auth_ca(
    session: Session,
    settings: Settings,
    public_key: rsa.RSAPublicKey,
    algorithm: hashes.HashAlgorithm,
) -> x509.Certificate:
    issuer = _issuer_cert(session, AuthorityKind.AUTH)
    key = _issuer_key(session, settings, AuthorityKind.AUTH)
    return (
        x509.CertificateBuilder()
        .subject_name(profile.leaf_subject("WEAK"))
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(utcnow() - timedelta(minutes=1))
        .not_valid_after(utcnow() + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(profile.leaf_key_usage(AUTH), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, algorithm)
    )


def test_it_rejects_a_short_key_even_from_our_ca(
    authorities: None, session: Session, settings: Settings
) -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    weak = _signed_by_our_auth_ca(session, settings, short.public_key(), hashes.SHA256())
    assert _failure(session, settings, weak, AUTH) == "weak_algorithm"


_SHA256_WITH_RSA = bytes.fromhex("06092a864886f70d01010b")
_SHA1_WITH_RSA = bytes.fromhex("06092a864886f70d010105")


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _resigned_with_sha1(certificate: x509.Certificate, key: rsa.RSAPrivateKey) -> bytes:
    """The same certificate signed with sha1WithRSAEncryption (cryptography refuses to)."""
    tbs = certificate.tbs_certificate_bytes.replace(_SHA256_WITH_RSA, _SHA1_WITH_RSA)
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - the point
    algorithm = _der(0x30, _SHA1_WITH_RSA + b"\x05\x00")
    return _der(0x30, tbs + algorithm + _der(0x03, b"\x00" + signature))


def test_it_rejects_a_weak_signature_algorithm(
    authorities: None,
    session: Session,
    settings: Settings,
    card_keys: dict[str, rsa.RSAPrivateKey],
) -> None:
    good = _signed_by_our_auth_ca(
        session, settings, card_keys["auth"].public_key(), hashes.SHA256()
    )
    weak = x509.load_der_x509_certificate(
        _resigned_with_sha1(good, _issuer_key(session, settings, AuthorityKind.AUTH))
    )
    assert weak.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA1
    # Truly signed by our CA: only the algorithm is wrong.
    _issuer_key(session, settings, AuthorityKind.AUTH).public_key().verify(
        weak.signature,
        weak.tbs_certificate_bytes,
        padding.PKCS1v15(),
        hashes.SHA1(),  # noqa: S303 - checking the weak signature is the point
    )
    assert _failure(session, settings, weak, AUTH) == "weak_algorithm"


def test_it_rejects_a_certificate_our_ca_signed_but_never_recorded(
    authorities: None,
    session: Session,
    settings: Settings,
    card_keys: dict[str, rsa.RSAPrivateKey],
) -> None:
    stray = _signed_by_our_auth_ca(
        session, settings, card_keys["auth"].public_key(), hashes.SHA256()
    )
    assert _failure(session, settings, stray, AUTH) == "untrusted_issuer"


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not a certificate", b"\x30\x03\x02\x01\x01", b"-----BEGIN CERTIFICATE-----\nxx\n"],
)
def test_it_rejects_garbage_bytes(
    authorities: None, session: Session, settings: Settings, garbage: bytes
) -> None:
    assert _failure(session, settings, garbage, AUTH) == "malformed_certificate"


def test_it_rejects_a_truncated_certificate(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    der = issue(AUTH).public_bytes(serialization.Encoding.DER)
    assert _failure(session, settings, der[: len(der) // 2], AUTH) == "malformed_certificate"


# --- signatures --------------------------------------------------------------------


def test_it_verifies_a_pkcs1_v15_sha256_signature(
    issue: IssueFn, card_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    certificate = issue(SIGN)
    data = "申請書".encode()
    signature = card_keys["sign"].sign(data, padding.PKCS1v15(), hashes.SHA256())
    jpki.verify_signature(certificate=certificate, data=data, signature=signature)
    with pytest.raises(jpki.VerificationError) as caught:
        jpki.verify_signature(certificate=certificate, data=data + b"!", signature=signature)
    assert caught.value.code == "bad_signature"


def test_it_rejects_a_pss_signature_and_a_signature_by_another_key(
    issue: IssueFn, card_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    certificate = issue(AUTH)
    data = b"challenge"
    pss = card_keys["auth"].sign(
        data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()
    )
    other = card_keys["other"].sign(data, padding.PKCS1v15(), hashes.SHA256())
    for signature in (pss, other, b"", b"\x00" * 256):
        with pytest.raises(jpki.VerificationError) as caught:
            jpki.verify_signature(certificate=certificate, data=data, signature=signature)
        assert caught.value.code == "bad_signature"
