"""Signing transactions: a business asks, the resident signs with the card, the business
receives the signature encrypted to its key — and every refusal."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi.testclient import TestClient
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import jpki
from myna.app import create_app
from myna.applications.models import SigningRequest
from myna.authapp.models import AuthAppSignRequest
from myna.bootstrap import Container
from myna.platform.db import utcnow
from myna.platform.encoding import b64url_decode
from myna.platform.settings import Settings
from tests.integration.authapp.conftest import (
    PORTAL,
    Business,
    card_signs,
    csrf,
    log_in,
    public_jwks,
    signing_request_id,
)
from tests.integration.portal.conftest import IssuedCard

CONTRACT = b"%PDF-1.7 account opening agreement"
DIGEST = hashlib.sha256(CONTRACT).hexdigest()
RETURN_URL = "https://broker.example/signed"


def _create(business: Business, token: str, **overrides: Any) -> Any:
    body = {"title": "口座開設申込書", "digests": [DIGEST], "return_url": RETURN_URL, **overrides}
    return business.api.post(
        "/authapp/api/v1/sign-requests", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def _read(business: Business, token: str, request_id: str) -> Any:
    return business.api.get(
        f"/authapp/api/v1/sign-requests/{request_id}",
        headers={"Authorization": f"Bearer {token}"},
    )


def _path(created: dict[str, Any]) -> str:
    assert created["url"].startswith(PORTAL)
    return str(created["url"]).removeprefix(PORTAL)


def _open_signing(portal: TestClient, path: str) -> str:
    """The resident opens the page and presses the button: the card's signing request."""
    page = portal.get(path)
    assert page.status_code == 200, page.text
    started = portal.post(path, data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert started.status_code == 303, started.text
    assert started.headers["location"] == path + "/signing"
    return signing_request_id(portal.get(path + "/signing").text)


def _verify_cms(signature: bytes, content: bytes, certificate: x509.Certificate) -> None:
    """What the business does: the message digest covers the document, and the signer's
    RSASSA-PKCS1-v1_5 / SHA-256 signature over the signed attributes verifies."""
    info = asn1_cms.ContentInfo.load(signature)
    signer = info["content"]["signer_infos"][0]
    attributes = {a["type"].native: a["values"][0].native for a in signer["signed_attrs"]}
    assert attributes["message_digest"] == hashlib.sha256(content).digest()
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(
        signer["signature"].native,
        signer["signed_attrs"].untag().dump(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def test_a_signing_transaction_end_to_end(
    portal: TestClient,
    business: Business,
    taro: IssuedCard,
    session: Session,
    settings: Settings,
) -> None:
    token = business.sign_token()
    created = _create(business, token)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending" and body["result"] is None
    assert len(body["id"]) == 43
    log_in(portal, taro)
    page = portal.get(_path(body))
    assert "口座開設申込書" in page.text and DIGEST in page.text and "さくら証券" in page.text
    request_id = _open_signing(portal, _path(body))
    fetched = portal.get(f"/api/signing-requests/{request_id}").json()
    assert fetched["procedure_name"] == "口座開設申込書"
    assert card_signs(portal, taro, request_id).status_code == 200
    done = portal.get(_path(body))
    assert RETURN_URL in done.text
    answer = _read(business, token, body["id"])
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == "signed"
    decrypted = jwe.decrypt_compact(
        result["result"],
        business.encryption_key,
        algorithms=["ECDH-ES+A256KW", "A256GCM"],
    )
    assert decrypted.protected["alg"] == "ECDH-ES+A256KW"
    assert decrypted.protected["enc"] == "A256GCM"
    assert decrypted.plaintext is not None
    payload = json.loads(decrypted.plaintext)
    assert payload["signature_format"] == "cms-detached"
    document = b64url_decode(payload["document"])
    assert json.loads(document)["data"]["digests"] == [DIGEST]
    certificate = x509.load_der_x509_certificate(b64url_decode(payload["certificate"]))
    _verify_cms(b64url_decode(payload["signature"]), document, certificate)
    verified = jpki.verify_certificate(
        session=session,
        settings=settings,
        certificate=certificate,
        kind=jpki.CertificateKind.SIGN,
    )
    assert verified.holder_id == taro.resident_id
    assert jpki.read_basic_info(certificate).name == "山田 太郎"
    # Only the business's encryption key opens it.
    with pytest.raises(JoseError):
        jwe.decrypt_compact(
            result["result"],
            ECKey.generate_key("P-256"),
            algorithms=["ECDH-ES+A256KW", "A256GCM"],
        )


def test_a_tampered_digest_or_title_is_refused(business: Business) -> None:
    token = business.sign_token()
    short = _create(business, token, digests=[DIGEST[:-2]])
    assert short.status_code == 422
    assert short.json()["error"] == "invalid_digest"
    assert "SHA-256" in short.json()["error_description"]
    assert _create(business, token, digests=[DIGEST + "00"]).json()["error"] == "invalid_digest"
    assert _create(business, token, digests=[]).json()["error"] == "invalid_digest"
    assert _create(business, token, digests=["zz" * 32]).json()["error"] == "invalid_digest"
    assert _create(business, token, title="").json()["error"] == "invalid_title"
    elsewhere = _create(business, token, return_url="https://evil.example/")
    assert elsewhere.json()["error"] == "invalid_return_url"


def test_a_token_without_the_sign_scope_is_refused(
    portal: TestClient, business: Business, taro: IssuedCard
) -> None:
    log_in(portal, taro)
    answer = portal.get(business.authorize_url("openid"), follow_redirects=False)
    path = answer.headers["location"]
    page = portal.get(path)
    redirect = portal.post(
        path, data={"csrf_token": csrf(page.text), "decision": "consent"}, follow_redirects=False
    )
    code = redirect.headers["location"].split("code=")[1].split("&")[0]
    resident_token = business.exchange(code).json()["access_token"]
    refused = _create(business, resident_token)
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert _create(business, "not-a-token").status_code == 401
    asked = business.token(grant_type="client_credentials", scope="openid name")
    assert asked.status_code == 400
    assert asked.json()["error"] == "invalid_scope"


def test_another_clients_transaction_is_not_found_like_a_missing_one(
    business: Business, container: Container, session: Session
) -> None:
    from myna import authapp  # noqa: PLC0415

    created = _create(business, business.sign_token()).json()
    signing_key, encryption_key = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
    other = authapp.register_client(
        session=session,
        name="あおば信託銀行",
        redirect_uris=["https://trust.example/cb"],
        jwks=public_jwks(signing_key, encryption_key),
    )
    session.commit()
    with TestClient(create_app(container), base_url=PORTAL) as api:
        rival = Business(api, other.client_id, signing_key, encryption_key)
        token = rival.sign_token()
        theirs = _read(rival, token, created["id"])
        missing = _read(rival, token, "A" * 43)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert _read(rival, token, "short").status_code == 422  # the id is bounded


def test_an_expired_transaction_is_refused_and_reported(
    portal: TestClient, business: Business, taro: IssuedCard, session: Session
) -> None:
    token = business.sign_token()
    created = _create(business, token).json()
    row = session.get(AuthAppSignRequest, created["id"])
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    log_in(portal, taro)
    assert portal.get(_path(created)).status_code == 410
    assert _read(business, token, created["id"]).json()["status"] == "expired"


def test_a_revoked_signing_certificate_is_refused_before_the_signing_request_exists(
    portal: TestClient, business: Business, taro: IssuedCard, session: Session
) -> None:
    created = _create(business, business.sign_token()).json()
    jpki.revoke_for_card(
        session=session, card_id=taro.card_id, reason=jpki.RevocationReason.BASIC_INFO_CHANGE
    )
    session.commit()
    log_in(portal, taro)
    page = portal.get(_path(created))
    refused = portal.post(_path(created), data={"csrf_token": csrf(page.text)})
    assert refused.status_code == 409
    assert "失効" in refused.text
    session.expire_all()
    count = session.scalar(
        select(func.count())
        .select_from(SigningRequest)
        .where(SigningRequest.resident_id == taro.resident_id)
    )
    assert count == 0


def test_another_resident_cannot_open_or_complete_the_transaction(
    portal: TestClient,
    business: Business,
    taro: IssuedCard,
    hanako: IssuedCard,
    container: Container,
) -> None:
    token = business.sign_token()
    created = _create(business, token).json()
    log_in(portal, taro)
    request_id = _open_signing(portal, _path(created))
    with TestClient(create_app(container), base_url=PORTAL) as other:
        log_in(other, hanako)
        assert other.get(_path(created)).status_code == 404
        # Hanako's card signs Taro's signing request: the portal refuses the signer.
        refused = card_signs(other, hanako, request_id)
    assert refused.status_code == 403
    assert refused.json()["error"] == "signer_mismatch"
    assert _read(business, token, created["id"]).json()["status"] == "pending"
