"""A business registered with the authentication app, residents with cards, the portal.

The business (さくら証券) has a P-256 signing key for its client assertions and a P-256
encryption key its signed documents come back encrypted to; ``Business`` does what its
server does: make assertions, exchange codes, call the signing API.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from myna import authapp, card, jpki, network
from myna.app import create_app
from myna.bootstrap import Container
from myna.platform.encoding import b64url, b64url_sha256
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.portal.conftest import PASSWORD, PIN, IssuedCard, issue

PORTAL = "http://testserver"
ISSUER = PORTAL + "/authapp"
REDIRECT_URI = "https://broker.example/callback"
NAME = "さくら証券株式会社"


@dataclass
class Business:
    """A registered business's server: its keys, its client id, its calls."""

    api: TestClient
    client_id: str
    signing_key: ECKey
    encryption_key: ECKey
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        return b64url_sha256(self.verifier)

    def assertion(self, **overrides: Any) -> str:
        """A client assertion (RFC 7523 §3): iss = sub = client_id, aud = the issuer."""
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": ISSUER,
            "exp": now + 60,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
            **overrides,
        }
        header = {"alg": "ES256", "kid": "sig-1"}
        return jwt.encode(header, claims, self.signing_key, algorithms=["ES256"])

    def token(self, assertion: str | None = None, **params: str) -> Any:
        form = {
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion or self.assertion(),
            **params,
        }
        return self.api.post(
            "/authapp/token",
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def authorize_url(self, scope: str = "openid", **overrides: str) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": "st-1",
            "nonce": "n-1",
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            **overrides,
        }
        return "/authapp/authorize?" + urlencode({k: v for k, v in params.items() if v != ""})

    def exchange(self, code: str, **overrides: str) -> Any:
        params = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": self.verifier,
            **overrides,
        }
        return self.token(**params)

    def sign_token(self) -> str:
        answer = self.token(grant_type="client_credentials", scope="sign")
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


def public_jwks(signing_key: ECKey, encryption_key: ECKey) -> dict[str, Any]:
    return {
        "keys": [
            signing_key.as_dict(private=False, kid="sig-1", use="sig", alg="ES256"),
            encryption_key.as_dict(private=False, kid="enc-1", use="enc", alg="ECDH-ES+A256KW"),
        ]
    }


@pytest.fixture
def portal(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url=PORTAL) as client:
        yield client


@pytest.fixture
def reader(settings: Settings) -> card.VirtualCardReader:
    return card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())


@pytest.fixture
def taro(session: Session, settings: Settings, reader: card.VirtualCardReader) -> IssuedCard:
    issued = issue(session, settings, reader, "taro")
    network.seed_agency_data(session=session, seed=1)
    session.commit()
    return issued


@pytest.fixture
def hanako(
    session: Session, settings: Settings, reader: card.VirtualCardReader, taro: IssuedCard
) -> IssuedCard:
    return issue(session, settings, reader, "hanako")


@pytest.fixture
def business(container: Container, session: Session, settings: Settings) -> Iterator[Business]:
    jpki.ensure_authorities(session=session, settings=settings)
    signing_key = ECKey.generate_key("P-256")
    encryption_key = ECKey.generate_key("P-256")
    client = authapp.register_client(
        session=session,
        name=NAME,
        redirect_uris=[REDIRECT_URI],
        jwks=public_jwks(signing_key, encryption_key),
    )
    session.commit()
    with TestClient(create_app(container), base_url=PORTAL) as api:
        yield Business(api, client.client_id, signing_key, encryption_key)


def log_in(browser: TestClient, issued: IssuedCard) -> None:
    """The resident logs in at the portal with the card (PIN)."""
    login_client.login(browser, PORTAL, issued.reader.open_session(issued.card_id, "auth", PIN))


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


def signing_request_id(html: str) -> str:
    found = re.search(r'data-request="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


def card_signs(browser: TestClient, issued: IssuedCard, request_id: str) -> Any:
    """The card reader: fetch the document, sign it with the signing key, answer."""
    fetched = browser.get(f"/api/signing-requests/{request_id}")
    assert fetched.status_code == 200, fetched.text
    from myna.platform.encoding import b64url_decode  # noqa: PLC0415

    content = b64url_decode(fetched.json()["to_be_signed"])
    signature = issued.reader.open_session(issued.card_id, "sign", PASSWORD).sign_cms(content)
    return browser.post(
        f"/api/signing-requests/{request_id}/response", json={"signature": b64url(signature)}
    )


def query_of(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    return {k: v[0] for k, v in parse_qs(parts.query).items()}
