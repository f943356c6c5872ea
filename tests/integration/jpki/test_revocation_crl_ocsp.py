"""Revocation (失効), the CRLs (RFC 5280 §5) and the OCSP responder (RFC 6960)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp
from sqlalchemy.orm import Session

from myna import jpki
from myna.jpki import profile
from myna.jpki.domain import AuthorityKind
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.jpki.conftest import IssueFn

SIGN = jpki.CertificateKind.SIGN
AUTH = jpki.CertificateKind.AUTH
Reason = jpki.RevocationReason
# RFC 5019 §2.1.1: OCSP clients identify certificates by SHA-1 CertIDs.
CERT_ID_HASH = hashes.SHA1()  # noqa: S303


def _ca(session: Session, kind: AuthorityKind) -> x509.Certificate:
    return x509.load_der_x509_certificate(jpki.ca_certificate(session=session, kind=kind))


def _crl(session: Session, settings: Settings, kind: str) -> x509.CertificateRevocationList:
    return x509.load_der_x509_crl(jpki.current_crl(session=session, settings=settings, kind=kind))


def _number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


# --- revocation ----------------------------------------------------------------------


def test_a_move_revokes_the_signing_certificate_and_spares_the_auth_one(
    issue: IssueFn, session: Session
) -> None:
    sign, auth = issue(SIGN, card_id="card-move"), issue(AUTH, card_id="card-move")
    revoked = jpki.revoke_for_card(
        session=session, card_id="card-move", reason=Reason.BASIC_INFO_CHANGE
    )
    assert [r.serial for r in revoked] == [sign.serial_number]
    status = jpki.certificate_status(session=session, serial=auth.serial_number)
    assert status.status is jpki.CertificateStatus.VALID


@pytest.mark.parametrize("reason", [Reason.LOSS, Reason.DEATH, Reason.CARD_REPLACEMENT])
def test_loss_death_and_replacement_revoke_both_certificates(
    issue: IssueFn, session: Session, reason: jpki.RevocationReason
) -> None:
    issue(SIGN, card_id="card-x")
    issue(AUTH, card_id="card-x")
    issue(AUTH, card_id="another-card")
    revoked = jpki.revoke_for_card(session=session, card_id="card-x", reason=reason)
    assert sorted(r.kind for r in revoked) == [AUTH, SIGN]
    assert all(r.revocation_reason is reason for r in revoked)
    others = jpki.list_certificates(session=session, card_id="another-card")
    assert [r.status for r in others] == [jpki.CertificateStatus.VALID]


def test_a_move_cannot_be_used_to_revoke_the_auth_certificate(
    issue: IssueFn, session: Session
) -> None:
    issue(AUTH, card_id="card-y")
    with pytest.raises(jpki.RevocationNotApplicableError):
        jpki.revoke_for_card(
            session=session, card_id="card-y", kinds=[AUTH], reason=Reason.BASIC_INFO_CHANGE
        )


def test_revoking_twice_keeps_the_first_reason_and_date(issue: IssueFn, session: Session) -> None:
    serial = issue(AUTH).serial_number
    first = jpki.revoke_certificate(session=session, serial=serial, reason=Reason.LOSS)
    second = jpki.revoke_certificate(session=session, serial=serial, reason=Reason.DEATH)
    assert second.revocation_reason is Reason.LOSS
    assert second.revoked_at == first.revoked_at


def test_revoking_an_unknown_serial_says_so(authorities: None, session: Session) -> None:
    with pytest.raises(jpki.CertificateNotFoundError):
        jpki.revoke_certificate(session=session, serial=12345, reason=Reason.LOSS)


def test_the_invalidity_date_is_when_the_card_was_lost(issue: IssueFn, session: Session) -> None:
    serial = issue(AUTH, now=utcnow() - timedelta(days=3)).serial_number
    lost_on = utcnow().replace(microsecond=0) - timedelta(days=2)
    record = jpki.revoke_certificate(session=session, serial=serial, reason=Reason.LOSS, at=lost_on)
    assert record.invalidity_date == lost_on
    assert record.revoked_at is not None and record.revoked_at > lost_on
    assert record.revoked_by(lost_on)
    assert not record.revoked_by(lost_on - timedelta(seconds=1))


def test_the_records_hold_no_personal_data(issue: IssueFn, session: Session) -> None:
    issue(SIGN, holder_id=99, card_id="card-99")
    (record,) = jpki.list_certificates(session=session, holder_id=99)
    assert record.card_id == "card-99"
    assert "渡" not in repr(record)


# --- CRL -----------------------------------------------------------------------------


def test_the_crl_lists_revocations_with_reasons_and_invalidity_dates(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    lost = issue(SIGN, card_id="a", now=utcnow() - timedelta(days=2))
    moved = issue(SIGN, card_id="b")
    kept = issue(SIGN, card_id="c")
    lost_on = utcnow().replace(microsecond=0) - timedelta(days=1)
    jpki.revoke_certificate(
        session=session, serial=lost.serial_number, reason=Reason.LOSS, at=lost_on
    )
    jpki.revoke_for_card(session=session, card_id="b", reason=Reason.BASIC_INFO_CHANGE)
    crl = _crl(session, settings, "sign")
    ca = _ca(session, AuthorityKind.SIGN)
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    assert crl.issuer == ca.subject
    assert crl.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.RSA_WITH_SHA256
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == timedelta(hours=24)
    assert (
        crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        == ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )
    entries = {entry.serial_number: entry for entry in crl}
    assert set(entries) == {lost.serial_number, moved.serial_number}
    assert kept.serial_number not in entries
    lost_entry = entries[lost.serial_number]
    assert lost_entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
        x509.ReasonFlags.key_compromise
    )
    invalidity = lost_entry.extensions.get_extension_for_class(x509.InvalidityDate).value
    assert invalidity.invalidity_date_utc == lost_on
    moved_reason = entries[moved.serial_number].extensions.get_extension_for_class(x509.CRLReason)
    assert moved_reason.value.reason is x509.ReasonFlags.affiliation_changed


def test_the_crl_is_cached_until_a_revocation_and_then_renumbered(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(AUTH)
    first = jpki.current_crl(session=session, settings=settings, kind="auth")
    assert jpki.current_crl(session=session, settings=settings, kind="auth") == first
    jpki.revoke_certificate(
        session=session, serial=certificate.serial_number, reason=Reason.CARD_REPLACEMENT
    )
    second = jpki.current_crl(session=session, settings=settings, kind="auth")
    assert second != first
    assert _number(x509.load_der_x509_crl(second)) == _number(x509.load_der_x509_crl(first)) + 1
    assert [e.serial_number for e in x509.load_der_x509_crl(second)] == [certificate.serial_number]


def test_each_ca_publishes_its_own_crl(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(AUTH)
    jpki.revoke_certificate(session=session, serial=certificate.serial_number, reason=Reason.LOSS)
    assert len(_crl(session, settings, "sign")) == 0
    assert len(_crl(session, settings, "auth")) == 1
    root_crl = _crl(session, settings, "root")
    assert len(root_crl) == 0
    assert root_crl.is_signature_valid(_ca(session, AuthorityKind.ROOT).public_key())  # type: ignore[arg-type]


def test_an_expired_revoked_certificate_leaves_the_crl(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    now = utcnow()
    old = issue(SIGN, now=now - timedelta(days=30), not_after=now - timedelta(days=1))
    jpki.revoke_certificate(session=session, serial=old.serial_number, reason=Reason.DEATH)
    assert old.serial_number not in {e.serial_number for e in _crl(session, settings, "sign")}


def test_an_unknown_crl_is_refused(authorities: None, session: Session, settings: Settings) -> None:
    with pytest.raises(jpki.domain.UnknownAuthorityError):
        jpki.current_crl(session=session, settings=settings, kind="nope")


# --- OCSP ----------------------------------------------------------------------------


def _request(
    certificate: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None = None
) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, CERT_ID_HASH)
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _ask(session: Session, settings: Settings, request: bytes) -> ocsp.OCSPResponse:
    return ocsp.load_der_ocsp_response(
        jpki.ocsp_response(session=session, settings=settings, request_der=request)
    )


def _check_signed_by(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> None:
    public_key = issuer.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(
        response.signature, response.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256()
    )


def test_ocsp_says_good_for_a_valid_certificate_and_echoes_the_nonce(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(SIGN)
    issuer = _ca(session, AuthorityKind.SIGN)
    nonce = os.urandom(32)
    response = _ask(session, settings, _request(certificate, issuer, nonce))
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == certificate.serial_number
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
    assert response.responder_key_hash == (
        issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )
    assert response.next_update_utc is not None
    assert response.next_update_utc > response.this_update_utc
    _check_signed_by(response, issuer)


def test_ocsp_says_revoked_with_time_and_reason(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(AUTH)
    record = jpki.revoke_certificate(
        session=session, serial=certificate.serial_number, reason=Reason.DEATH
    )
    response = _ask(session, settings, _request(certificate, _ca(session, AuthorityKind.AUTH)))
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == record.revoked_at
    assert response.revocation_reason is x509.ReasonFlags.cessation_of_operation


def test_ocsp_says_unknown_for_a_serial_it_never_issued(
    issue: IssueFn, session: Session, settings: Settings, card_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    issuer = _ca(session, AuthorityKind.AUTH)
    never = profile.build_leaf(
        kind=AUTH,
        public_key=card_keys["auth"].public_key(),
        issuer=issuer,
        issuer_key=card_keys["other"],
        serial=424242,
        subject_cn="X",
        not_before=utcnow(),
        not_after=utcnow() + timedelta(days=1),
        basic_info=None,
        base_url="http://x",
    )
    response = _ask(session, settings, _request(never, issuer))
    assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN


def _hashes(issuer: x509.Certificate) -> tuple[bytes, bytes]:
    name = hashes.Hash(CERT_ID_HASH)
    name.update(issuer.subject.public_bytes())
    key = hashes.Hash(CERT_ID_HASH)
    key.update(
        issuer.public_key().public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )
    )
    return name.finalize(), key.finalize()


def test_ocsp_says_unknown_when_asked_about_a_certificate_under_the_other_ca(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    auth_certificate = issue(AUTH)
    # Right serial, wrong issuer: the signing CA never issued it.
    request = _by_hash(_ca(session, AuthorityKind.SIGN), auth_certificate.serial_number)
    response = _ask(session, settings, request)
    assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN


def test_ocsp_refuses_a_request_mixing_one_cas_name_with_anothers_key(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(AUTH)
    # The name hash comes from the certificate's issuer (auth), the key hash from sign.
    response = _ask(session, settings, _request(certificate, _ca(session, AuthorityKind.SIGN)))
    assert response.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


def _by_hash(issuer: x509.Certificate, serial: int) -> bytes:
    name_hash, key_hash = _hashes(issuer)
    return (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(name_hash, key_hash, serial, CERT_ID_HASH)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )


def test_ocsp_refuses_to_answer_for_a_ca_that_is_not_ours(
    issue: IssueFn, session: Session, settings: Settings, card_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    certificate = issue(AUTH)
    root = _ca(session, AuthorityKind.ROOT)
    # Same names as our user-authentication CA, another key.
    impostor = profile.build_issuing(
        kind=AuthorityKind.AUTH,
        key=card_keys["other"],
        root=root,
        root_key=card_keys["other"],
        now=utcnow(),
        base_url="http://x",
    )
    for issuer in (impostor, root):  # our root issues no card certificates
        response = _ask(session, settings, _by_hash(issuer, certificate.serial_number))
        assert response.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize("garbage", [b"", b"\x30\x00", b"hello", b"\x30\x82\xff\xff" + b"a" * 10])
def test_ocsp_answers_malformed_request_to_garbage(
    authorities: None, session: Session, settings: Settings, garbage: bytes
) -> None:
    response = _ask(session, settings, garbage)
    assert response.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_ocsp_refuses_an_oversized_nonce(
    issue: IssueFn, session: Session, settings: Settings
) -> None:
    certificate = issue(AUTH)
    request = _request(certificate, _ca(session, AuthorityKind.AUTH), nonce=b"n" * 129)
    response = _ask(session, settings, request)
    assert response.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
