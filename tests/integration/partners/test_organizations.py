"""Organisations: registration checks, review, suspension, keys, the API, the page and the CLI."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from myna.app import create_app
from myna.bootstrap import Container
from myna.partners import cli as partners_cli
from myna.partners import organizations
from myna.partners.domain import (
    OrganizationNotFoundError,
    OrganizationStatus,
    RegisteredClient,
    RequestedScope,
    UnknownScopeError,
)
from myna.partners.models import AccessToken, Organization
from myna.platform.db import make_engine, utcnow
from myna.platform.settings import get_settings

API = "/api/partners/organizations"
CALLBACK = "https://mirai-bank.example/myna/callback"
SCOPES = [
    RequestedScope(scope="openid", reason="ログインのため"),
    RequestedScope(scope="name", reason="口座名義の確認のため"),
    RequestedScope(scope="address", reason="届出住所の入力を省くため"),
    RequestedScope(scope="myinfo.local-tax", reason="ローン審査の所得確認のため"),
]


def _public_jwks(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(keys)}


def _ec_jwk(kid: str = "k1", **changes: Any) -> dict[str, Any]:
    key = ECKey.generate_key("P-256", private=False)
    return {**key.as_dict(private=False), "kid": kid, "use": "sig", **changes}


def _register(session: Session, **changes: Any) -> RegisteredClient:
    values: dict[str, Any] = {
        "name": "みらい銀行",
        "purpose": "口座開設の本人確認と住所の入力を省くため",
        "contact": "api-support@mirai-bank.example",
        "retention": "口座解約から7年",
        "redirect_uris": [CALLBACK],
        "jwks": _public_jwks(_ec_jwk()),
        "requested_scopes": SCOPES,
        **changes,
    }
    return organizations.register_organization(session=session, **values)


def _approved(session: Session, **changes: Any) -> RegisteredClient:
    created = _register(session, **changes)
    return organizations.review(
        session=session,
        client_id=created.client_id,
        approve=True,
        scopes=["openid", "name", "myinfo.local-tax"],
        note="",
    )


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


def _body(**changes: Any) -> dict[str, Any]:
    return {
        "name": "みらい銀行",
        "purpose": "口座開設の本人確認のため",
        "contact": "api-support@mirai-bank.example",
        "retention": "口座解約から7年",
        "redirect_uris": [CALLBACK],
        "jwks": _public_jwks(_ec_jwk()),
        "requested_scopes": [
            {"scope": "openid", "reason": "ログインのため"},
            {"scope": "name", "reason": "口座名義の確認のため"},
        ],
        **changes,
    }


# --- registration --------------------------------------------------------------------


def test_a_registration_waits_for_review_and_is_not_listed_as_linked(session: Session) -> None:
    created = _register(session)
    assert created.status is OrganizationStatus.PENDING
    assert created.client_id.startswith("org-")
    assert created.approved_scopes == ()
    assert [s.scope for s in created.requested_scopes] == [s.scope for s in SCOPES]
    assert organizations.list_approved(session=session) == []
    assert organizations.get_client(session=session, client_id=created.client_id) == created


def test_redirect_uris_are_kept_as_the_exact_strings_given(session: Session) -> None:
    uris = [
        "https://mirai-bank.example/cb/",
        "https://mirai-bank.example/cb?app=1",
        "http://127.0.0.1:8765/callback",
        "http://localhost/callback",
    ]
    created = _register(session, redirect_uris=uris)
    assert created.redirect_uris == tuple(uris)


@pytest.mark.parametrize(
    "uri",
    [
        "http://mirai-bank.example/cb",  # plain http off the loopback
        "https://mirai-bank.example/cb#done",  # a fragment
        "https://mirai-bank.example/cb#",  # an empty fragment
        "/myna/callback",  # relative
        "https://user@mirai-bank.example/cb",  # userinfo
        "https://*.mirai-bank.example/cb",  # a wildcard
        "mirai:/callback",  # a custom scheme
        "https://mirai-bank.example:99999/cb",  # a port out of range
        "https://mirai-bank.example/c b",  # a space
        "http://127.0.0.1.evil.example/cb",  # looks like the loopback, is not
        "",
    ],
)
def test_it_refuses_a_redirect_uri_that_is_not_an_exact_https_uri(
    session: Session, uri: str
) -> None:
    with pytest.raises(organizations.InvalidRedirectUriError):
        _register(session, redirect_uris=[uri])


def test_it_refuses_no_redirect_uri_and_the_same_one_twice(session: Session) -> None:
    with pytest.raises(organizations.InvalidRedirectUriError):
        _register(session, redirect_uris=[])
    with pytest.raises(organizations.InvalidRedirectUriError):
        _register(session, redirect_uris=[CALLBACK, CALLBACK])


def _private_ec() -> dict[str, Any]:
    key = ECKey.generate_key("P-256", private=True)
    return {**key.as_dict(private=True), "kid": "k1", "use": "sig"}


def _rsa(bits: int, **changes: Any) -> dict[str, Any]:
    # Made with cryptography: joserfc will not make a key smaller than 2048 bits.
    numbers = rsa.generate_private_key(65537, bits).public_key().public_numbers()
    return {
        "kty": "RSA",
        "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": _b64(numbers.e.to_bytes(3, "big")),
        "kid": "r1",
        "use": "sig",
        **changes,
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _p384() -> dict[str, Any]:
    key = ECKey.generate_key("P-384", private=False)
    return {**key.as_dict(private=False), "kid": "k1", "use": "sig"}


def _off_curve() -> dict[str, Any]:
    jwk = _ec_jwk()
    other = _ec_jwk()
    return {**jwk, "y": other["y"]}


@pytest.mark.parametrize(
    "jwks",
    [
        pytest.param(lambda: _public_jwks(_private_ec()), id="a-private-key"),
        pytest.param(
            lambda: _public_jwks({"kty": "oct", "k": "c2VjcmV0", "kid": "s", "use": "sig"}),
            id="a-symmetric-key",
        ),
        pytest.param(lambda: _public_jwks(_rsa(1024)), id="rsa-1024"),
        pytest.param(lambda: _public_jwks(_rsa(2048, alg="RS256")), id="rsa-with-rs256"),
        pytest.param(lambda: _public_jwks(_ec_jwk(alg="PS256")), id="ec-with-ps256"),
        pytest.param(lambda: _public_jwks(_p384()), id="p-384"),
        pytest.param(lambda: _public_jwks(_off_curve()), id="a-point-off-the-curve"),
        pytest.param(
            lambda: _public_jwks({k: v for k, v in _ec_jwk().items() if k != "kid"}),
            id="no-kid",
        ),
        pytest.param(lambda: _public_jwks(_ec_jwk(use="enc")), id="an-encryption-key"),
        pytest.param(
            lambda: _public_jwks({k: v for k, v in _ec_jwk().items() if k != "use"}),
            id="no-use",
        ),
        pytest.param(lambda: _public_jwks(_ec_jwk(key_ops=["sign"])), id="key-ops-sign"),
        pytest.param(lambda: _public_jwks(_ec_jwk("same"), _ec_jwk("same")), id="kid-twice"),
        pytest.param(_public_jwks, id="no-keys"),
        pytest.param(lambda: [_ec_jwk()], id="a-list-not-a-set"),
    ],
)
def test_it_refuses_keys_that_are_not_public_signing_keys_of_an_allowed_kind(
    session: Session, jwks: Any
) -> None:
    with pytest.raises(organizations.InvalidJwksError):
        _register(session, jwks=jwks())


def test_it_keeps_only_the_public_members_of_an_rsa_or_ec_key(session: Session) -> None:
    rsa = {**_rsa(2048, alg="PS256"), "x5c": ["not checked"]}
    created = _register(session, jwks=_public_jwks(_ec_jwk(alg="ES256"), rsa))
    assert created.jwks is not None
    ec_key, rsa_key = created.jwks["keys"]
    assert set(ec_key) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert set(rsa_key) == {"kty", "n", "e", "kid", "use", "alg"}


def test_it_wants_either_keys_or_an_https_jwks_uri(session: Session) -> None:
    with pytest.raises(organizations.InvalidJwksError):
        _register(session, jwks=None)
    with pytest.raises(organizations.InvalidJwksError):
        _register(session, jwks_uri="https://mirai-bank.example/jwks.json")
    with pytest.raises(organizations.InvalidJwksError):
        _register(session, jwks=None, jwks_uri="http://mirai-bank.example/jwks.json")
    for internal in ("https://10.0.0.5/jwks.json", "https://169.254.169.254/latest"):
        with pytest.raises(organizations.InvalidJwksError):
            _register(session, jwks=None, jwks_uri=internal)
    created = _register(session, jwks=None, jwks_uri="https://mirai-bank.example/jwks.json")
    assert created.jwks is None
    assert created.jwks_uri == "https://mirai-bank.example/jwks.json"


def test_it_refuses_unknown_scopes_scopes_without_reason_twice_or_without_openid(
    session: Session,
) -> None:
    with pytest.raises(UnknownScopeError):
        _register(session, requested_scopes=[*SCOPES, RequestedScope("mynumber", "本人確認")])
    with pytest.raises(organizations.InvalidScopeRequestError):
        _register(session, requested_scopes=[*SCOPES[:1], RequestedScope("name", "  ")])
    with pytest.raises(organizations.InvalidScopeRequestError):
        _register(session, requested_scopes=[*SCOPES, SCOPES[1]])
    with pytest.raises(organizations.InvalidScopeRequestError):
        _register(session, requested_scopes=SCOPES[1:])


@pytest.mark.parametrize("field", ["name", "purpose", "contact", "retention"])
def test_it_refuses_an_empty_or_overlong_description(session: Session, field: str) -> None:
    with pytest.raises(organizations.InvalidRegistrationError):
        _register(session, **{field: "   "})
    with pytest.raises(organizations.InvalidRegistrationError):
        _register(session, **{field: "あ" * 2001})


# --- review, suspension, keys --------------------------------------------------------


def test_a_reviewer_approves_a_subset_of_the_requested_scopes(session: Session) -> None:
    created = _register(session)
    approved = organizations.review(
        session=session,
        client_id=created.client_id,
        approve=True,
        scopes=["myinfo.local-tax", "openid"],
        note="所得確認は住宅ローン審査に限る",
    )
    assert approved.status is OrganizationStatus.APPROVED
    assert approved.is_active
    # In the order the organisation asked, whatever the reviewer's order.
    assert approved.approved_scopes == ("openid", "myinfo.local-tax")
    assert approved.extra["reviewed_at"] is not None
    assert organizations.list_approved(session=session) == [approved]


def test_a_reviewer_cannot_approve_a_scope_that_was_not_requested_or_leave_out_openid(
    session: Session,
) -> None:
    created = _register(session)
    with pytest.raises(organizations.InvalidReviewError):
        organizations.review(
            session=session,
            client_id=created.client_id,
            approve=True,
            scopes=["openid", "gender"],
            note="",
        )
    with pytest.raises(organizations.InvalidReviewError):
        organizations.review(
            session=session, client_id=created.client_id, approve=True, scopes=["name"], note=""
        )
    still = organizations.get_client(session=session, client_id=created.client_id)
    assert still.status is OrganizationStatus.PENDING
    assert still.approved_scopes == ()


def test_a_rejection_needs_a_reason_and_cannot_be_reviewed_again(session: Session) -> None:
    created = _register(session)
    with pytest.raises(organizations.InvalidReviewError):
        organizations.review(
            session=session, client_id=created.client_id, approve=False, scopes=[], note=""
        )
    rejected = organizations.review(
        session=session,
        client_id=created.client_id,
        approve=False,
        scopes=["openid"],
        note="利用目的が具体的ではありません",
    )
    assert rejected.status is OrganizationStatus.REJECTED
    assert rejected.approved_scopes == ()
    with pytest.raises(organizations.OrganizationStateError) as refused:
        organizations.review(
            session=session,
            client_id=created.client_id,
            approve=True,
            scopes=["openid"],
            note="",
        )
    assert refused.value.status_code == 409
    assert "不承認" in refused.value.localized()


def _token_row(client_id: str, digest: str) -> AccessToken:
    now = utcnow()
    return AccessToken(
        digest=digest,
        client_id=client_id,
        resident_id=1,
        consent_id="consent-1",
        scope="openid name",
        jkt="thumbprint",
        created_at=now,
        expires_at=now + timedelta(minutes=5),
        revoked_at=None,
    )


def test_suspending_revokes_the_organisations_access_tokens_at_once(session: Session) -> None:
    approved = _approved(session)
    other = _approved(session, name="あおぞら保険")
    session.add_all(
        [
            _token_row(approved.client_id, "a" * 64),
            _token_row(approved.client_id, "b" * 64),
            _token_row(other.client_id, "c" * 64),
        ]
    )
    session.flush()
    suspended = organizations.suspend(
        session=session, client_id=approved.client_id, note="不適切な利用の調査のため"
    )
    assert suspended.status is OrganizationStatus.SUSPENDED
    assert not suspended.is_active
    revoked = {row.digest: row.revoked_at for row in session.scalars(select(AccessToken)).all()}
    assert revoked["a" * 64] is not None
    assert revoked["b" * 64] is not None
    assert revoked["c" * 64] is None  # another organisation's token lives on
    assert [c.client_id for c in organizations.list_approved(session=session)] == [other.client_id]
    resumed = organizations.resume(session=session, client_id=approved.client_id, note="")
    assert resumed.status is OrganizationStatus.APPROVED
    assert resumed.approved_scopes == approved.approved_scopes


def test_only_approved_organisations_are_suspended_and_only_suspended_ones_resumed(
    session: Session,
) -> None:
    pending = _register(session)
    with pytest.raises(organizations.OrganizationStateError):
        organizations.suspend(session=session, client_id=pending.client_id, note="調査")
    with pytest.raises(organizations.OrganizationStateError):
        organizations.resume(session=session, client_id=pending.client_id, note="")
    approved = _approved(session, name="あおぞら保険")
    with pytest.raises(organizations.InvalidReviewError):  # a suspension says why
        organizations.suspend(session=session, client_id=approved.client_id, note="")
    with pytest.raises(OrganizationNotFoundError):
        organizations.suspend(session=session, client_id="org-unknown", note="調査")


def test_rotating_keys_replaces_them_and_refuses_a_private_key(session: Session) -> None:
    approved = _approved(session)
    keys = organizations.client_keys(session=session, client_id=approved.client_id)
    assert [key.kid for key in keys.keys] == ["k1"]
    with pytest.raises(organizations.InvalidJwksError):
        organizations.rotate_keys(
            session=session, client_id=approved.client_id, jwks=_public_jwks(_private_ec())
        )
    organizations.rotate_keys(
        session=session,
        client_id=approved.client_id,
        jwks=_public_jwks(_ec_jwk("k2"), _rsa(2048)),
    )
    keys = organizations.client_keys(session=session, client_id=approved.client_id)
    assert sorted(key.kid or "" for key in keys.keys) == ["k2", "r1"]
    assert all(not key.is_private for key in keys.keys)


# --- keys from a jwks_uri ------------------------------------------------------------


class _KeyServer:
    """A jwks_uri on 127.0.0.1: answers what a test puts at a path, and counts requests."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                status, body = server.answers.get(self.path, (404, b""))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def put(self, body: Any, *, status: int = 200) -> str:
        """Serve ``body`` at a new path; its URL."""
        path = f"/{uuid.uuid4().hex}/jwks.json"
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers[path] = (status, raw)
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def count(self, url: str) -> int:
        return self.hits.get("/" + url.split("/", 3)[3], 0)


@pytest.fixture
def key_server() -> Iterator[_KeyServer]:
    server = _KeyServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join()


def test_keys_behind_a_jwks_uri_are_fetched_checked_and_kept_a_while(
    session: Session, key_server: _KeyServer
) -> None:
    url = key_server.put(_public_jwks(_ec_jwk("k1")))
    approved = _approved(session, jwks=None, jwks_uri=url)
    keys = organizations.client_keys(session=session, client_id=approved.client_id, kid="k1")
    assert [key.kid for key in keys.keys] == ["k1"]
    organizations.client_keys(session=session, client_id=approved.client_id, kid="k1")
    assert key_server.count(url) == 1  # the second call used the kept set
    # The organisation rotates at its end: an unknown kid refetches once the set is
    # older than the refetch interval (backdated here instead of waiting).
    key_server.answers["/" + url.split("/", 3)[3]] = (
        200,
        json.dumps(_public_jwks(_ec_jwk("k2"))).encode(),
    )
    fetched_at, kept = organizations._fetched[url]
    organizations._fetched[url] = (fetched_at - organizations.JWKS_REFETCH_SECONDS - 1, kept)
    keys = organizations.client_keys(session=session, client_id=approved.client_id, kid="k2")
    assert [key.kid for key in keys.keys] == ["k2"]
    assert key_server.count(url) == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(_public_jwks(_private_ec()), 200, id="a-private-key"),
        pytest.param(b"{" + b" " * (70 * 1024) + b"}", 200, id="too-large"),
        pytest.param(b"not json", 200, id="not-json"),
        pytest.param(_public_jwks(_ec_jwk()), 404, id="not-found"),
    ],
)
def test_a_jwks_uri_that_answers_badly_gives_no_keys(
    session: Session, key_server: _KeyServer, body: Any, status: int
) -> None:
    url = key_server.put(body, status=status)
    approved = _approved(session, jwks=None, jwks_uri=url)
    with pytest.raises(organizations.JwksUnavailableError):
        organizations.client_keys(session=session, client_id=approved.client_id)


def test_an_unreachable_jwks_uri_gives_no_keys(session: Session) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    approved = _approved(session, jwks=None, jwks_uri=f"http://127.0.0.1:{port}/jwks.json")
    with pytest.raises(organizations.JwksUnavailableError):
        organizations.client_keys(session=session, client_id=approved.client_id)


# --- the registration API ------------------------------------------------------------


def test_the_api_registers_an_organisation_as_pending(session: Session, client: TestClient) -> None:
    response = client.post(API, json=_body())
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "pending"
    assert body["client_id"].startswith("org-")
    assert body["approved_scopes"] == []
    assert [s["label"] for s in body["requested_scopes"]][1] == "氏名"
    session.expire_all()
    row = session.scalars(
        select(Organization).where(Organization.client_id == body["client_id"])
    ).one()
    assert row.status == "pending"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"redirect_uris": ["https://mirai-bank.example/cb#x"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://mirai-bank.example/cb"]}, "invalid_redirect_uri"),
        ({"jwks": _public_jwks(_private_ec())}, "invalid_client_metadata"),
        ({"jwks": None, "jwks_uri": "http://mirai-bank.example/j"}, "invalid_client_metadata"),
        (
            {
                "requested_scopes": [
                    {"scope": "openid", "reason": "x"},
                    {"scope": "x", "reason": "y"},
                ]
            },
            "invalid_client_metadata",
        ),
    ],
)
def test_the_api_answers_a_bad_registration_with_an_rfc_7591_error(
    session: Session, client: TestClient, changes: dict[str, Any], error: str
) -> None:
    response = client.post(API, json=_body(**changes))
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    session.expire_all()
    assert session.scalars(select(Organization)).all() == []


def test_the_api_refuses_unknown_fields_instead_of_ignoring_them(client: TestClient) -> None:
    response = client.post(API, json=_body(jwks_url="https://mirai-bank.example/jwks.json"))
    assert response.status_code == 422


def test_the_api_limits_registrations_per_address(client: TestClient) -> None:
    for _ in range(10):
        assert client.post(API, json=_body()).status_code == 201
    refused = client.post(API, json=_body())
    assert refused.status_code == 429


def test_the_api_is_described_in_openapi(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    operation = spec["paths"][API]["post"]
    assert "requestBody" in operation
    assert "400" in operation["responses"]
    assert "get" in spec["paths"][API]
    assert "/partners" not in spec["paths"]


# --- 連携サービス一覧 ----------------------------------------------------------------


def test_the_linked_services_page_lists_approved_organisations_in_japanese_without_login(
    session: Session, client: TestClient
) -> None:
    approved = _approved(session)
    _register(session, name="審査中ローン株式会社")
    suspended = _approved(session, name="停止中証券")
    organizations.suspend(session=session, client_id=suspended.client_id, note="調査")
    session.commit()
    page = client.get("/partners")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="ja">' in html
    assert "連携サービス一覧" in html
    assert approved.name in html
    assert approved.purpose in html
    assert "口座解約から7年" in html
    assert "氏名" in html
    assert "わたしの情報: 地方税" in html
    assert "ローン審査の所得確認のため" in html
    assert "届出住所の入力を省くため" not in html  # requested, not approved
    assert "審査中ローン株式会社" not in html
    assert "停止中証券" not in html
    english = client.get("/partners?lang=en").text
    assert "My information: Local tax" in english


def test_the_open_data_list_has_only_approved_organisations(
    session: Session, client: TestClient
) -> None:
    approved = _approved(session)
    _register(session, name="審査中ローン株式会社")
    session.commit()
    listed = client.get(API).json()
    assert [item["client_id"] for item in listed] == [approved.client_id]
    assert [s["scope"] for s in listed[0]["scopes"]] == ["openid", "name", "myinfo.local-tax"]


# --- the CLI ---------------------------------------------------------------------------


def test_the_cli_registers_reviews_suspends_resumes_rotates_and_lists(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'myna.db'}"
    registration = tmp_path / "registration.json"
    registration.write_text(json.dumps(_body()), encoding="utf-8")
    new_keys = tmp_path / "jwks.json"
    new_keys.write_text(json.dumps(_public_jwks(_ec_jwk("k2"))), encoding="utf-8")
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MYNA_ENVIRONMENT", "development")
        env.setenv("MYNA_DATABASE_URL", database_url)
        env.setenv("MYNA_DATA_DIR", str(tmp_path / "var"))
        get_settings.cache_clear()
        try:
            registered = runner.invoke(partners_cli.app, ["register", str(registration)])
            client_id = registered.stdout.strip().splitlines()[-1]
            pending = runner.invoke(partners_cli.app, ["list", "--status", "pending"])
            reviewed = runner.invoke(
                partners_cli.app, ["review", client_id, "--approve", "--scope", "openid"]
            )
            again = runner.invoke(partners_cli.app, ["review", client_id, "--reject"])
            suspended = runner.invoke(partners_cli.app, ["suspend", client_id, "--note", "調査"])
            resumed = runner.invoke(partners_cli.app, ["resume", client_id])
            rotated = runner.invoke(
                partners_cli.app, ["rotate-keys", client_id, "--jwks-file", str(new_keys)]
            )
            listed = runner.invoke(partners_cli.app, ["list"])
        finally:
            get_settings.cache_clear()
    assert registered.exit_code == 0, registered.output
    assert client_id.startswith("org-")
    assert client_id in pending.stdout
    assert reviewed.exit_code == 0, reviewed.output
    assert again.exit_code == 1  # reviewed already: an error message, no stack trace
    assert suspended.exit_code == 0, suspended.output
    assert resumed.exit_code == 0, resumed.output
    assert rotated.exit_code == 0, rotated.output
    assert client_id in listed.stdout
    assert "承認済み" in listed.stdout
    engine = make_engine(database_url)
    with Session(engine) as db:
        row = db.scalars(select(Organization).where(Organization.client_id == client_id)).one()
        assert row.status == "approved"
        assert row.approved_scopes == ["openid"]
        assert row.jwks is not None
        assert [key["kid"] for key in row.jwks["keys"]] == ["k2"]
    engine.dispose()
