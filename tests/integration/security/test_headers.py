"""Every kind of answer carries the security headers: pages, JSON, files, errors, other apps.

One sample per route group, each checked for a strict Content-Security-Policy (nothing
inline, no framing), ``nosniff``, a Referrer-Policy and, for what is personal or a
token, ``Cache-Control: no-store``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from cryptography import x509
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from myna import jpki, network
from myna.counter.app import create_counter_app
from myna.network.node import AgencyNode, create_node_app
from myna.office import filings
from myna.platform.settings import Settings
from myna.reader.app import create_reader_app
from tests.integration.network.nodekit import FixedCrl, real_trust
from tests.integration.security.conftest import CHIYODA, World


def _directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0].lower()] = words[1:]
    return found


def assert_secure_headers(response: httpx.Response, *, no_store: bool = False) -> None:
    """The headers every answer of every Myna app must carry."""
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    policy = response.headers.get("content-security-policy", "")
    directives = _directives(policy)
    assert "default-src" in directives, where
    scripts = directives.get("script-src", directives["default-src"])
    assert "'unsafe-inline'" not in scripts, where
    assert "'unsafe-eval'" not in scripts, where
    assert "*" not in scripts, where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") in {"no-referrer", "same-origin"}, where
    if no_store:
        assert "no-store" in response.headers.get("cache-control", ""), where


def test_portal_pages_json_files_and_errors_carry_the_headers(world: World) -> None:
    anonymous = world.anonymous
    for path in ("/", "/services", "/login", "/api/docs", "/stats"):
        assert_secure_headers(anonymous.get(path))
    for path in ("/api/openapi.json", "/healthz", "/transparency/tree-heads/latest"):
        assert_secure_headers(anonymous.get(path))
    css = anonymous.get("/static/myna.css")
    assert css.status_code == 200
    assert_secure_headers(css)
    assert_secure_headers(anonymous.get("/static/js/signing.js"))
    # The errors: 404 as a page and as JSON, 405, 422.
    assert_secure_headers(anonymous.get("/no-such-page"), no_store=True)
    assert_secure_headers(anonymous.get("/api/no-such-thing"), no_store=True)
    assert_secure_headers(anonymous.get("/logout"), no_store=True)
    assert_secure_headers(anonymous.get("/exchanges", params={"page": "x"}), no_store=True)


def test_personal_pages_are_never_stored(world: World) -> None:
    resident = world.resident_a.client
    for path in ("/home", "/my-info", "/notices", "/account", "/proxy"):
        response = resident.get(path)
        assert response.status_code == 200, path
        assert_secure_headers(response, no_store=True)
    staff = world.staff_x.client
    for path in ("/office", "/office/applications"):
        response = staff.get(path)
        assert response.status_code == 200, path
        assert_secure_headers(response, no_store=True)


def test_a_server_error_carries_the_headers_and_no_trace(world: World) -> None:
    def explode() -> None:
        raise RuntimeError("internal detail")

    world.app.add_api_route("/explode", explode)
    with TestClient(world.app, raise_server_exceptions=False) as client:
        page = client.get("/explode")
        answer = client.get("/explode", headers={"accept": "application/json"})
    for response in (page, answer):
        assert response.status_code == 500
        assert "internal detail" not in response.text
        assert "Traceback" not in response.text
        assert_secure_headers(response, no_store=True)
    assert answer.json()["error"] == "internal_error"


def _token_response(client: TestClient, session: Session) -> httpx.Response:
    created, private = filings.generate_client(
        session=session, municipality_code=CHIYODA, name="千代田区 基幹系"
    )
    session.commit()
    claims = {
        "iss": created.client_id,
        "sub": created.client_id,
        "aud": f"{client.base_url}/api/municipality/token",
        "exp": int(time.time()) + 120,
        "jti": str(uuid.uuid4()),
    }
    assertion = jwt.encode(
        {"alg": "ES256", "kid": created.client_id}, claims, ECKey.import_key(private)
    )
    return client.post(
        "/api/municipality/token",
        data={
            "grant_type": filings.GRANT_TYPE,
            "client_assertion_type": filings.ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )


def test_token_answers_are_never_stored(world: World, session: Session) -> None:
    issued = _token_response(world.anonymous, session)
    assert issued.status_code == 200
    assert "access_token" in issued.json()
    assert_secure_headers(issued, no_store=True)
    for path in ("/oauth/token", "/authapp/token", "/api/municipality/token"):
        refused = world.anonymous.post(path, data={"grant_type": "nothing"})
        assert 400 <= refused.status_code < 500, path
        assert_secure_headers(refused, no_store=True)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    # Never used to reach anything: the pages sampled here ask nothing of the portal.
    with httpx.Client(transport=httpx.MockTransport(lambda _r: httpx.Response(503))) as client:
        yield client


def test_the_reader_and_counter_apps_carry_the_headers(world: World, http: httpx.Client) -> None:
    for app in (
        create_reader_app(world.container, http_client=http),
        create_counter_app(world.container, http_client=http),
    ):
        with TestClient(app, raise_server_exceptions=False) as client:
            assert_secure_headers(client.get("/"), no_store=True)
            assert_secure_headers(client.get("/static/myna.css"))
            assert_secure_headers(client.get("/no-such-page"), no_store=True)


def test_the_agency_node_carries_the_headers(
    world: World, session: Session, settings: Settings
) -> None:
    jpki.ensure_authorities(session=session, settings=settings)
    crl = jpki.current_crl(session=session, settings=settings, kind=jpki.AuthorityKind.GOVERNMENT)
    node = AgencyNode(
        agency_code=CHIYODA,
        credential=network.credential_for(session=session, settings=settings, code=CHIYODA),
        trust=real_trust(session),
        revocation=FixedCrl(x509.load_der_x509_crl(crl)),
    )
    session.commit()
    with TestClient(create_node_app(world.container, node), raise_server_exceptions=False) as c:
        assert_secure_headers(c.get("/healthz"), no_store=True)
        assert_secure_headers(c.post("/network/query", content=b"x"), no_store=True)
        assert_secure_headers(c.get("/no-such-path"), no_store=True)
