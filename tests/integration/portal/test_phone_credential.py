"""The phone credential (スマホ用電子証明書) over HTTP: issuance, login, signing, revocation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import card, jpki
from myna.applications import forms, submission
from myna.jpki.domain import POLICY_AUTH, POLICY_PHONE_AUTH, POLICY_PHONE_SIGN, POLICY_SIGN
from myna.moves import service as moves
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.applications.filing import DISASTER, PROCEDURES, VALID_DISASTER
from tests.integration.portal.conftest import IssuedCard, issue
from tests.integration.portal.phonekit import (
    PORTAL,
    Phone,
    issue_phone,
    login_with_card,
    send_keys,
    sign_with_card,
    start,
)
from tests.webauthn_authenticator import SoftAuthenticator

# One worker builds this module's shared fixture once (make test runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("integration.portal.test_phone_credential")


@pytest.fixture(scope="module")
def phone_keys() -> list[rsa.RSAPrivateKey]:
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(4)]


def _device(keys: list[rsa.RSAPrivateKey], first: int = 0) -> Phone:
    return Phone(
        sign_key=keys[first],
        auth_key=keys[first + 1],
        authenticator=SoftAuthenticator(rp_id="testserver", origin=PORTAL),
    )


@pytest.fixture
def taro_phone(
    portal: TestClient, taro_card: IssuedCard, phone_keys: list[rsa.RSAPrivateKey]
) -> Phone:
    return issue_phone(portal, taro_card, _device(phone_keys))


@pytest.fixture
def other(portal: TestClient) -> Iterator[TestClient]:
    with TestClient(portal.app, base_url=PORTAL) as client:
        yield client


def _policies(certificate: x509.Certificate) -> set[x509.ObjectIdentifier]:
    policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    return {p.policy_identifier for p in policies}


def _signing_request(session: Session, resident_id: int, key: str = "phone-key-1") -> str:
    resident_code = session.execute(
        __import__("sqlalchemy").text("SELECT municipality_code FROM residents WHERE id = :i"),
        {"i": resident_id},
    ).scalar_one()
    forms.save_draft(
        session=session,
        resident_id=resident_id,
        municipality_code=resident_code,
        code=DISASTER,
        data=dict(VALID_DISASTER),
    )
    view = submission.prepare(
        session=session,
        procedures=PROCEDURES,
        resident_id=resident_id,
        municipality_code=resident_code,
        code=DISASTER,
        submission_key=key,
    )
    session.commit()
    return view.id


def test_a_phone_credential_is_issued_from_the_card_and_logs_in_and_signs(
    portal: TestClient,
    other: TestClient,
    session: Session,
    settings: Settings,
    taro_card: IssuedCard,
    taro_phone: Phone,
) -> None:
    sign, auth = taro_phone.sign_certificate, taro_phone.auth_certificate
    assert sign is not None and auth is not None
    assert _policies(sign) == {POLICY_PHONE_SIGN}
    assert _policies(auth) == {POLICY_PHONE_AUTH}
    # The signing certificate carries the card's 4 info; the auth one carries none.
    card_certs = jpki.list_certificates(session=session, card_id=taro_card.card_id)
    card_sign = next(c for c in card_certs if c.kind is jpki.CertificateKind.SIGN)
    assert jpki.read_basic_info(sign).name == "山田 太郎"
    with pytest.raises(jpki.NoBasicInfoError):
        jpki.read_basic_info(auth)
    assert sign.serial_number != card_sign.serial
    assert sign.not_valid_after_utc <= card_sign.not_after
    assert auth.not_valid_after_utc <= card_sign.not_after
    verified = jpki.verify_certificate(
        session=session, settings=settings, certificate=auth, kind=jpki.CertificateKind.AUTH
    )
    assert verified.medium is jpki.CredentialMedium.PHONE
    assert verified.holder_id == taro_card.resident_id

    logged_in = taro_phone.login(other)
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json()["status"] == "logged_in"
    assert other.get("/api/me").json()["name"] == "山田 太郎"

    request_id = _signing_request(session, taro_card.resident_id)
    signed = taro_phone.sign(other, request_id)
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "received"


def test_the_card_certificates_keep_their_own_policies(
    session: Session, taro_card: IssuedCard
) -> None:
    session_card = taro_card.reader.open_session(taro_card.card_id, "auth", "4321")
    assert _policies(session_card.certificate) == {POLICY_AUTH}
    signing = taro_card.reader.open_session(taro_card.card_id, "sign", "SIGN2026")
    assert _policies(signing.certificate) == {POLICY_SIGN}


def test_a_second_phone_is_refused_until_the_first_is_reported_lost(
    portal: TestClient,
    taro_card: IssuedCard,
    taro_phone: Phone,
    phone_keys: list[rsa.RSAPrivateKey],
) -> None:
    login_with_card(portal, taro_card)
    second = start(portal)
    assert second.status_code == 409
    assert second.json()["error"] == "phone_already_issued"
    assert "紛失" in second.json()["message"]  # Japanese first

    lost = portal.post("/api/phone/credential/lost")
    assert lost.status_code == 200
    again = issue_phone(portal, taro_card, _device(phone_keys, 2))
    assert again.sign_certificate is not None


def test_no_phone_credential_comes_from_a_card_whose_certificates_are_revoked(
    portal: TestClient, session: Session, settings: Settings, taro_card: IssuedCard
) -> None:
    login_with_card(portal, taro_card)
    card.report_lost(session=session, settings=settings, card_id=taro_card.card_id)
    session.commit()
    refused = start(portal)
    assert refused.status_code == 409
    assert refused.json()["error"] == "card_certificates_unusable"


def test_reporting_the_card_lost_revokes_the_phone_too(
    portal: TestClient,
    other: TestClient,
    session: Session,
    settings: Settings,
    taro_card: IssuedCard,
    taro_phone: Phone,
) -> None:
    card.report_lost(session=session, settings=settings, card_id=taro_card.card_id)
    session.commit()
    refused = taro_phone.login(other)
    assert refused.status_code == 400
    assert refused.json()["error"] == "revoked"


def test_a_phone_reported_lost_from_the_portal_cannot_be_used(
    portal: TestClient, other: TestClient, taro_phone: Phone
) -> None:
    assert portal.post("/api/phone/credential/lost").json() == {"status": "revoked"}
    refused = taro_phone.login(other)
    assert refused.status_code == 400
    assert refused.json()["error"] == "revoked"
    assert portal.get("/api/phone/credential").status_code == 404


def test_the_phone_reports_itself_lost(
    other: TestClient, portal: TestClient, taro_phone: Phone
) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding  # noqa: PLC0415

    from myna.platform.encoding import b64url, b64url_decode  # noqa: PLC0415
    from tests.integration.portal.phonekit import pkcs1  # noqa: PLC0415

    assert taro_phone.auth_certificate is not None
    challenge = other.post("/api/login/challenges").json()
    message = b64url_decode(challenge["to_be_signed"])
    revoked = other.post(
        "/api/phone/revocations",
        json={
            "challenge_id": challenge["challenge_id"],
            "certificate": b64url(taro_phone.auth_certificate.public_bytes(Encoding.DER)),
            "signature": b64url(pkcs1(taro_phone.auth_key, message)),
            "unlock": taro_phone.unlock(message),
        },
    )
    assert revoked.status_code == 200, revoked.text
    assert taro_phone.login(other).json()["error"] == "revoked"


def test_a_move_revokes_the_phone_signing_certificate_and_spares_its_auth_one(
    other: TestClient,
    session: Session,
    settings: Settings,
    taro_card: IssuedCard,
    taro_phone: Phone,
) -> None:
    # What completing a move does to each member's certificates (moves.service).
    moves._revoke_signing_certificates(session, taro_card.resident_id, utcnow())
    session.commit()
    assert taro_phone.sign_certificate is not None
    record = jpki.certificate_status(
        session=session, serial=taro_phone.sign_certificate.serial_number
    )
    assert record.status is jpki.CertificateStatus.REVOKED
    assert record.revocation_reason is jpki.RevocationReason.BASIC_INFO_CHANGE
    assert taro_phone.login(other).json()["status"] == "logged_in"


def test_a_login_without_the_unlock_is_refused(other: TestClient, taro_phone: Phone) -> None:
    refused = taro_phone.login(other, unlock=None)
    assert refused.status_code == 401
    assert refused.json()["error"] == "unlock_required"


def test_an_unlock_for_another_origin_is_refused(other: TestClient, taro_phone: Phone) -> None:
    refused = taro_phone.login(other, origin="https://evil.example")
    assert refused.status_code == 400
    assert refused.json()["error"] == "unlock_wrong_origin"


def test_an_unlock_without_user_verification_is_refused(
    other: TestClient, taro_phone: Phone
) -> None:
    refused = taro_phone.login(other, verified=False)
    assert refused.status_code == 400
    assert refused.json()["error"] == "unlock_no_user_verification"


def test_a_registration_without_user_verification_is_refused(
    portal: TestClient, taro_card: IssuedCard, phone_keys: list[rsa.RSAPrivateKey]
) -> None:
    login_with_card(portal, taro_card)
    started = start(portal).json()
    refused = send_keys(portal, _device(phone_keys), started, verified=False)
    assert refused.status_code == 400
    assert refused.json()["error"] == "unlock_registration_refused"


def test_a_key_without_proof_of_possession_is_refused(
    portal: TestClient, taro_card: IssuedCard, phone_keys: list[rsa.RSAPrivateKey]
) -> None:
    login_with_card(portal, taro_card)
    started = start(portal).json()
    refused = send_keys(portal, _device(phone_keys), started, sign_proof="A" * 344)
    assert refused.status_code == 400
    assert refused.json()["error"] == "phone_key_possession"


def test_a_replayed_challenge_and_a_replayed_unlock_are_refused(
    other: TestClient, taro_phone: Phone
) -> None:
    challenge = other.post("/api/login/challenges").json()
    first = taro_phone.answer(other, challenge)
    assert first.json()["status"] == "logged_in"
    replay = taro_phone.answer(other, challenge)
    assert replay.status_code == 409
    assert replay.json()["error"] == "challenge_used"
    # An unlock made for one challenge does not unlock another...
    from myna.platform.encoding import b64url_decode  # noqa: PLC0415

    old = taro_phone.unlock(b64url_decode(challenge["to_be_signed"]))
    refused = taro_phone.login(other, unlock=old)
    assert refused.json()["error"] == "unlock_wrong_challenge"
    # ... and a counter that does not move past the last one seen is a copied authenticator.
    taro_phone.authenticator.counter = 0
    refused = taro_phone.login(other)
    assert refused.json()["error"] == "unlock_replayed"


def test_another_residents_phone_unlock_or_signature_is_refused(
    portal: TestClient,
    other: TestClient,
    session: Session,
    settings: Settings,
    reader: card.VirtualCardReader,
    taro_phone: Phone,
    phone_keys: list[rsa.RSAPrivateKey],
) -> None:
    hanako_card = issue(session, settings, reader, "hanako")
    with TestClient(portal.app, base_url=PORTAL) as hanako_client:
        hanako_phone = issue_phone(hanako_client, hanako_card, _device(phone_keys, 2))
    # Taro's key with Hanako's unlock: not this phone's.
    challenge = other.post("/api/login/challenges").json()
    from myna.platform.encoding import b64url_decode  # noqa: PLC0415

    message = b64url_decode(challenge["to_be_signed"])
    refused = taro_phone.answer(other, challenge, unlock=hanako_phone.unlock(message))
    assert refused.json()["error"] == "unlock_wrong_credential"
    # Hanako's phone cannot sign Taro's application.
    request_id = _signing_request(session, hanako_card.resident_id - 0, "phone-key-h")
    taro_request = _signing_request(session, taro_phone_resident(session), "phone-key-t")
    assert request_id != taro_request
    mismatch = hanako_phone.sign(other, taro_request)
    assert mismatch.status_code == 403
    assert mismatch.json()["error"] == "signer_mismatch"


def taro_phone_resident(session: Session) -> int:
    from myna import registry  # noqa: PLC0415

    return registry.ensure_personas(session=session)["taro"].id


def test_a_phone_signature_without_the_unlock_is_refused(
    other: TestClient, session: Session, taro_card: IssuedCard, taro_phone: Phone
) -> None:
    request_id = _signing_request(session, taro_card.resident_id)
    refused = taro_phone.sign(other, request_id, unlock=None)
    assert refused.status_code == 401
    assert refused.json()["error"] == "unlock_required"
    refused = taro_phone.sign(other, request_id, verified=False)
    assert refused.json()["error"] == "unlock_no_user_verification"
    assert taro_phone.sign(other, request_id).json()["status"] == "received"


def test_a_phone_login_cannot_issue_another_phone(other: TestClient, taro_phone: Phone) -> None:
    assert taro_phone.login(other).json()["status"] == "logged_in"
    refused = start(other)
    assert refused.status_code == 403
    assert refused.json()["error"] == "card_login_required"


def test_the_card_must_sign_the_issuance_request(
    portal: TestClient,
    session: Session,
    settings: Settings,
    reader: card.VirtualCardReader,
    taro_card: IssuedCard,
    phone_keys: list[rsa.RSAPrivateKey],
) -> None:
    hanako_card = issue(session, settings, reader, "hanako")
    login_with_card(portal, taro_card)
    keys = send_keys(portal, _device(phone_keys), start(portal).json())
    refused = sign_with_card(portal, hanako_card, keys.json()["request_id"])
    assert refused.status_code == 403
    assert refused.json()["error"] == "signer_mismatch"
