"""Card login over HTTP: the same-device API flow and every way it must fail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from myna import jpki
from myna.app import create_app
from myna.cardlogin.models import LoginChallenge
from myna.platform.db import utcnow
from myna.platform.encoding import b64url, b64url_decode
from myna.portal.models import AuthEvent
from myna.reader import client as login_client
from tests.integration.portal.conftest import PASSWORD, PIN, IssuedCard

PORTAL = "http://testserver"


def _challenge(portal: TestClient) -> dict[str, str]:
    response = portal.post("/api/login/challenges")
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def _answer(portal: TestClient, challenge_id: str, certificate: bytes, signature: bytes):  # type: ignore[no-untyped-def]
    return portal.post(
        f"/api/login/challenges/{challenge_id}/response",
        json={"certificate": b64url(certificate), "signature": b64url(signature)},
    )


def test_a_resident_logs_in_with_the_card_and_the_session_rotates(
    portal: TestClient, taro_card: IssuedCard
) -> None:
    portal.post("/api/login/challenges")
    before = portal.cookies.get("myna_session")
    session = taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    result = login_client.login(portal, PORTAL, session)
    after = portal.cookies.get("myna_session")

    assert result.resident["name"] == "山田 太郎"
    assert before and after and before != after
    me = portal.get("/api/me")
    assert me.status_code == 200
    assert me.json()["name_kana"] == "ヤマダ タロウ"
    # The pre-login token is dead: it cannot be used to reach the account.
    stale = TestClient(portal.app, base_url=PORTAL, cookies={"myna_session": before})
    assert stale.get("/api/me").status_code == 401


def test_the_session_cookie_is_httponly_and_samesite(
    portal: TestClient, taro_card: IssuedCard
) -> None:
    response = portal.post("/api/login/challenges")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_it_rejects_a_replayed_challenge(portal: TestClient, taro_card: IssuedCard) -> None:
    card = taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    challenge = _challenge(portal)
    message = b64url_decode(challenge["to_be_signed"])
    certificate = card.certificate.public_bytes(Encoding.DER)
    signature = card.sign(message)

    first = _answer(portal, challenge["challenge_id"], certificate, signature)
    assert first.json()["status"] == "logged_in"
    replay = _answer(portal, challenge["challenge_id"], certificate, signature)
    assert replay.status_code == 409
    assert replay.json()["error"] == "challenge_used"


def test_it_rejects_an_expired_challenge(
    portal: TestClient, taro_card: IssuedCard, session: Session
) -> None:
    card = taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    challenge = _challenge(portal)
    session.execute(
        update(LoginChallenge)
        .where(LoginChallenge.id == challenge["challenge_id"])
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    response = _answer(
        portal,
        challenge["challenge_id"],
        card.certificate.public_bytes(Encoding.DER),
        card.sign(b64url_decode(challenge["to_be_signed"])),
    )
    assert response.status_code == 410
    assert response.json()["error"] == "challenge_expired"


def test_it_rejects_a_tampered_signature_and_records_the_attempt(
    portal: TestClient, taro_card: IssuedCard, session: Session
) -> None:
    card = taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    challenge = _challenge(portal)
    signature = bytearray(card.sign(b64url_decode(challenge["to_be_signed"])))
    signature[10] ^= 0xFF
    response = _answer(
        portal,
        challenge["challenge_id"],
        card.certificate.public_bytes(Encoding.DER),
        bytes(signature),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_signature"
    assert portal.get("/api/me").status_code == 401
    outcomes = session.scalars(
        select(AuthEvent.outcome).where(AuthEvent.challenge_id == challenge["challenge_id"])
    ).all()
    assert "bad_signature" in outcomes
    # The failed answer consumed the challenge: a correct one cannot follow.
    retry = _answer(
        portal,
        challenge["challenge_id"],
        card.certificate.public_bytes(Encoding.DER),
        card.sign(b64url_decode(challenge["to_be_signed"])),
    )
    assert retry.status_code == 409


def test_it_rejects_a_signature_over_another_portals_message(
    portal: TestClient, taro_card: IssuedCard
) -> None:
    card = taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    challenge = _challenge(portal)
    forged = b64url_decode(challenge["to_be_signed"]).replace(b"testserver", b"evil.example")
    response = _answer(
        portal,
        challenge["challenge_id"],
        card.certificate.public_bytes(Encoding.DER),
        card.sign(forged),
    )
    assert response.json()["error"] == "bad_signature"


def test_it_rejects_a_revoked_certificate(
    portal: TestClient, taro_card: IssuedCard, session: Session
) -> None:
    card = taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    jpki.revoke_for_card(
        session=session,
        card_id=taro_card.card_id,
        kinds=[jpki.CertificateKind.AUTH, jpki.CertificateKind.SIGN],
        reason=jpki.RevocationReason.LOSS,
    )
    session.commit()
    challenge = _challenge(portal)
    response = _answer(
        portal,
        challenge["challenge_id"],
        card.certificate.public_bytes(Encoding.DER),
        card.sign(b64url_decode(challenge["to_be_signed"])),
    )
    assert response.status_code in (400, 403)
    assert response.json()["error"] == "revoked"
    assert response.json()["message"]


def test_it_rejects_the_signing_certificate_for_login(
    portal: TestClient, taro_card: IssuedCard
) -> None:
    signing = taro_card.reader.open_session(taro_card.card_id, "sign", PASSWORD)
    challenge = _challenge(portal)
    response = _answer(
        portal,
        challenge["challenge_id"],
        signing.certificate.public_bytes(Encoding.DER),
        signing.sign(b64url_decode(challenge["to_be_signed"])),
    )
    assert response.json()["error"] in ("wrong_key_usage", "untrusted_issuer")


@pytest.mark.parametrize(
    "body",
    [
        {"certificate": "not base64 at all!!!!", "signature": "AAAAAAAAAAAAAAAAAAAA"},
        {"certificate": b64url(b"\x30\x82garbage-garbage"), "signature": b64url(b"x" * 256)},
        {"certificate": "", "signature": ""},
        {"signature": b64url(b"x" * 256)},
    ],
)
def test_garbage_answers_get_a_clear_error_not_a_crash(
    portal: TestClient, taro_card: IssuedCard, body: dict[str, str]
) -> None:
    challenge = _challenge(portal)
    response = portal.post(f"/api/login/challenges/{challenge['challenge_id']}/response", json=body)
    assert 400 <= response.status_code < 500
    payload = response.json()
    assert payload["error"] in ("malformed_certificate", "invalid_request")
    assert payload["message"]
    assert "Traceback" not in response.text


def test_non_json_and_oversized_bodies_are_refused(portal: TestClient) -> None:
    challenge = _challenge(portal)
    url = f"/api/login/challenges/{challenge['challenge_id']}/response"
    not_json = portal.post(
        url, content=b"\x00\x01garbage", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["error"] == "invalid_request"
    huge = portal.post(
        url, content=b"{" + b" " * (2 << 20) + b"}", headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413


def test_an_unknown_challenge_is_not_found(portal: TestClient) -> None:
    response = portal.get("/api/login/challenges/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"] == "challenge_not_found"


def test_logout_ends_the_session(portal: TestClient, taro_card: IssuedCard) -> None:
    login_client.login(
        portal, PORTAL, taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    )
    token = portal.cookies.get("myna_session")
    assert portal.post("/api/logout").status_code == 204
    again = TestClient(portal.app, base_url=PORTAL, cookies={"myna_session": token})
    assert again.get("/api/me").status_code == 401


def test_errors_speak_japanese_by_default_and_english_on_request(portal: TestClient) -> None:
    japanese = portal.get("/api/login/challenges/nope").json()["message"]
    english = portal.get("/api/login/challenges/nope?lang=en").json()["message"]
    assert "ログイン" in japanese
    assert english.startswith("This login request does not exist")


def test_login_attempts_are_rate_limited(container, taro_card: IssuedCard) -> None:  # type: ignore[no-untyped-def]
    container.settings = container.settings.model_copy(update={"login_rate_limit": "3/minute"})
    limited = TestClient(create_app(container), base_url=PORTAL)
    codes = [limited.post("/api/login/challenges").status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    assert limited.post("/api/login/challenges").json()["error"] == "rate_limited"


def test_a_challenge_says_whose_login_it_is(portal: TestClient) -> None:
    # Readers show the holder what an answer is for; the portal's own are residents'.
    assert _challenge(portal)["audience"] == "resident"
