"""The authorization server over HTTP: PAR, authorize, token, DPoP, and the attacks on them.

Organisations and consents are written as rows here (their services belong to the
organisation and consent parts); the flow itself goes through the endpoints and
:mod:`myna.partners.authorization`.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from fastapi.testclient import TestClient
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import jpki
from myna.app import create_app
from myna.bootstrap import Container
from myna.partners import authorization, discovery
from myna.partners.domain import OrganizationStatus, pairwise_subject
from myna.partners.models import (
    AccessToken,
    AuthorizationCode,
    Consent,
    Organization,
    PushedRequest,
    SeenProof,
)
from myna.platform.db import utcnow
from myna.platform.encoding import b64url_sha256
from myna.platform.oauth import rfc9126
from myna.platform.oauth.errors import InvalidDPoPProofError, InvalidScopeError, InvalidTokenError
from myna.platform.oauth.rfc7515 import REGISTRY
from myna.platform.ratelimit import RateLimiter
from myna.platform.settings import Settings

ISSUER = "http://testserver"
PAR = ISSUER + "/oauth/par"
TOKEN = ISSUER + "/oauth/token"
RESOURCE = ISSUER + "/api/partners/myinfo"
REDIRECT = "https://bank.example.jp/callback"
RESIDENT = 4242


@dataclass
class Org:
    client_id: str
    key: ECKey

    def assertion(self, **claims: Any) -> str:
        now = int(utcnow().timestamp())
        body = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": ISSUER,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 60,
            **claims,
        }
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, body, self.key)

    def auth(self, **claims: Any) -> dict[str, str]:
        return {
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.assertion(**claims),
        }


def dpop_proof(
    key: ECKey, url: str, *, method: str = "POST", token: str | None = None, jti: str = ""
) -> str:
    claims: dict[str, Any] = {
        "jti": jti or str(uuid.uuid4()),
        "htm": method,
        "htu": url,
        "iat": int(utcnow().timestamp()),
    }
    if token is not None:
        claims["ath"] = b64url_sha256(token)
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    return jws.serialize_compact(header, json.dumps(claims).encode(), key, registry=REGISTRY)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url_sha256(verifier)


@pytest.fixture
def api(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url=ISSUER, follow_redirects=False) as client:
        yield client


@pytest.fixture
def platform(session: Session, settings: Settings) -> None:
    jpki.ensure_authorities(session=session, settings=settings)
    session.commit()


def register(
    session: Session,
    *,
    status: OrganizationStatus = OrganizationStatus.APPROVED,
    scopes: tuple[str, ...] = ("name", "address", "myinfo.local-tax"),
) -> Org:
    client_id = "org-" + secrets.token_hex(8)
    key = ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "sig"})
    session.add(
        Organization(
            client_id=client_id,
            name="みらい銀行",
            purpose="住宅ローンの審査",
            contact="api@bank.example.jp",
            retention="審査終了から1年",
            status=status.value,
            redirect_uris=[REDIRECT],
            jwks={"keys": [key.as_dict(private=False)]},
            jwks_uri=None,
            requested_scopes=[{"scope": s, "reason": "審査"} for s in scopes],
            approved_scopes=list(scopes),
            created_at=utcnow(),
        )
    )
    session.commit()
    return Org(client_id, key)


def par_params(org: Org, challenge: str, **extra: str) -> dict[str, str]:
    return {
        **org.auth(),
        "client_id": org.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid name address",
        "state": "st-123",
        "nonce": "n-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def push(api: TestClient, org: Org, challenge: str, **extra: str) -> Any:
    return api.post("/oauth/par", data=par_params(org, challenge, **extra))


def open_pending(api: TestClient, org: Org, challenge: str, **extra: str) -> str:
    pushed = push(api, org, challenge, **extra)
    assert pushed.status_code == 201, pushed.text
    opened = api.get(
        "/oauth/authorize",
        params={"client_id": org.client_id, "request_uri": pushed.json()["request_uri"]},
    )
    assert opened.status_code == 303, opened.text
    location = opened.headers["location"]
    assert location.startswith("/consent/")
    return location.removeprefix("/consent/")


def give_consent(session: Session, org: Org, scopes: tuple[str, ...]) -> str:
    consent_id = secrets.token_urlsafe(16)
    session.add(
        Consent(
            id=consent_id,
            resident_id=RESIDENT,
            client_id=org.client_id,
            scopes=list(scopes),
            items=[],
            purpose="住宅ローンの審査",
            retention="審査終了から1年",
            receipt="",
            granted_at=utcnow(),
        )
    )
    session.flush()
    return consent_id


@dataclass
class Granted:
    code: str
    verifier: str
    consent_id: str
    redirect: str


def grant(
    api: TestClient,
    session: Session,
    settings: Settings,
    org: Org,
    scopes: tuple[str, ...] = ("openid", "name"),
    auth_time: datetime | None = None,
    **extra: str,
) -> Granted:
    verifier, challenge = pkce()
    pending_id = open_pending(api, org, challenge, **extra)
    consent_id = give_consent(session, org, scopes)
    redirect = authorization.approve(
        session=session,
        settings=settings,
        pending_id=pending_id,
        resident_id=RESIDENT,
        consent_id=consent_id,
        scopes=scopes,
        auth_time=auth_time,
    )
    session.commit()
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    return Granted(code, verifier, consent_id, redirect)


def exchange(
    api: TestClient,
    org: Org,
    granted: Granted,
    *,
    key: ECKey | None,
    proof: str | None = None,
    **extra: str,
) -> Any:
    headers = {}
    if proof is not None:
        headers["DPoP"] = proof
    elif key is not None:
        headers["DPoP"] = dpop_proof(key, TOKEN)
    data = {
        **org.auth(),
        "grant_type": "authorization_code",
        "code": granted.code,
        "redirect_uri": REDIRECT,
        "code_verifier": granted.verifier,
        **extra,
    }
    return api.post("/oauth/token", data=data, headers=headers)


def resource(
    session: Session, settings: Settings, token: str, key: ECKey, **overrides: Any
) -> authorization.TokenContext:
    arguments: dict[str, Any] = {
        "authorization": f"DPoP {token}",
        "dpop": dpop_proof(key, RESOURCE, method="GET", token=token),
        "method": "GET",
        "url": RESOURCE,
        **overrides,
    }
    return authorization.authenticate_resource_request(
        session=session, settings=settings, **arguments
    )


pytestmark = pytest.mark.usefixtures("platform")


# --- discovery and keys ---------------------------------------------------------------


def test_it_publishes_fapi_metadata_that_rfc8414_accepts(
    api: TestClient, settings: Settings
) -> None:
    # RFC 8414 wants an https issuer, as a deployment has.
    deployed = settings.model_copy(update={"portal_url": "https://portal.example.jp/"})
    AuthorizationServerMetadata(discovery.metadata(deployed)).validate()
    meta = api.get("/.well-known/openid-configuration").json()
    assert meta["issuer"] == ISSUER
    assert meta["require_pushed_authorization_requests"] is True
    assert meta["pushed_authorization_request_endpoint"] == PAR
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["subject_types_supported"] == ["pairwise"]
    assert meta["id_token_signing_alg_values_supported"] == ["ES256"]
    assert set(meta["dpop_signing_alg_values_supported"]) == {"PS256", "ES256"}
    assert api.get("/.well-known/oauth-authorization-server").json() == meta


def test_the_openapi_describes_the_form_endpoints(api: TestClient) -> None:
    paths = api.get("/api/openapi.json").json()["paths"]
    par = paths["/oauth/par"]["post"]
    form = par["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"code_challenge", "client_assertion", "redirect_uri"} <= set(form["properties"])
    assert {"201", "400", "401", "429"} <= set(par["responses"])
    assert "/oauth/token" in paths


def test_the_jwks_holds_only_the_public_key_with_its_thumbprint_as_kid(api: TestClient) -> None:
    keys = api.get("/oauth/jwks").json()["keys"]
    assert len(keys) == 1
    assert "d" not in keys[0]
    assert keys[0]["kid"] == ECKey.import_key(keys[0]).thumbprint()
    assert keys[0]["alg"] == "ES256"
    assert keys[0]["x5c"]


# --- the whole flow -------------------------------------------------------------------


def test_the_code_flow_issues_a_dpop_bound_token_and_a_pairwise_id_token(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    granted = grant(api, session, settings, org)
    query = parse_qs(urlsplit(granted.redirect).query)
    assert granted.redirect.startswith(REDIRECT + "?")
    assert query["state"] == ["st-123"]
    assert query["iss"] == [ISSUER]

    client_key = ECKey.generate_key("P-256")
    response = exchange(api, org, granted, key=client_key)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "DPoP"
    assert body["expires_in"] == 300
    assert body["scope"] == "openid name"

    jwks = KeySet.import_key_set(api.get("/oauth/jwks").json())
    id_token = jwt.decode(body["id_token"], jwks, algorithms=["ES256"])
    claims = id_token.claims
    secret = settings.secret_key.get_secret_value().encode()
    assert claims["sub"] == pairwise_subject(secret, org.client_id, RESIDENT)
    assert str(RESIDENT) not in claims["sub"]
    assert claims["aud"] == org.client_id
    assert claims["iss"] == ISSUER
    assert claims["nonce"] == "n-456"
    assert claims["acr"] == "urn:myna:acr:jpki-card"
    assert claims["exp"] - claims["iat"] == 300
    assert "auth_time" in claims

    # Stored as a digest, bound to the proof's key.
    stored = session.scalars(
        select(AccessToken).where(AccessToken.consent_id == granted.consent_id)
    ).one()
    assert stored.digest != body["access_token"]
    assert stored.jkt == client_key.thumbprint()

    context = resource(session, settings, body["access_token"], client_key)
    assert context == authorization.TokenContext(
        client_id=org.client_id,
        resident_id=RESIDENT,
        consent_id=granted.consent_id,
        scopes=("openid", "name"),
    )


def test_the_id_token_says_when_the_resident_logged_in_with_the_card(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    logged_in = datetime(2026, 11, 28, 3, 0, 5, tzinfo=UTC)
    granted = grant(api, session, settings, org, auth_time=logged_in)
    response = exchange(api, org, granted, key=ECKey.generate_key("P-256"))
    assert response.status_code == 200, response.text
    jwks = KeySet.import_key_set(api.get("/oauth/jwks").json())
    claims = jwt.decode(response.json()["id_token"], jwks, algorithms=["ES256"]).claims
    assert claims["auth_time"] == int(logged_in.timestamp())


def test_two_organisations_see_different_subjects_for_the_same_resident(
    api: TestClient, session: Session, settings: Settings
) -> None:
    subjects = set()
    for _ in range(2):
        org = register(session)
        body = exchange(
            api, org, grant(api, session, settings, org), key=ECKey.generate_key("P-256")
        ).json()
        subjects.add(jwt.decode(body["id_token"], _platform_keys(api)).claims["sub"])
    assert len(subjects) == 2


def _platform_keys(api: TestClient) -> KeySet:
    return KeySet.import_key_set(api.get("/oauth/jwks").json())


def test_a_refusal_redirects_with_access_denied_state_and_iss(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    pending_id = open_pending(api, org, pkce()[1])
    redirect = authorization.deny(
        session=session, settings=settings, pending_id=pending_id, resident_id=RESIDENT
    )
    query = parse_qs(urlsplit(redirect).query)
    assert query == {"error": ["access_denied"], "state": ["st-123"], "iss": [ISSUER]}
    with pytest.raises(authorization.PendingAuthorizationNotFoundError):
        authorization.pending_request(session=session, pending_id=pending_id, resident_id=RESIDENT)


def test_the_pending_request_tells_the_consent_page_what_was_asked(
    api: TestClient, session: Session
) -> None:
    org = register(session)
    pending = authorization.pending_request(
        session=session, pending_id=open_pending(api, org, pkce()[1]), resident_id=RESIDENT
    )
    assert pending.client.client_id == org.client_id
    assert pending.scopes == ("openid", "name", "address")
    assert pending.redirect_uri == REDIRECT
    assert pending.state == "st-123"


# --- PAR and authorize ----------------------------------------------------------------


def test_it_refuses_an_authorization_request_that_was_not_pushed(
    api: TestClient, session: Session
) -> None:
    org = register(session)
    response = api.get(
        "/oauth/authorize",
        params={
            "client_id": org.client_id,
            "response_type": "code",
            "redirect_uri": "https://evil.example/cb",
            "scope": "openid",
        },
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "text/html" in response.headers["content-type"]
    assert "事前登録（PAR）されたリクエストのみ受け付けています" in response.text
    assert "evil.example" not in response.text


def test_a_request_uri_opens_once_and_only_for_its_client(
    api: TestClient, session: Session
) -> None:
    org, other = register(session), register(session)
    request_uri = push(api, org, pkce()[1]).json()["request_uri"]
    stolen = api.get(
        "/oauth/authorize", params={"client_id": other.client_id, "request_uri": request_uri}
    )
    assert stolen.status_code == 400
    params = {"client_id": org.client_id, "request_uri": request_uri}
    assert api.get("/oauth/authorize", params=params).status_code == 303
    assert api.get("/oauth/authorize", params=params).status_code == 400


def test_an_expired_pushed_request_cannot_be_opened(api: TestClient, session: Session) -> None:
    org = register(session)
    request_uri = push(api, org, pkce()[1]).json()["request_uri"]
    row = session.get(PushedRequest, request_uri.removeprefix(rfc9126.REQUEST_URI_PREFIX))
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    params = {"client_id": org.client_id, "request_uri": request_uri}
    assert api.get("/oauth/authorize", params=params).status_code == 400


def test_a_pushed_request_answers_201_with_a_request_uri(api: TestClient, session: Session) -> None:
    response = push(api, register(session), pkce()[1])
    assert response.status_code == 201
    assert response.json()["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert response.json()["expires_in"] == 60


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),
        ({"redirect_uri": REDIRECT + "/other"}, "invalid_request"),
        ({"redirect_uri": "https://BANK.example.jp/callback"}, "invalid_request"),
        ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "invalid_request"),
        ({"response_type": "token"}, "invalid_request"),
        ({"scope": "openid myinfo.health"}, "invalid_scope"),
        ({"scope": "openid no-such-scope"}, "invalid_scope"),
    ],
)
def test_it_refuses_a_bad_pushed_request(
    api: TestClient, session: Session, extra: dict[str, str], error: str
) -> None:
    response = push(api, register(session), pkce()[1], **extra)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_it_refuses_a_pushed_request_without_pkce(api: TestClient, session: Session) -> None:
    org = register(session)
    data = par_params(org, pkce()[1])
    del data["code_challenge"], data["code_challenge_method"]
    response = api.post("/oauth/par", data=data)
    assert response.json()["error"] == "invalid_request"


def test_it_refuses_a_repeated_parameter(api: TestClient, session: Session) -> None:
    org = register(session)
    body = "&".join(f"{k}={v}" for k, v in par_params(org, pkce()[1]).items())
    response = api.post(
        "/oauth/par",
        content=body + "&scope=openid",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.json()["error"] == "invalid_request"


def test_it_refuses_an_oversized_request(api: TestClient, session: Session) -> None:
    org = register(session)
    response = api.post("/oauth/par", data=par_params(org, pkce()[1], state="x" * 70_000))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("status", [OrganizationStatus.PENDING, OrganizationStatus.SUSPENDED])
def test_an_organisation_not_approved_cannot_push(
    api: TestClient, session: Session, status: OrganizationStatus
) -> None:
    response = push(api, register(session, status=status), pkce()[1])
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


# --- client authentication ------------------------------------------------------------


def _forged(org: Org, header: dict[str, Any], key: Any, algorithms: list[str]) -> str:
    now = int(utcnow().timestamp())
    claims = {
        "iss": org.client_id,
        "sub": org.client_id,
        "aud": ISSUER,
        "jti": str(uuid.uuid4()),
        "exp": now + 60,
    }
    return jwt.encode(header, claims, key, algorithms=algorithms)


def test_it_refuses_client_assertions_that_are_not_right(api: TestClient, session: Session) -> None:
    org = register(session)
    challenge = pkce()[1]
    stranger = ECKey.generate_key("P-256", parameters={"kid": "k1"})
    public_as_secret = OctKey.import_key(json.dumps(org.key.as_dict(private=False)).encode())
    header = json.dumps({"alg": "none"}).encode()
    payload = json.dumps({"iss": org.client_id, "sub": org.client_id, "aud": ISSUER}).encode()
    unsigned = f"{jws_b64(header)}.{jws_b64(payload)}."
    cases = {
        "wrong aud": org.assertion(aud=TOKEN),
        "aud as a list": org.assertion(aud=[ISSUER]),
        "expired": org.assertion(exp=int(utcnow().timestamp()) - 600),
        "too long-lived": org.assertion(exp=int(utcnow().timestamp()) + 3600),
        "another key": Org(org.client_id, stranger).assertion(),
        "alg none": unsigned,
        "hmac with the public key": _forged(
            org, {"alg": "HS256", "kid": "k1"}, public_as_secret, ["HS256"]
        ),
        "sub differs": org.assertion(sub="someone-else"),
    }
    for case, assertion in cases.items():
        data = {**par_params(org, challenge), "client_assertion": assertion}
        response = api.post("/oauth/par", data=data)
        assert response.status_code == 401, case
        assert response.json()["error"] == "invalid_client", case


def jws_b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_it_accepts_a_ps256_assertion_from_a_registered_rsa_key(
    api: TestClient, session: Session
) -> None:
    org = register(session)
    rsa_key = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})
    row = session.scalars(select(Organization).where(Organization.client_id == org.client_id)).one()
    row.jwks = {"keys": [rsa_key.as_dict(private=False)]}
    session.commit()
    now = int(utcnow().timestamp())
    claims = {
        "iss": org.client_id,
        "sub": org.client_id,
        "aud": ISSUER,
        "jti": str(uuid.uuid4()),
        "exp": now + 60,
    }
    assertion = jwt.encode({"alg": "PS256", "kid": "rsa-1"}, claims, rsa_key, algorithms=["PS256"])
    data = {**par_params(org, pkce()[1]), "client_assertion": assertion}
    assert api.post("/oauth/par", data=data).status_code == 201
    # The old EC key was rotated away: its assertions no longer pass.
    assert api.post("/oauth/par", data=par_params(org, pkce()[1])).status_code == 401


@pytest.mark.parametrize("kid", ["enc-1", None])
def test_an_encryption_key_never_verifies_a_client_assertion(
    api: TestClient, session: Session, kid: str | None
) -> None:
    # The organisation's encryption key is an EC P-256 key like its signing key: an
    # assertion signed with it (by whoever holds it) must not authenticate the client.
    org = register(session)
    enc = ECKey.generate_key("P-256", parameters={"kid": "enc-1", "use": "enc"})
    row = session.scalars(select(Organization).where(Organization.client_id == org.client_id)).one()
    row.jwks = {"keys": [*row.jwks["keys"], enc.as_dict(private=False)]}
    session.commit()
    header = {"alg": "ES256", **({"kid": kid} if kid else {})}
    claims = {
        "iss": org.client_id,
        "sub": org.client_id,
        "aud": ISSUER,
        "jti": str(uuid.uuid4()),
        "exp": int(utcnow().timestamp()) + 60,
    }
    # Whoever holds the private key can sign with it, whatever its JWK says it is for.
    signer = ECKey.import_key({k: v for k, v in enc.as_dict(private=True).items() if k != "use"})
    assertion = jwt.encode(header, claims, signer, algorithms=["ES256"])
    data = {**par_params(org, pkce()[1]), "client_assertion": assertion}
    refused = api.post("/oauth/par", data=data)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    # The signing key beside it still works.
    assert api.post("/oauth/par", data=par_params(org, pkce()[1])).status_code == 201


def test_it_refuses_a_replayed_client_assertion(api: TestClient, session: Session) -> None:
    org = register(session)
    data = par_params(org, pkce()[1])
    assert api.post("/oauth/par", data=data).status_code == 201
    again = api.post("/oauth/par", data=data)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"


def test_it_refuses_a_client_secret(api: TestClient, session: Session) -> None:
    org = register(session)
    data = {
        "client_id": org.client_id,
        "client_secret": "s",
        "grant_type": "authorization_code",
        "code": "c",
    }
    response = api.post("/oauth/token", data=data)
    assert response.json()["error"] == "invalid_client"


# Numbers no calendar holds, and claims that are no numbers: refused, never a 500.
NOT_A_TIME = [
    ("exp", 10**20),
    ("exp", -(10**20)),
    ("iat", -(10**20)),
    ("iat", 10**20),
    ("nbf", 10**20),
    ("exp", 1e300),
    ("exp", float("nan")),
    ("iat", float("inf")),
    ("exp", "1900000000"),
    ("iat", "now"),
    ("exp", True),
    ("iat", False),
]


@pytest.mark.parametrize(("claim", "value"), NOT_A_TIME)
def test_a_client_assertion_time_that_is_no_time_is_refused_at_the_token_endpoint(
    api: TestClient, session: Session, claim: str, value: Any
) -> None:
    org = register(session)
    data = {
        **org.auth(**{claim: value}),
        "grant_type": "authorization_code",
        "code": "c",
        "redirect_uri": REDIRECT,
        "code_verifier": "v" * 43,
    }
    proof = dpop_proof(ECKey.generate_key("P-256"), TOKEN)
    api.headers["Accept-Language"] = "en"
    response = api.post("/oauth/token", data=data, headers={"DPoP": proof})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert claim in response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "iat",
    [10**20, -(10**20), 1e300, float("nan"), str(int(utcnow().timestamp())), True],
    # Fixed ids: a test id made from the clock differs between xdist workers.
    ids=["huge", "negative", "float", "nan", "string", "bool"],
)
def test_a_dpop_proof_time_that_is_no_time_is_refused_at_the_token_endpoint(
    api: TestClient, session: Session, iat: Any
) -> None:
    org = register(session)
    key = ECKey.generate_key("P-256")
    claims = {"jti": str(uuid.uuid4()), "htm": "POST", "htu": TOKEN, "iat": iat}
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    proof = jws.serialize_compact(header, json.dumps(claims).encode(), key, registry=REGISTRY)
    response = exchange(api, org, Granted("c", "v" * 43, "", ""), key=key, proof=proof)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_dpop_proof"
    assert "iat" in response.json()["error_description"]


# --- the token endpoint ---------------------------------------------------------------


def test_it_refuses_a_token_request_without_a_dpop_proof(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    response = exchange(api, org, grant(api, session, settings, org), key=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_dpop_proof"


def test_a_replayed_code_fails_and_revokes_the_token_it_gave(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    granted = grant(api, session, settings, org)
    key = ECKey.generate_key("P-256")
    first = exchange(api, org, granted, key=key)
    assert first.status_code == 200
    replay = exchange(api, org, granted, key=key)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    session.expire_all()
    with pytest.raises(InvalidTokenError):
        resource(session, settings, first.json()["access_token"], key)


def test_an_expired_code_is_refused(api: TestClient, session: Session, settings: Settings) -> None:
    org = register(session)
    granted = grant(api, session, settings, org)
    row = session.get(AuthorizationCode, authorization.digest(granted.code))
    assert row is not None
    assert row.expires_at - row.created_at == timedelta(seconds=60)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    response = exchange(api, org, granted, key=ECKey.generate_key("P-256"))
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "extra",
    [
        {"code_verifier": "A" * 43},
        {"code_verifier": ""},
        {"redirect_uri": REDIRECT + "/x"},
        {"grant_type": "refresh_token"},
    ],
)
def test_it_refuses_a_wrong_verifier_redirect_or_grant(
    api: TestClient, session: Session, settings: Settings, extra: dict[str, str]
) -> None:
    org = register(session)
    response = exchange(
        api, org, grant(api, session, settings, org), key=ECKey.generate_key("P-256"), **extra
    )
    assert response.status_code == 400
    expected = "unsupported_grant_type" if "grant_type" in extra else "invalid_grant"
    assert response.json()["error"] == expected


def test_another_organisation_cannot_use_a_code(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org, thief = register(session), register(session)
    granted = grant(api, session, settings, org)
    response = exchange(api, thief, granted, key=ECKey.generate_key("P-256"))
    assert response.json()["error"] == "invalid_grant"
    # The code is still good for its own client.
    assert exchange(api, org, granted, key=ECKey.generate_key("P-256")).status_code == 200


def test_a_code_bound_by_dpop_jkt_needs_that_key(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    bound = ECKey.generate_key("P-256")
    granted = grant(api, session, settings, org, dpop_jkt=bound.thumbprint())
    other = exchange(api, org, granted, key=ECKey.generate_key("P-256"))
    assert other.json()["error"] == "invalid_dpop_proof"
    assert exchange(api, org, granted, key=bound).status_code == 200


def test_a_dpop_header_at_par_binds_the_code_to_its_key(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    key = ECKey.generate_key("P-256")
    verifier, challenge = pkce()
    pushed = api.post(
        "/oauth/par", data=par_params(org, challenge), headers={"DPoP": dpop_proof(key, PAR)}
    )
    assert pushed.status_code == 201
    row = session.get(
        PushedRequest,
        pushed.json()["request_uri"].removeprefix(rfc9126.REQUEST_URI_PREFIX),
    )
    assert row is not None
    assert row.dpop_jkt == key.thumbprint()
    del verifier


@pytest.mark.parametrize(
    "make_proof",
    [
        lambda key: dpop_proof(key, TOKEN, method="GET"),
        lambda key: dpop_proof(key, ISSUER + "/oauth/par"),
        lambda key: "garbage",
    ],
)
def test_it_refuses_a_proof_for_another_method_or_uri(
    api: TestClient, session: Session, settings: Settings, make_proof: Any
) -> None:
    org = register(session)
    key = ECKey.generate_key("P-256")
    response = exchange(
        api, org, grant(api, session, settings, org), key=key, proof=make_proof(key)
    )
    assert response.json()["error"] == "invalid_dpop_proof"


def test_it_refuses_a_replayed_dpop_proof(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    key = ECKey.generate_key("P-256")
    proof = dpop_proof(key, TOKEN)
    assert (
        exchange(api, org, grant(api, session, settings, org), key=key, proof=proof).status_code
        == 200
    )
    again = exchange(api, org, grant(api, session, settings, org), key=key, proof=proof)
    assert again.json()["error"] == "invalid_dpop_proof"


def test_a_revoked_consent_yields_no_token(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    granted = grant(api, session, settings, org)
    consent = session.get(Consent, granted.consent_id)
    assert consent is not None
    consent.revoked_at = utcnow()
    session.commit()
    response = exchange(api, org, granted, key=ECKey.generate_key("P-256"))
    assert response.json()["error"] == "invalid_grant"


def _withdraw(session: Session, granted: Granted) -> None:
    """As the resident's withdrawal does: the consent revoked, its unused codes burnt."""
    consent = session.get(Consent, granted.consent_id)
    assert consent is not None
    consent.revoked_at = utcnow()
    authorization.revoke_consent_tokens(session=session, consent_id=granted.consent_id)
    session.commit()


def _expire(session: Session, granted: Granted) -> None:
    row = session.get(AuthorizationCode, authorization.digest(granted.code))
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()


def _use(api: TestClient, org: Org, granted: Granted) -> None:
    assert exchange(api, org, granted, key=ECKey.generate_key("P-256")).status_code == 200


@pytest.mark.parametrize(
    ("cause", "japanese", "english"),
    [
        (
            "withdrawn",
            "認可コードが正しくありません: 利用者が同意を撤回しました。",
            "The authorization code is not valid: the resident withdrew the consent.",
        ),
        (
            "used",
            "認可コードが正しくありません: 認可コードはすでに使われています。"
            "このコードで発行したトークンは失効させました。",
            "The authorization code is not valid: the code was already used; "
            "the tokens it gave are revoked.",
        ),
        (
            "expired",
            "認可コードが正しくありません: 認可コードの有効期限（60秒）が切れています。",
            "The authorization code is not valid: the code has expired.",
        ),
        (
            "unknown",
            "認可コードが正しくありません: 認可コードが見つからないか、"
            "別のクライアントに発行されたものです。",
            "The authorization code is not valid: "
            "the code is unknown or was issued to another client.",
        ),
        (
            "verifier",
            "認可コードが正しくありません: PKCE の code_verifier が一致しません。",
            "The authorization code is not valid: the PKCE code_verifier does not match.",
        ),
        (
            "redirect",
            "認可コードが正しくありません: redirect_uri が認可リクエストのものと異なります。",
            "The authorization code is not valid: "
            "redirect_uri differs from the authorization request.",
        ),
    ],
)
def test_a_refused_code_says_its_own_cause_in_the_requests_language(
    api: TestClient, session: Session, settings: Settings, cause: str, japanese: str, english: str
) -> None:
    org = register(session)
    descriptions = {}
    for language in ("ja", "en"):
        granted = grant(api, session, settings, org)
        extra: dict[str, str] = {}
        if cause == "withdrawn":
            _withdraw(session, granted)
        elif cause == "used":
            _use(api, org, granted)
        elif cause == "expired":
            _expire(session, granted)
        elif cause == "unknown":
            extra["code"] = secrets.token_urlsafe(32)
        elif cause == "verifier":
            extra["code_verifier"] = "A" * 43
        else:
            extra["redirect_uri"] = REDIRECT + "/other"
        api.headers["Accept-Language"] = language
        try:
            response = exchange(api, org, granted, key=ECKey.generate_key("P-256"), **extra)
        finally:
            del api.headers["Accept-Language"]
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
        descriptions[language] = response.json()["error_description"]
    assert descriptions == {"ja": japanese, "en": english}


def test_every_refusal_of_the_back_channel_reads_in_japanese_by_default(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    _verifier, challenge = pkce()
    repeated = api.post(
        "/oauth/par",
        content="scope=openid&scope=name",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    no_pkce = push(api, org, challenge, code_challenge_method="plain")
    too_long = push(api, org, challenge, state="s" * 501)
    for response, expected in (
        (repeated, "リクエストが正しくありません: 同じパラメーターが繰り返されています。"),
        (
            no_pkce,
            "リクエストが正しくありません: code_challenge_method S256 の PKCE が必要です。",
        ),
        (too_long, "リクエストが正しくありません: state が長すぎます。"),
    ):
        assert response.status_code == 400
        assert response.json()["error_description"] == expected


def test_a_pending_request_is_answered_once(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    pending_id = open_pending(api, org, pkce()[1])
    consent_id = give_consent(session, org, ("openid", "name"))
    answer = {
        "session": session,
        "settings": settings,
        "pending_id": pending_id,
        "resident_id": RESIDENT,
        "consent_id": consent_id,
        "scopes": ("openid",),
    }
    assert "code=" in authorization.approve(**answer)
    with pytest.raises(authorization.PendingAuthorizationNotFoundError):
        authorization.approve(**answer)
    with pytest.raises(authorization.PendingAuthorizationNotFoundError):
        authorization.deny(
            session=session, settings=settings, pending_id=pending_id, resident_id=RESIDENT
        )


def test_a_pending_request_is_the_first_resident_s_who_opens_it(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    pending_id = open_pending(api, org, pkce()[1])
    authorization.pending_request(session=session, pending_id=pending_id, resident_id=RESIDENT)
    other = RESIDENT + 1
    # Another resident can neither read it, nor answer it with a consent of their own,
    # nor refuse it: each is "not found", as an unknown id is.
    with pytest.raises(authorization.PendingAuthorizationNotFoundError):
        authorization.pending_request(session=session, pending_id=pending_id, resident_id=other)
    with pytest.raises(authorization.PendingAuthorizationNotFoundError):
        authorization.deny(
            session=session, settings=settings, pending_id=pending_id, resident_id=other
        )
    consent_id = give_consent(session, org, ("openid", "name"))
    session.get_one(Consent, consent_id).resident_id = other
    with pytest.raises(authorization.PendingAuthorizationNotFoundError):
        authorization.approve(
            session=session,
            settings=settings,
            pending_id=pending_id,
            resident_id=other,
            consent_id=consent_id,
            scopes=("openid",),
        )
    # The first resident still has it.
    assert authorization.pending_request(
        session=session, pending_id=pending_id, resident_id=RESIDENT
    ).scopes == ("openid", "name", "address")


def test_approval_cannot_go_beyond_the_request(
    api: TestClient, session: Session, settings: Settings
) -> None:
    org = register(session)
    pending_id = open_pending(api, org, pkce()[1])
    consent_id = give_consent(session, org, ("openid", "myinfo.local-tax"))
    with pytest.raises(InvalidScopeError):
        authorization.approve(
            session=session,
            settings=settings,
            pending_id=pending_id,
            resident_id=RESIDENT,
            consent_id=consent_id,
            scopes=("openid", "myinfo.local-tax"),
        )


# --- resource requests ----------------------------------------------------------------


@pytest.fixture
def issued(api: TestClient, session: Session, settings: Settings) -> tuple[str, ECKey, Granted]:
    org = register(session)
    granted = grant(api, session, settings, org)
    key = ECKey.generate_key("P-256")
    response = exchange(api, org, granted, key=key)
    assert response.status_code == 200
    session.expire_all()
    return response.json()["access_token"], key, granted


def test_a_dpop_token_sent_as_bearer_is_refused(
    session: Session, settings: Settings, issued: tuple[str, ECKey, Granted]
) -> None:
    token, key, _ = issued
    with pytest.raises(InvalidTokenError):
        resource(session, settings, token, key, authorization=f"Bearer {token}")


def test_a_stolen_token_with_another_key_is_refused(
    session: Session, settings: Settings, issued: tuple[str, ECKey, Granted]
) -> None:
    token, _, _ = issued
    with pytest.raises(InvalidTokenError, match="another key"):
        resource(session, settings, token, ECKey.generate_key("P-256"))


def test_a_resource_proof_must_match_method_uri_and_token(
    session: Session, settings: Settings, issued: tuple[str, ECKey, Granted]
) -> None:
    token, key, _ = issued
    wrong = {
        "method": {"method": "POST"},
        "uri": {"url": ISSUER + "/api/partners/notices"},
        "ath": {"dpop": dpop_proof(key, RESOURCE, method="GET", token="other")},
        "missing": {"dpop": None},
    }
    for case, overrides in wrong.items():
        with pytest.raises(InvalidDPoPProofError):
            resource(session, settings, token, key, **overrides)
        assert case


def test_a_resource_proof_is_used_once(
    session: Session, settings: Settings, issued: tuple[str, ECKey, Granted]
) -> None:
    token, key, _ = issued
    proof = dpop_proof(key, RESOURCE, method="GET", token=token)
    assert resource(session, settings, token, key, dpop=proof).resident_id == RESIDENT
    with pytest.raises(InvalidDPoPProofError, match="already used"):
        resource(session, settings, token, key, dpop=proof)


def test_revoking_a_consent_kills_its_tokens_at_once(
    session: Session, settings: Settings, issued: tuple[str, ECKey, Granted]
) -> None:
    token, key, granted = issued
    assert resource(session, settings, token, key).consent_id == granted.consent_id
    assert authorization.revoke_consent_tokens(session=session, consent_id=granted.consent_id) == 1
    with pytest.raises(InvalidTokenError):
        resource(session, settings, token, key)


def test_a_suspended_organisation_loses_its_tokens(
    session: Session, settings: Settings, issued: tuple[str, ECKey, Granted]
) -> None:
    token, key, granted = issued
    consent = session.get(Consent, granted.consent_id)
    assert consent is not None
    row = session.scalars(
        select(Organization).where(Organization.client_id == consent.client_id)
    ).one()
    row.status = OrganizationStatus.SUSPENDED.value
    session.flush()
    with pytest.raises(InvalidTokenError):
        resource(session, settings, token, key)


def test_an_expired_token_is_refused(
    session: Session, settings: Settings, issued: tuple[str, ECKey, Granted]
) -> None:
    token, key, _ = issued
    row = session.get(AccessToken, authorization.digest(token))
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    with pytest.raises(InvalidTokenError):
        resource(session, settings, token, key)


def test_the_challenge_names_the_error_for_www_authenticate() -> None:
    challenge = authorization.www_authenticate(InvalidTokenError(reason="x"))
    assert challenge.startswith('DPoP error="invalid_token"')
    assert 'algs="PS256 ES256"' in challenge


def test_an_organisation_past_its_rate_limit_gets_a_clear_429(
    api: TestClient, session: Session, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The container's limiter, as the deployment's setting would make it.
    tight = container.settings.model_copy(update={"partner_rate_limit": "2/minute"})
    container.rate_limiter = RateLimiter.from_settings(tight)
    busy, other = register(session), register(session)
    for _ in range(2):
        assert push(api, busy, pkce()[1]).status_code == 201
    refused = push(api, busy, pkce()[1])
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert refused.headers["retry-after"] == "60"
    assert "しばらく" in refused.json()["error_description"]
    assert push(api, other, pkce()[1]).status_code == 201


def test_housekeeping_forgets_spent_proofs_and_old_requests(
    api: TestClient, session: Session
) -> None:
    org = register(session)
    request_uri = push(api, org, pkce()[1]).json()["request_uri"]
    row = session.get(PushedRequest, request_uri.removeprefix(rfc9126.REQUEST_URI_PREFIX))
    assert row is not None
    row.expires_at = utcnow() - timedelta(hours=2)
    for seen in session.scalars(select(SeenProof)).all():
        seen.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    authorization.forget_expired(session=session)
    session.expire_all()
    assert session.get(PushedRequest, row.id) is None
    assert session.scalars(select(SeenProof)).all() == []
