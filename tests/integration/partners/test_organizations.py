"""Organisations: registration checks, review, suspension, keys, the API, the page and the CLI."""

from __future__ import annotations

import base64
import contextlib
import gzip
import ipaddress
import json
import re
import socket
import ssl
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from myna.app import create_app
from myna.bootstrap import Container
from myna.cli import partners as partners_cli
from myna.partners import organizations
from myna.partners.domain import (
    OrganizationNotFoundError,
    OrganizationStatus,
    RegisteredClient,
    RequestedScope,
    UnknownScopeError,
)
from myna.partners.models import AccessToken, Organization
from myna.platform import i18n
from myna.platform.db import make_engine, utcnow
from myna.platform.settings import Settings, get_settings
from tests.integration.partners.conftest import Answer, Clock, KeyServer

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
        pytest.param(lambda: _public_jwks(_ec_jwk(use="enc")), id="only-an-encryption-key"),
        pytest.param(
            lambda: _public_jwks({k: v for k, v in _ec_jwk().items() if k != "use"}),
            id="no-use",
        ),
        pytest.param(lambda: _public_jwks(_ec_jwk(use="wrap")), id="an-unknown-use"),
        pytest.param(
            lambda: _public_jwks(_ec_jwk(), _ec_jwk("e1", use="enc"), _ec_jwk("e2", use="enc")),
            id="two-encryption-keys",
        ),
        pytest.param(
            lambda: _public_jwks(_ec_jwk(), _ec_jwk("e1", use="enc", alg="ES256")),
            id="encryption-key-with-a-signing-alg",
        ),
        pytest.param(
            lambda: _public_jwks(_ec_jwk(), _rsa(2048, kid="e1", use="enc", alg="RSA-OAEP")),
            id="rsa-oaep-with-sha-1",
        ),
        pytest.param(
            lambda: _public_jwks(_ec_jwk(), _rsa(2048, kid="e1", use="enc", alg="RSA1_5")),
            id="rsa1-5",
        ),
        pytest.param(
            lambda: _public_jwks(_ec_jwk(), _rsa(2048, kid="e1", use="enc", alg="ECDH-ES")),
            id="rsa-with-an-ec-alg",
        ),
        pytest.param(
            lambda: _public_jwks(_ec_jwk(), _rsa(1024, kid="e1", use="enc")),
            id="rsa-1024-encryption-key",
        ),
        pytest.param(
            lambda: _public_jwks(_ec_jwk(), _ec_jwk("e1", use="enc", key_ops=["verify"])),
            id="encryption-key-ops-verify",
        ),
        pytest.param(lambda: _public_jwks(_ec_jwk(key_ops=["sign"])), id="key-ops-sign"),
        pytest.param(lambda: _public_jwks(_ec_jwk(key_ops=["encrypt"])), id="key-ops-encrypt"),
        pytest.param(lambda: _public_jwks(_ec_jwk("same"), _ec_jwk("same")), id="kid-twice"),
        pytest.param(_public_jwks, id="no-keys"),
        pytest.param(lambda: [_ec_jwk()], id="a-list-not-a-set"),
    ],
)
def test_it_refuses_keys_that_are_not_public_keys_of_an_allowed_kind_and_use(
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


@pytest.mark.parametrize(
    ("enc", "alg"),
    [
        pytest.param(lambda: _ec_jwk("e1", use="enc"), None, id="ec"),
        pytest.param(
            lambda: _ec_jwk("e1", use="enc", alg="ECDH-ES+A256KW"), "ECDH-ES+A256KW", id="ec-kw"
        ),
        pytest.param(lambda: _ec_jwk("e1", use="enc", alg="ECDH-ES"), "ECDH-ES", id="ec-direct"),
        pytest.param(
            lambda: _rsa(2048, kid="e1", use="enc", alg="RSA-OAEP-256"), "RSA-OAEP-256", id="rsa"
        ),
        pytest.param(
            lambda: _rsa(3072, kid="e1", use="enc", key_ops=["wrapKey"]), None, id="rsa-key-ops"
        ),
    ],
)
def test_it_accepts_one_encryption_key_beside_the_signing_keys(
    session: Session, settings: Settings, enc: Any, alg: str | None
) -> None:
    created = _register(session, jwks=_public_jwks(_ec_jwk("k1"), enc()))
    assert created.jwks is not None
    signing, encryption = created.jwks["keys"]
    assert (signing["use"], encryption["use"]) == ("sig", "enc")
    assert encryption.get("alg") == alg
    assert "key_ops" not in encryption
    # An encryption key is never a key to check a client assertion with.
    keys = organizations.client_keys(
        session=session,
        settings=settings,
        cache=organizations.JwksCache(),
        client_id=created.client_id,
    )
    assert [key.kid for key in keys.keys] == ["k1"]
    found = organizations.encryption_key(
        session=session,
        settings=settings,
        cache=organizations.JwksCache(),
        client_id=created.client_id,
    )
    assert found == encryption


def test_a_key_without_a_known_use_is_refused_with_a_clear_message(session: Session) -> None:
    no_use = {k: v for k, v in _ec_jwk().items() if k != "use"}
    with pytest.raises(organizations.InvalidJwksError) as refused:
        _register(session, jwks=_public_jwks(_ec_jwk("k1"), {**no_use, "kid": "k2"}))
    assert refused.value.localized() == (
        'JWKS の 2 番目の鍵には "use": "sig"（署名用の鍵）または "enc"（暗号化用の鍵）が必要です。'
    )
    with pytest.raises(organizations.InvalidJwksError) as only_enc:
        _register(session, jwks=_public_jwks(_ec_jwk(use="enc")))
    assert "署名用の鍵" in only_enc.value.localized()
    i18n.set_locale("en")
    assert 'at least one signing key ("use": "sig")' in only_enc.value.localized()


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


def test_rotating_keys_replaces_them_and_refuses_a_private_key(
    session: Session, settings: Settings
) -> None:
    approved = _approved(session)
    keys = organizations.client_keys(
        session=session,
        settings=settings,
        cache=organizations.JwksCache(),
        client_id=approved.client_id,
    )
    assert [key.kid for key in keys.keys] == ["k1"]
    with pytest.raises(organizations.InvalidJwksError):
        organizations.rotate_keys(
            session=session,
            cache=organizations.JwksCache(),
            client_id=approved.client_id,
            jwks=_public_jwks(_private_ec()),
        )
    organizations.rotate_keys(
        session=session,
        cache=organizations.JwksCache(),
        client_id=approved.client_id,
        jwks=_public_jwks(_ec_jwk("k2"), _rsa(2048)),
    )
    keys = organizations.client_keys(
        session=session,
        settings=settings,
        cache=organizations.JwksCache(),
        client_id=approved.client_id,
    )
    assert sorted(key.kid or "" for key in keys.keys) == ["k2", "r1"]
    assert all(not key.is_private for key in keys.keys)


# --- keys from a jwks_uri ------------------------------------------------------------
# The platform fetches what an organisation names: never for one nobody approved, never
# from the operator's own network, never more than a few KiB for a few seconds.


def _keys(
    session: Session,
    settings: Settings,
    org: RegisteredClient,
    cache: organizations.JwksCache | None = None,
    **kid: str,
) -> KeySet:
    return organizations.client_keys(
        session=session,
        settings=settings,
        cache=cache or organizations.JwksCache(),
        client_id=org.client_id,
        **kid,
    )


def test_keys_behind_a_jwks_uri_are_fetched_checked_and_kept_a_while(
    session: Session,
    sandbox_settings: Settings,
    key_server: KeyServer,
    jwks_cache: organizations.JwksCache,
    clock: Clock,
) -> None:
    url = key_server.put(_public_jwks(_ec_jwk("k1")))
    approved = _approved(session, jwks=None, jwks_uri=url)
    keys = _keys(session, sandbox_settings, approved, jwks_cache, kid="k1")
    assert [key.kid for key in keys.keys] == ["k1"]
    _keys(session, sandbox_settings, approved, jwks_cache, kid="k1")
    assert key_server.count(url) == 1  # the second call used the kept set
    # The organisation rotates at its end: an unknown kid refetches once the set is
    # older than the refetch interval (the cache's clock moved on, no waiting).
    key_server.answers[key_server.path_of(url)] = Answer(
        200, json.dumps(_public_jwks(_ec_jwk("k2"))).encode()
    )
    keys = _keys(session, sandbox_settings, approved, jwks_cache, kid="k2")
    assert [key.kid for key in keys.keys] == ["k1"]  # too soon: the kept set answers
    assert key_server.count(url) == 1
    clock.now += organizations.JWKS_REFETCH_SECONDS + 1
    keys = _keys(session, sandbox_settings, approved, jwks_cache, kid="k2")
    assert [key.kid for key in keys.keys] == ["k2"]
    assert key_server.count(url) == 2
    # The connection went to the address, the request named the host it was for.
    assert key_server.hosts == [f"127.0.0.1:{key_server.port}"] * 2


@pytest.mark.parametrize(
    "status",
    [OrganizationStatus.PENDING, OrganizationStatus.REJECTED, OrganizationStatus.SUSPENDED],
)
def test_nothing_is_fetched_for_an_organisation_that_is_not_approved(
    session: Session, sandbox_settings: Settings, key_server: KeyServer, status: OrganizationStatus
) -> None:
    url = key_server.put(_public_jwks(_ec_jwk("k1")))
    created = _register(session, jwks=None, jwks_uri=url)
    row = session.scalars(
        select(Organization).where(Organization.client_id == created.client_id)
    ).one()
    row.status = status.value
    session.flush()
    with pytest.raises(organizations.JwksUnavailableError) as refused:
        _keys(session, sandbox_settings, created, kid="k1")
    assert "approved organisation" in str(refused.value)
    with pytest.raises(organizations.JwksUnavailableError):
        organizations.encryption_key(
            session=session,
            settings=sandbox_settings,
            cache=organizations.JwksCache(),
            client_id=created.client_id,
        )
    assert key_server.total == 0


def test_a_jwks_uri_on_the_loopback_is_fetched_only_in_the_sandbox(
    session: Session, settings: Settings, key_server: KeyServer
) -> None:
    url = key_server.put(_public_jwks(_ec_jwk("k1")))
    approved = _approved(session, jwks=None, jwks_uri=url)
    named = _approved(session, jwks=None, jwks_uri=url.replace("127.0.0.1", "localhost"))
    assert settings.environment == "test"
    for org in (approved, named):
        with pytest.raises(organizations.JwksUnavailableError) as refused:
            _keys(session, settings, org)
        assert str(refused.value) == (
            "The organisation's jwks_uri leads to a private, loopback or link-local address; "
            "keys are fetched only from public addresses."
        )
        assert "プライベート、ループバック" in refused.value.localized()
    assert key_server.total == 0
    development = settings.model_copy(update={"environment": "development"})
    assert [key.kid for key in _keys(session, development, approved).keys] == ["k1"]


def _resolving_to(*addresses: str) -> Any:
    """A getaddrinfo that answers ``addresses`` for a name and leaves IP literals alone."""
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            family = {4: socket.AF_INET, 6: socket.AF_INET6}
            return [
                (family[ipaddress.ip_address(a).version], socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses
            ]
        return real(host, port, *args, **kwargs)

    return fake


@pytest.mark.parametrize(
    "addresses",
    [
        pytest.param(("10.0.0.5",), id="private"),
        pytest.param(("192.168.1.10",), id="private-192-168"),
        pytest.param(("169.254.169.254",), id="link-local-metadata"),
        pytest.param(("127.0.0.1",), id="loopback"),
        pytest.param(("::1",), id="ipv6-loopback"),
        pytest.param(("fd00::5",), id="ipv6-unique-local"),
        pytest.param(("fe80::1",), id="ipv6-link-local"),
        pytest.param(("::ffff:10.0.0.5",), id="ipv4-mapped-private"),
        pytest.param(("64:ff9b::a00:5",), id="nat64-private"),
        pytest.param(("0.0.0.0",), id="unspecified"),  # noqa: S104 - refused, not bound
        pytest.param(("224.0.0.1",), id="multicast"),
        pytest.param(("240.0.0.1",), id="reserved"),
        pytest.param(("100.64.0.1",), id="carrier-grade-nat"),
        pytest.param(("93.184.215.14", "10.0.0.5"), id="one-public-one-private"),
    ],
)
def test_a_host_name_resolving_to_a_non_public_address_is_refused(
    session: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    addresses: tuple[str, ...],
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolving_to(*addresses))
    approved = _approved(session, jwks=None, jwks_uri="https://keys.mirai-bank.example/jwks.json")
    with pytest.raises(organizations.JwksUnavailableError) as refused:
        _keys(session, settings, approved)
    assert refused.value.message == organizations.NOT_PUBLIC


def test_the_connection_goes_to_the_address_that_was_checked(
    session: Session,
    sandbox_settings: Settings,
    key_server: KeyServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # DNS rebinding: the name answers the loopback when checked, then a private address.
    answers = iter([("127.0.0.1",), ("10.255.255.1",), ("10.255.255.1",)])
    real = socket.getaddrinfo

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "localhost":
            return real(host, port, *args, **kwargs)
        return _resolving_to(*next(answers))(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = key_server.put(_public_jwks(_ec_jwk("k1"))).replace("127.0.0.1", "localhost")
    approved = _approved(session, jwks=None, jwks_uri=url)
    assert [key.kid for key in _keys(session, sandbox_settings, approved).keys] == ["k1"]
    assert key_server.hosts == [f"localhost:{key_server.port}"]


def test_tls_names_the_host_not_the_address_and_checks_its_certificate(
    session: Session, sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = "keys.mirai-bank.example"
    seen: list[str | None] = []
    with _tls_listener(host, seen) as port:
        monkeypatch.setattr(socket, "getaddrinfo", _resolving_to("127.0.0.1"))
        approved = _approved(session, jwks=None, jwks_uri=f"https://{host}:{port}/jwks.json")
        with pytest.raises(organizations.JwksUnavailableError) as refused:
            _keys(session, sandbox_settings, approved)
    # The handshake asked for the name (SNI), and the self-signed certificate for it was
    # not trusted: TLS is checked against the name although the address was dialled.
    assert seen == [host]
    assert refused.value.message == organizations.UNREACHABLE


@contextmanager
def _tls_listener(host: str, seen: list[str | None]) -> Iterator[int]:
    """A TLS listener on 127.0.0.1 with a self-signed certificate for ``host``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as folder:
        pem = Path(folder) / "server.pem"
        pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            + certificate.public_bytes(serialization.Encoding.PEM)
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pem)

    def remember(_socket: Any, name: str | None, _context: Any) -> None:
        seen.append(name)

    context.sni_callback = remember
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection, contextlib.suppress(OSError):
            context.wrap_socket(connection, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(timeout=5)
        listener.close()


def test_redirects_are_not_followed(
    session: Session, sandbox_settings: Settings, key_server: KeyServer
) -> None:
    target = key_server.put(_public_jwks(_ec_jwk("k1")))
    url = key_server.put(b"", status=302, headers={"Location": target})
    approved = _approved(session, jwks=None, jwks_uri=url)
    with pytest.raises(organizations.JwksUnavailableError) as refused:
        _keys(session, sandbox_settings, approved)
    assert str(refused.value) == (
        "The organisation's jwks_uri answered HTTP 302; it must answer 200 with the keys "
        "(redirects are not followed)."
    )
    assert key_server.count(target) == 0


@pytest.mark.parametrize(
    ("body", "status", "options", "message"),
    [
        pytest.param(
            _public_jwks(_private_ec()), 200, {}, organizations.NOT_A_KEY_SET, id="a-private-key"
        ),
        pytest.param(
            b"{" + b" " * (70 * 1024) + b"}", 200, {}, organizations.TOO_LARGE, id="too-large"
        ),
        pytest.param(
            b"{" + b" " * (70 * 1024) + b"}",
            200,
            {"unsized": True},
            organizations.TOO_LARGE,
            id="too-large-without-a-length",
        ),
        pytest.param(
            gzip.compress(json.dumps(_public_jwks(_ec_jwk())).encode()),
            200,
            {"headers": {"Content-Encoding": "gzip"}},
            organizations.NOT_A_KEY_SET,
            id="compressed",
        ),
        pytest.param(b"not json", 200, {}, organizations.NOT_A_KEY_SET, id="not-json"),
        pytest.param(_public_jwks(_ec_jwk()), 404, {}, organizations.NOT_OK, id="not-found"),
    ],
)
def test_a_jwks_uri_that_answers_badly_gives_no_keys(
    session: Session,
    sandbox_settings: Settings,
    key_server: KeyServer,
    body: Any,
    status: int,
    options: dict[str, Any],
    message: str,
) -> None:
    url = key_server.put(body, status=status, **options)
    approved = _approved(session, jwks=None, jwks_uri=url)
    with pytest.raises(organizations.JwksUnavailableError) as refused:
        _keys(session, sandbox_settings, approved)
    assert refused.value.message == message


def test_a_failing_jwks_uri_is_not_asked_again_at_once(
    session: Session,
    sandbox_settings: Settings,
    key_server: KeyServer,
    jwks_cache: organizations.JwksCache,
    clock: Clock,
) -> None:
    url = key_server.put(_public_jwks(_ec_jwk()), status=500)
    approved = _approved(session, jwks=None, jwks_uri=url)
    for _ in range(3):
        with pytest.raises(organizations.JwksUnavailableError) as refused:
            _keys(session, sandbox_settings, approved, jwks_cache)
        assert refused.value.message == organizations.NOT_OK
    assert key_server.count(url) == 1
    # Asked again once the refetch interval has passed.
    clock.now += organizations.JWKS_REFETCH_SECONDS + 1
    with pytest.raises(organizations.JwksUnavailableError):
        _keys(session, sandbox_settings, approved, jwks_cache)
    assert key_server.count(url) == 2


def test_a_jwks_uri_that_drips_its_answer_is_cut_off_at_the_deadline(
    session: Session,
    sandbox_settings: Settings,
    key_server: KeyServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(organizations, "JWKS_FETCH_DEADLINE_SECONDS", 0.5)
    # Each byte comes well within the read timeout; the whole would take minutes.
    url = key_server.put(_public_jwks(_ec_jwk()), drip_seconds=0.05)
    approved = _approved(session, jwks=None, jwks_uri=url)
    with pytest.raises(organizations.JwksUnavailableError) as refused:
        _keys(session, sandbox_settings, approved)
    # Cut off by the deadline, not by a read timeout (each byte came in time).
    assert refused.value.message == organizations.TOO_SLOW
    assert "0.5" in str(refused.value)


def test_an_unreachable_jwks_uri_gives_no_keys(
    session: Session, sandbox_settings: Settings
) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    approved = _approved(session, jwks=None, jwks_uri=f"http://127.0.0.1:{port}/jwks.json")
    with pytest.raises(organizations.JwksUnavailableError) as refused:
        _keys(session, sandbox_settings, approved)
    assert refused.value.message == organizations.UNREACHABLE


def test_an_encryption_key_behind_a_jwks_uri_is_found_but_never_verifies(
    session: Session,
    sandbox_settings: Settings,
    key_server: KeyServer,
    jwks_cache: organizations.JwksCache,
) -> None:
    enc = _rsa(2048, kid="e1", use="enc", alg="RSA-OAEP-256")
    url = key_server.put(_public_jwks(_ec_jwk("k1"), enc))
    approved = _approved(session, jwks=None, jwks_uri=url)
    signing = _keys(session, sandbox_settings, approved, jwks_cache, kid="e1")
    assert [key.kid for key in signing.keys] == ["k1"]
    found = organizations.encryption_key(
        session=session, settings=sandbox_settings, cache=jwks_cache, client_id=approved.client_id
    )
    assert found is not None
    assert (found["kid"], found["use"], found["n"]) == ("e1", "enc", enc["n"])
    assert key_server.count(url) == 1


# --- client authentication against a jwks_uri (the probe's request) ------------------


@pytest.fixture
def sandbox_client(sandbox_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(sandbox_container), base_url="http://testserver") as client:
        yield client


def _par(client: TestClient, client_id: str, assertion: str) -> Any:
    return client.post(
        "/oauth/par",
        data={
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "scope": "openid name",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "state": "st-123",
            "nonce": "n-456",
        },
    )


def _assertion(client_id: str, key: ECKey, kid: str = "k1") -> str:
    now = int(utcnow().timestamp())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": "http://testserver",
        "jti": uuid.uuid4().hex,
        "exp": now + 60,
    }
    return jwt.encode({"alg": "ES256", "kid": kid}, claims, key, algorithms=["ES256"])


def test_an_assertion_naming_a_pending_organisation_makes_the_platform_fetch_nothing(
    session: Session, sandbox_client: TestClient, key_server: KeyServer
) -> None:
    # The probe: register with a jwks_uri on a loopback listener, then send an assertion
    # nobody could verify. Even where the loopback is allowed, nothing is fetched.
    url = key_server.put(_public_jwks(_ec_jwk("k1")))
    body = sandbox_client.post(API, json=_body(jwks=None, jwks_uri=url)).json()
    assert body["status"] == "pending"
    stranger = ECKey.generate_key("P-256")
    response = _par(sandbox_client, body["client_id"], _assertion(body["client_id"], stranger))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert key_server.total == 0


def test_an_approved_organisation_with_a_jwks_uri_authenticates_in_the_sandbox(
    session: Session, sandbox_client: TestClient, key_server: KeyServer
) -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "sig"})
    url = key_server.put(_public_jwks(key.as_dict(private=False)))
    approved = _approved(session, jwks=None, jwks_uri=url)
    session.commit()
    pushed = _par(sandbox_client, approved.client_id, _assertion(approved.client_id, key))
    assert pushed.status_code == 201, pushed.text
    assert key_server.count(url) == 1


def test_outside_the_sandbox_a_loopback_jwks_uri_fails_authentication_and_says_why(
    session: Session, client: TestClient, key_server: KeyServer
) -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "sig"})
    url = key_server.put(_public_jwks(key.as_dict(private=False)))
    approved = _approved(session, jwks=None, jwks_uri=url)
    session.commit()
    refused = _par(client, approved.client_id, _assertion(approved.client_id, key))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    # Why, in the request's language (Japanese by default), not the fetch's English.
    assert refused.json()["error_description"] == (
        "事業者の jwks_uri がプライベート、ループバックまたはリンクローカルのアドレスを"
        "指しています。公開鍵はグローバルなアドレスからのみ取得します。"
    )
    client.headers["Accept-Language"] = "en"
    in_english = _par(client, approved.client_id, _assertion(approved.client_id, key))
    assert "private, loopback or link-local" in in_english.json()["error_description"]
    assert key_server.total == 0


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


DOC = Path(__file__).resolve().parents[3] / "docs" / "api" / "organizations.md"


def _doc_row(field: str) -> str:
    return next(
        line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith(field)
    )


def test_the_documented_length_limits_are_the_openapi_ones(client: TestClient) -> None:
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    registration = schemas["OrganizationCreate"]["properties"]
    texts = re.search(r"at most (\d+) / (\d+) / (\d+) / (\d+) characters", _doc_row("| `name`"))
    assert texts is not None
    for name, limit in zip(
        ("name", "purpose", "contact", "retention"), texts.groups(), strict=True
    ):
        assert registration[name]["maxLength"] == int(limit), name
    uris = re.search(r"(\d+)–(\d+) absolute URIs of at most (\d+) characters", _doc_row("| `redir"))
    assert uris is not None
    low, high, length = (int(n) for n in uris.groups())
    redirect_uris = registration["redirect_uris"]
    assert (redirect_uris["minItems"], redirect_uris["maxItems"]) == (low, high)
    assert redirect_uris["items"]["maxLength"] == length
    jwks_uri = re.search(r"`jwks_uri` \(at most (\d+) characters\)", _doc_row("| `jwks`"))
    assert jwks_uri is not None
    assert {"type": "string", "maxLength": int(jwks_uri.group(1))} in registration["jwks_uri"][
        "anyOf"
    ]
    scopes = re.search(r"at most (\d+)\) with a reason of at most (\d+)", _doc_row("| `requ"))
    assert scopes is not None
    assert registration["requested_scopes"]["maxItems"] == int(scopes.group(1))
    reason = schemas["RequestedScopeWrite"]["properties"]["reason"]
    assert reason["maxLength"] == int(scopes.group(2))


@pytest.mark.parametrize(("field", "limit"), [("name", 200), ("purpose", 2000)])
def test_a_text_just_over_its_published_limit_is_an_rfc_7591_error(
    client: TestClient, field: str, limit: int
) -> None:
    response = client.post(API, json=_body(**{field: "あ" * (limit + 1)}))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert field in response.json()["error_description"]
