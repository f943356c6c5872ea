"""The municipality filing API: private_key_jwt tokens, and reading and updating filings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from myna import notices, registry
from myna.app import create_app
from myna.applications import service as applications
from myna.applications import submission
from myna.applications.domain import ApplicationStatus
from myna.applications.service import ApplicationRead
from myna.bootstrap import Container
from myna.cli import office as office_cli
from myna.office import filings
from myna.office.filing_models import MunicipalityApiClient, MunicipalityApiToken
from myna.platform.db import make_engine, utcnow
from myna.platform.ratelimit import RateLimiter
from myna.platform.settings import Settings, get_settings
from tests.integration.applications.filing import Signer, file_application, signer_for

CHIYODA = "131016"
AUDIENCE = "http://testserver/api/municipality/token"
TOKEN_URL = "/api/municipality/token"
API = "/api/municipality/applications"
PDF = b"%PDF-1.7\n" + b"1" * 64


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def registered(session: Session) -> tuple[filings.ApiClientRead, ECKey]:
    registry.ensure_municipalities(session=session)
    created, private = filings.generate_client(
        session=session, municipality_code=CHIYODA, name="千代田区 基幹系"
    )
    session.commit()
    return created, ECKey.import_key(private)


@pytest.fixture
def taro(session: Session, settings: Settings) -> Signer:
    return signer_for(session, settings, "taro")


@pytest.fixture
def filed(session: Session, settings: Settings, taro: Signer) -> ApplicationRead:
    submission.add_attachment(
        session=session,
        resident_id=taro.resident_id,
        municipality_code=taro.municipality_code,
        code="disaster-certificate",
        name="写真.pdf",
        media_type="application/pdf",
        data=PDF,
    )
    application = file_application(session, settings, taro)
    session.commit()
    return application


def _claims(client_id: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": AUDIENCE,
        "exp": now + 120,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    claims.update(changes)
    return claims


def _assertion(key: ECKey, claims: dict[str, Any]) -> str:
    return jwt.encode({"alg": "ES256", "kid": claims["iss"]}, claims, key)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _token_response(client: TestClient, assertion: str, **form: str) -> Any:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
        **form,
    }
    return client.post(TOKEN_URL, data=data)


def _token(client: TestClient, registered: tuple[filings.ApiClientRead, ECKey]) -> str:
    created, key = registered
    response = _token_response(client, _assertion(key, _claims(created.client_id)))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the token endpoint ----------------------------------------------------------------


def test_a_good_client_assertion_gets_a_ten_minute_bearer_token_stored_only_as_a_digest(
    session: Session, client: TestClient, registered: tuple[filings.ApiClientRead, ECKey]
) -> None:
    created, key = registered
    response = _token_response(client, _assertion(key, _claims(created.client_id)))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == "applications"
    assert response.headers["cache-control"] == "no-store"
    session.expire_all()
    rows = session.scalars(select(MunicipalityApiToken)).all()
    assert [r.token_digest for r in rows] == [
        hashlib.sha256(body["access_token"].encode()).hexdigest()
    ]
    assert rows[0].client_id == created.client_id
    assert timedelta(minutes=9) < rows[0].expires_at - utcnow() <= timedelta(minutes=10)


def _none_assertion(client_id: str) -> str:
    header = _b64url(json.dumps({"alg": "none"}).encode())
    payload = _b64url(json.dumps(_claims(client_id)).encode())
    return f"{header}.{payload}."


def _hs256_with_the_public_key(client_id: str, public_jwk: dict[str, Any]) -> str:
    """The classic confusion attack: HMAC keyed with the (public) verification key."""
    header = _b64url(json.dumps({"alg": "HS256"}).encode())
    payload = _b64url(json.dumps(_claims(client_id)).encode())
    secret = json.dumps(public_jwk, sort_keys=True).encode()
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("alg-none", "signed with ES256"),
        ("hs256-public-key", "signed with ES256"),
        ("wrong-aud", "aud must be the token endpoint"),
        ("expired", "has expired"),
        ("too-long-lived", "at most 5 minutes ahead"),
        ("sub-not-client", "iss and sub"),
        ("no-jti", "jti"),
        ("other-key", "does not match the client's registered key"),
    ],
)
def test_a_bad_client_assertion_is_refused_as_invalid_client(
    session: Session,
    client: TestClient,
    registered: tuple[filings.ApiClientRead, ECKey],
    case: str,
    reason: str,
) -> None:
    created, key = registered
    cid = created.client_id
    now = int(time.time())
    assertion = {
        "alg-none": lambda: _none_assertion(cid),
        "hs256-public-key": lambda: _hs256_with_the_public_key(cid, created.public_jwk),
        "wrong-aud": lambda: _assertion(key, _claims(cid, aud="http://testserver/other")),
        "expired": lambda: _assertion(key, _claims(cid, exp=now - 120)),
        "too-long-lived": lambda: _assertion(key, _claims(cid, exp=now + 3600)),
        "sub-not-client": lambda: _assertion(key, _claims(cid, sub="someone-else")),
        "no-jti": lambda: _assertion(key, _claims(cid, jti=None)),
        "other-key": lambda: _assertion(ECKey.generate_key("P-256"), _claims(cid)),
    }[case]()
    client.headers["Accept-Language"] = "en"
    response = _token_response(client, assertion)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert reason in response.json()["error_description"]
    session.expire_all()
    assert session.scalars(select(MunicipalityApiToken)).all() == []


def test_a_client_assertion_is_accepted_once(
    client: TestClient, registered: tuple[filings.ApiClientRead, ECKey]
) -> None:
    created, key = registered
    assertion = _assertion(key, _claims(created.client_id))
    assert _token_response(client, assertion).status_code == 200
    replayed = _token_response(client, assertion)
    assert replayed.status_code == 401
    assert replayed.json()["error"] == "invalid_client"
    # A new assertion (new jti) works again.
    assert _token_response(client, _assertion(key, _claims(created.client_id))).status_code == 200


def test_an_unknown_client_is_refused(client: TestClient) -> None:
    stranger = ECKey.generate_key("P-256")
    response = _token_response(client, _assertion(stranger, _claims("muni-131016-unknown")))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_disabled_client_gets_no_token_and_its_tokens_stop_working(
    session: Session, client: TestClient, registered: tuple[filings.ApiClientRead, ECKey]
) -> None:
    created, key = registered
    token = _token(client, registered)
    filings.set_client_enabled(session=session, client_id=created.client_id, enabled=False)
    session.commit()
    response = _token_response(client, _assertion(key, _claims(created.client_id)))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert client.get(API, headers=_bearer(token)).status_code == 401


def test_other_grant_types_and_incomplete_requests_are_refused(
    client: TestClient, registered: tuple[filings.ApiClientRead, ECKey]
) -> None:
    created, key = registered
    assertion = _assertion(key, _claims(created.client_id))
    wrong_grant = _token_response(client, assertion, grant_type="password")
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    missing = client.post(TOKEN_URL, data={"grant_type": "client_credentials"})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    wrong_type = _token_response(client, assertion, client_assertion_type="urn:other")
    assert wrong_type.status_code == 400
    assert wrong_type.json()["error"] == "invalid_request"


# --- bearer tokens ---------------------------------------------------------------------


def test_no_unknown_or_expired_token_gets_401_with_a_bearer_challenge(
    session: Session, client: TestClient, registered: tuple[filings.ApiClientRead, ECKey]
) -> None:
    none = client.get(API)
    assert none.status_code == 401
    assert none.headers["www-authenticate"].startswith("Bearer")
    unknown = client.get(API, headers=_bearer("not-a-token"))
    assert unknown.status_code == 401
    assert 'error="invalid_token"' in unknown.headers["www-authenticate"]
    token = _token(client, registered)
    assert client.get(API, headers=_bearer(token)).status_code == 200
    session.execute(update(MunicipalityApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    expired = client.get(API, headers=_bearer(token))
    assert expired.status_code == 401
    assert expired.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]


# --- applications ----------------------------------------------------------------------


def test_a_client_lists_fetches_and_downloads_its_municipalitys_filings(
    session: Session,
    client: TestClient,
    registered: tuple[filings.ApiClientRead, ECKey],
    filed: ApplicationRead,
) -> None:
    applications.add_comment(
        session=session,
        receipt_number=filed.receipt_number,
        municipality_code=CHIYODA,
        actor="staff:1",
        comment="内部メモ",
        visible_to_resident=False,
    )
    session.commit()
    headers = _bearer(_token(client, registered))
    listing = client.get(API, headers=headers, params={"status": "received", "page_size": 5})
    assert listing.status_code == 200
    page = listing.json()
    assert page["total"] == 1
    assert page["page_size"] == 5
    assert page["items"][0]["receipt_number"] == filed.receipt_number
    assert page["items"][0]["applicant_name"] == filed.signer_name
    none_completed = client.get(API, headers=headers, params={"status": "completed"}).json()
    assert none_completed["total"] == 0
    later = (filed.updated_at + timedelta(seconds=1)).isoformat()
    assert client.get(API, headers=headers, params={"since": later}).json()["total"] == 0
    earlier = (filed.updated_at - timedelta(seconds=1)).isoformat()
    assert client.get(API, headers=headers, params={"since": earlier}).json()["total"] == 1
    naive = client.get(API, headers=headers, params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["error"] == "invalid_since"
    detail = client.get(f"{API}/{filed.receipt_number}", headers=headers)
    assert detail.status_code == 200
    body = detail.json()
    content, signature = applications.signed_parts(session=session, application_id=filed.id)
    assert base64.b64decode(body["content"]) == content
    assert base64.b64decode(body["signature"]) == signature
    assert body["verification"]["status"] == "valid"
    assert body["verification"]["signer_name"] == filed.signer_name
    assert body["data"]["disaster_type"] == "storm"
    assert [(e["kind"], e["visible_to_resident"]) for e in body["history"]] == [
        ("status", True),
        ("comment", False),
    ]
    attachment = body["attachments"][0]
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest()
    download = client.get(attachment["url"], headers=headers)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"


def test_a_client_moves_a_filing_along_the_flow_and_the_resident_is_told(
    session: Session,
    client: TestClient,
    registered: tuple[filings.ApiClientRead, ECKey],
    filed: ApplicationRead,
    taro: Signer,
) -> None:
    created, _key = registered
    headers = _bearer(_token(client, registered))
    url = f"{API}/{filed.receipt_number}/status"
    too_early = client.post(url, headers=headers, json={"status": "completed"})
    assert too_early.status_code == 409
    assert too_early.json()["error"] == "invalid_transition"
    no_reason = client.post(url, headers=headers, json={"status": "rejected", "comment": " "})
    assert no_reason.status_code == 422
    assert no_reason.json()["error"] == "reason_required"
    moved = client.post(url, headers=headers, json={"status": "under-review"})
    assert moved.status_code == 200
    assert moved.json()["status"] == "under-review"
    corrected = client.post(
        url,
        headers=headers,
        json={"status": "correction-requested", "comment": "住所の番地を確認してください。"},
    )
    assert corrected.status_code == 200
    session.expire_all()
    events = applications.history(session=session, application_id=filed.id)
    assert [e.status for e in events] == [
        ApplicationStatus.RECEIVED,
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.CORRECTION_REQUESTED,
    ]
    assert events[-1].actor == f"api:{created.client_id}"
    inbox = notices.inbox(session=session, resident_id=taro.resident_id)
    bodies = [
        notices.get_notice(
            session=session, resident_id=taro.resident_id, notice_id=item.id
        ).notice.body
        for item in inbox.items
    ]
    assert any("住所の番地を確認してください。" in b for b in bodies)


def test_another_municipalitys_filing_is_not_found(
    session: Session,
    settings: Settings,
    client: TestClient,
    registered: tuple[filings.ApiClientRead, ECKey],
) -> None:
    misaki = signer_for(session, settings, "misaki")
    elsewhere = file_application(session, settings, misaki)
    session.commit()
    headers = _bearer(_token(client, registered))
    assert client.get(API, headers=headers).json()["total"] == 0
    assert client.get(f"{API}/{elsewhere.receipt_number}", headers=headers).status_code == 404
    moved = client.post(
        f"{API}/{elsewhere.receipt_number}/status",
        headers=headers,
        json={"status": "under-review"},
    )
    assert moved.status_code == 404
    session.expire_all()
    assert (
        applications.get_application(
            session=session, receipt_number=elsewhere.receipt_number
        ).status
        is ApplicationStatus.RECEIVED
    )


def test_the_api_is_described_in_openapi(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    for path in (
        TOKEN_URL,
        API,
        API + "/{receipt_number}",
        API + "/{receipt_number}/status",
        API + "/{receipt_number}/attachments/{attachment_id}",
    ):
        assert path in schema["paths"], path
    detail = schema["paths"][API + "/{receipt_number}"]["get"]
    assert detail["tags"] == ["municipalities"]
    assert "ApplicationDetailRead" in json.dumps(detail)


def test_a_client_key_must_be_a_public_p256_jwk(session: Session) -> None:
    registry.ensure_municipalities(session=session)
    private = ECKey.generate_key("P-256", private=True)
    with pytest.raises(filings.InvalidClientKeyError):
        filings.register_client(
            session=session,
            municipality_code=CHIYODA,
            name="x",
            public_jwk=private.as_dict(private=True),
        )
    with pytest.raises(filings.InvalidClientKeyError):
        filings.register_client(
            session=session,
            municipality_code=CHIYODA,
            name="x",
            public_jwk={"kty": "oct", "k": "c2VjcmV0"},
        )


def test_the_cli_generates_a_key_pair_writes_the_private_half_0600_and_registers_the_client(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'myna.db'}"
    key_file = tmp_path / "client.jwk"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MYNA_ENVIRONMENT", "development")
        env.setenv("MYNA_DATABASE_URL", database_url)
        env.setenv("MYNA_DATA_DIR", str(tmp_path / "var"))
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(
                office_cli.app,
                [
                    "add-api-client",
                    "--municipality",
                    CHIYODA,
                    "--name",
                    "千代田区 デモ",
                    "--jwk-file",
                    str(key_file),
                    "--generate",
                ],
            )
            again = CliRunner().invoke(
                office_cli.app,
                [
                    "add-api-client",
                    "--municipality",
                    CHIYODA,
                    "--name",
                    "x",
                    "--jwk-file",
                    str(key_file),
                    "--generate",
                ],
            )
        finally:
            get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert again.exit_code == 1  # an existing key file is never overwritten
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    private = json.loads(key_file.read_text(encoding="utf-8"))
    assert private["d"]
    client_id = private["kid"]
    assert client_id in result.stdout
    engine = make_engine(database_url)
    with Session(engine) as db:
        row = db.get(MunicipalityApiClient, client_id)
        assert row is not None
        assert row.municipality_code == CHIYODA
        assert "d" not in row.public_jwk
        assert row.public_jwk["x"] == private["x"]
    engine.dispose()


def test_a_flood_of_token_requests_gets_a_clear_429(
    client: TestClient, container: Container
) -> None:
    tight = container.settings.model_copy(update={"filing_token_rate_limit": "3/minute"})
    container.rate_limiter = RateLimiter.from_settings(tight)
    answers = [
        client.post(TOKEN_URL, data={"grant_type": "client_credentials"}).status_code
        for _ in range(4)
    ]
    assert all(answer in (400, 401) for answer in answers[:3])  # refused, but answered
    refused = client.post(TOKEN_URL, data={"grant_type": "client_credentials"})
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert refused.headers["retry-after"] == "60"
    assert answers[3] == 429


@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01T00:00:00+09:00",  # a day before year 1 in UTC
        "9999-12-31T23:59:59-14:00",  # a day after 9999 in UTC
        "1899-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
    ],
)
def test_a_since_outside_the_calendar_we_keep_is_refused_with_the_range(
    client: TestClient, registered: tuple[filings.ApiClientRead, ECKey], since: str
) -> None:
    client.headers["Accept-Language"] = "en"
    headers = _bearer(_token(client, registered))
    response = client.get(API, headers=headers, params={"since": since})
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_since",
        "message": "since must be a time from 1900-01-01 to 2100-12-31.",
    }


@pytest.mark.parametrize("attachment_id", [0, 2**31, 2**63, 10**30])
def test_an_attachment_id_no_table_can_hold_is_refused(
    client: TestClient,
    registered: tuple[filings.ApiClientRead, ECKey],
    filed: ApplicationRead,
    attachment_id: int,
) -> None:
    headers = _bearer(_token(client, registered))
    url = f"{API}/{filed.receipt_number}/attachments/{attachment_id}"
    response = client.get(url, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_the_largest_attachment_id_is_simply_not_found(
    client: TestClient,
    registered: tuple[filings.ApiClientRead, ECKey],
    filed: ApplicationRead,
) -> None:
    headers = _bearer(_token(client, registered))
    url = f"{API}/{filed.receipt_number}/attachments/{2**31 - 1}"
    assert client.get(url, headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", 10**20),
        ("exp", -(10**20)),
        ("exp", 1e300),
        ("exp", 253402300800),  # 10000-01-01T00:00:00Z
        ("nbf", 10**20),
    ],
)
def test_a_client_assertion_time_beyond_any_calendar_is_refused_as_invalid_client(
    client: TestClient,
    registered: tuple[filings.ApiClientRead, ECKey],
    claim: str,
    value: float,
) -> None:
    created, key = registered
    client.headers["Accept-Language"] = "en"
    assertion = _assertion(key, _claims(created.client_id, **{claim: value}))
    response = _token_response(client, assertion)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert (
        f"{claim} must be a time from 1900-01-01 to 2100-12-31"
        in (response.json()["error_description"])
    )


@pytest.mark.parametrize(
    ("claim", "value", "reason"),
    [
        ("exp", 10**20, "exp must be a time from"),
        ("iat", -(10**20), "iat must be a time from"),
        ("iat", 10**20, "iat must be a time from"),
        ("exp", float("nan"), "exp must be a time from"),
        ("iat", float("-inf"), "iat must be a time from"),
        ("exp", "1900000000", "exp must be a number of seconds"),
        ("iat", "now", "iat must be a number of seconds"),
        ("exp", True, "exp must be a number of seconds"),
        ("nbf", False, "nbf must be a number of seconds"),
    ],
)
def test_a_client_assertion_time_that_is_no_time_is_refused_never_a_500(
    client: TestClient,
    registered: tuple[filings.ApiClientRead, ECKey],
    claim: str,
    value: Any,
    reason: str,
) -> None:
    created, key = registered
    client.headers["Accept-Language"] = "en"
    response = _token_response(
        client, _assertion(key, _claims(created.client_id, **{claim: value}))
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert reason in response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"


def test_a_client_assertion_may_have_a_fractional_exp(
    client: TestClient, registered: tuple[filings.ApiClientRead, ECKey]
) -> None:
    created, key = registered
    claims = _claims(created.client_id, exp=time.time() + 60.5)
    assert _token_response(client, _assertion(key, claims)).status_code == 200


def test_a_client_assertion_from_the_future_is_refused(
    client: TestClient, registered: tuple[filings.ApiClientRead, ECKey]
) -> None:
    created, key = registered
    client.headers["Accept-Language"] = "en"
    claims = _claims(created.client_id, iat=int(time.time()) + 3600)
    response = _token_response(client, _assertion(key, claims))
    assert response.status_code == 401
    assert "issued in the future" in response.json()["error_description"]


def test_a_client_assertion_whose_aud_is_a_list_is_refused(
    client: TestClient, registered: tuple[filings.ApiClientRead, ECKey]
) -> None:
    # One string: an array could carry another server's audience along (audience injection).
    created, key = registered
    response = _token_response(client, _assertion(key, _claims(created.client_id, aud=[AUDIENCE])))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
