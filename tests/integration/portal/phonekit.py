"""A phone in a test: two RSA keys, a software authenticator, the phone app's requests.

``issue_phone`` walks the issuance as the phone app and the card reader do it over HTTP;
``Phone.login`` and ``Phone.sign`` answer a login challenge and a signing request with
the phone's keys and its unlock (docs/phone-credential.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi.testclient import TestClient

from myna import phone
from myna.card.cms import detached_signed_data
from myna.platform.encoding import b64url, b64url_decode
from myna.reader import client as login_client
from tests.integration.portal.conftest import PASSWORD, PIN, IssuedCard
from tests.webauthn_authenticator import SoftAuthenticator

PORTAL = "http://testserver"


def spki(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def pkcs1(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


@dataclass
class Phone:
    """A phone holding a phone credential."""

    sign_key: rsa.RSAPrivateKey
    auth_key: rsa.RSAPrivateKey
    authenticator: SoftAuthenticator
    issuance_id: str = ""
    sign_certificate: x509.Certificate | None = None
    auth_certificate: x509.Certificate | None = None

    def unlock(self, to_be_signed: bytes, **knobs: Any) -> dict[str, Any]:
        return self.authenticator.assert_(phone.unlock_challenge(to_be_signed), **knobs)

    def answer(self, portal: TestClient, challenge: dict[str, Any], **knobs: Any) -> httpx.Response:
        """Answer a login challenge with the auth key and the unlock (``unlock=None``: none)."""
        assert self.auth_certificate is not None
        message = b64url_decode(challenge["to_be_signed"])
        body: dict[str, Any] = {
            "certificate": b64url(self.auth_certificate.public_bytes(serialization.Encoding.DER)),
            "signature": b64url(pkcs1(self.auth_key, message)),
        }
        unlock = knobs.pop("unlock", "fresh")
        body["unlock"] = self.unlock(message, **knobs) if unlock == "fresh" else unlock
        if body["unlock"] is None:
            del body["unlock"]
        return portal.post(f"/api/login/challenges/{challenge['challenge_id']}/response", json=body)

    def login(self, portal: TestClient, **knobs: Any) -> httpx.Response:
        challenge = portal.post("/api/login/challenges").json()
        return self.answer(portal, challenge, **knobs)

    def cms(self, content: bytes) -> bytes:
        assert self.sign_certificate is not None
        return detached_signed_data(
            content, self.sign_certificate, lambda data: pkcs1(self.sign_key, data)
        )

    def sign(self, portal: TestClient, request_id: str, **knobs: Any) -> httpx.Response:
        """Sign a signing request with the phone's signing key, with its unlock."""
        read = portal.get(f"/api/signing-requests/{request_id}").json()
        content = b64url_decode(read["to_be_signed"])
        body: dict[str, Any] = {"signature": b64url(self.cms(content))}
        unlock = knobs.pop("unlock", "fresh")
        body["unlock"] = self.unlock(content, **knobs) if unlock == "fresh" else unlock
        if body["unlock"] is None:
            del body["unlock"]
        return portal.post(f"/api/signing-requests/{request_id}/response", json=body)


def login_with_card(portal: TestClient, issued: IssuedCard) -> None:
    card = issued.reader.open_session(issued.card_id, "auth", PIN)
    login_client.login(portal, PORTAL, card)


def start(portal: TestClient) -> httpx.Response:
    return portal.post("/api/phone/issuances")


def send_keys(
    portal: TestClient, device: Phone, started: dict[str, Any], **overrides: Any
) -> httpx.Response:
    """The phone's keys, proofs and registration for a started issuance."""
    possession = {k: b64url_decode(v) for k, v in started["possession"].items()}
    body = {
        "sign_public_key": b64url(spki(device.sign_key)),
        "sign_proof": b64url(pkcs1(device.sign_key, possession["sign"])),
        "auth_public_key": b64url(spki(device.auth_key)),
        "auth_proof": b64url(pkcs1(device.auth_key, possession["auth"])),
        "registration": device.authenticator.register(
            b64url_decode(started["nonce"]),
            origin=overrides.pop("origin", None),
            verified=overrides.pop("verified", True),
        ),
    }
    body.update(overrides)
    device.issuance_id = started["issuance_id"]
    return portal.post(f"/api/phone/issuances/{started['issuance_id']}/keys", json=body)


def sign_with_card(portal: TestClient, issued: IssuedCard, request_id: str) -> httpx.Response:
    read = portal.get(f"/api/signing-requests/{request_id}")
    assert read.status_code == 200, read.text
    content = b64url_decode(read.json()["to_be_signed"])
    signature = issued.reader.open_session(issued.card_id, "sign", PASSWORD).sign_cms(content)
    return portal.post(
        f"/api/signing-requests/{request_id}/response", json={"signature": b64url(signature)}
    )


def issue_phone(portal: TestClient, issued: IssuedCard, device: Phone) -> Phone:
    """The whole issuance: card login, keys and unlock, the card's signature, certificates."""
    login_with_card(portal, issued)
    started = start(portal)
    assert started.status_code == 201, started.text
    keys = send_keys(portal, device, started.json())
    assert keys.status_code == 200, keys.text
    signed = sign_with_card(portal, issued, keys.json()["request_id"])
    assert signed.status_code == 200, signed.text
    status = portal.get(f"/api/phone/issuances/{device.issuance_id}").json()
    assert status["status"] == "active"
    device.sign_certificate = x509.load_der_x509_certificate(
        b64url_decode(status["sign_certificate"])
    )
    device.auth_certificate = x509.load_der_x509_certificate(
        b64url_decode(status["auth_certificate"])
    )
    return device
