"""The authentication app as an OpenID Provider: the code flow with PKCE, the basic 4 info
from the signing certificate, private_key_jwt, and every refusal."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna.authapp.models import AuthAppCode
from myna.network.transparency.models import LogEntryRow
from myna.platform.db import utcnow
from tests.integration.authapp.conftest import (
    ISSUER,
    NAME,
    REDIRECT_URI,
    Business,
    card_signs,
    csrf,
    log_in,
    query_of,
    signing_request_id,
)
from tests.integration.portal.conftest import IssuedCard


def _consent_page(portal: TestClient, business: Business, scope: str) -> tuple[str, str]:
    """Open the authorization request in the logged-in browser: the consent page's path."""
    answer = portal.get(business.authorize_url(scope), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    path = answer.headers["location"]
    assert path.startswith("/authapp/consent/")
    page = portal.get(path)
    assert page.status_code == 200, page.text
    return path, page.text


def _code(portal: TestClient, business: Business, scope: str = "openid") -> str:
    path, html = _consent_page(portal, business, scope)
    answer = portal.post(
        path, data={"csrf_token": csrf(html), "decision": "consent"}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = query_of(location)
    assert query["state"] == "st-1"
    assert query["iss"] == ISSUER
    return query["code"]


def _keys(business: Business) -> KeySet:
    return KeySet.import_key_set(business.api.get("/authapp/jwks").json())


def _log_size(session: Session) -> int:
    return len(session.scalars(select(LogEntryRow.leaf_index)).all())


def test_discovery_names_the_endpoints_and_what_they_support(business: Business) -> None:
    meta = business.api.get("/authapp/.well-known/openid-configuration").json()
    assert meta["issuer"] == ISSUER
    assert meta["token_endpoint"] == ISSUER + "/token"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert meta["id_token_signing_alg_values_supported"] == ["ES256"]
    assert set(meta["scopes_supported"]) == {
        "openid",
        "name",
        "address",
        "birthdate",
        "gender",
        "sign",
    }
    keys = business.api.get("/authapp/jwks").json()["keys"]
    assert [k["alg"] for k in keys] == ["ES256"] and "d" not in keys[0]


def test_the_code_flow_with_pkce_gives_an_id_token_with_a_pairwise_subject(
    portal: TestClient, business: Business, taro: IssuedCard, session: Session
) -> None:
    log_in(portal, taro)
    code = _code(portal, business)
    answer = business.exchange(code)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid"
    claims = jwt.decode(body["id_token"], _keys(business), algorithms=["ES256"]).claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == business.client_id
    assert claims["nonce"] == "n-1"
    assert claims["acr"] == "urn:myna:authapp:acr:jpki-auth"
    assert claims["sub"] != str(taro.resident_id) and len(claims["sub"]) == 43
    assert "name" not in claims
    before = _log_size(session)
    info = business.api.get(
        "/authapp/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert info.status_code == 200, info.text
    assert info.json() == {"sub": claims["sub"]}
    session.expire_all()
    assert _log_size(session) == before  # nothing personal was provided: nothing logged


def test_the_basic_4_info_come_from_the_signing_certificate_and_are_logged(
    portal: TestClient, business: Business, taro: IssuedCard, session: Session
) -> None:
    log_in(portal, taro)
    path, html = _consent_page(portal, business, "openid name address birthdate gender")
    assert NAME in html
    assert 'value="consent"' not in html  # the card must sign first
    # Consenting before signing is refused on the page.
    early = portal.post(path, data={"csrf_token": csrf(html), "decision": "consent"})
    assert early.status_code == 409
    started = portal.post(path + "/sign", data={"csrf_token": csrf(html)}, follow_redirects=False)
    assert started.status_code == 303
    assert started.headers["location"] == path + "/signing"
    waiting = portal.get(path + "/signing")
    assert waiting.status_code == 200
    request_id = signing_request_id(waiting.text)
    fetched = portal.get(f"/api/signing-requests/{request_id}").json()
    assert fetched["municipality_name"] == NAME
    signed = card_signs(portal, taro, request_id)
    assert signed.status_code == 200, signed.text
    page = portal.get(path)
    assert "山田 太郎" in page.text and 'value="consent"' in page.text
    answer = portal.post(
        path, data={"csrf_token": csrf(page.text), "decision": "consent"}, follow_redirects=False
    )
    code = query_of(answer.headers["location"])["code"]
    body = business.exchange(code).json()
    claims = jwt.decode(body["id_token"], _keys(business), algorithms=["ES256"]).claims
    assert claims["acr"] == "urn:myna:authapp:acr:jpki-sign"
    before = _log_size(session)
    info = business.api.get(
        "/authapp/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert info["sub"] == claims["sub"]
    assert info["name"] == "山田 太郎"
    assert info["address"]["formatted"].startswith("東京都")
    assert info["birthdate"] == "1985-04-12"
    assert info["gender"] == "male"
    session.expire_all()
    entries = session.scalars(select(LogEntryRow).order_by(LogEntryRow.leaf_index)).all()[before:]
    assert [(e.procedure, e.item) for e in entries] == [("partner-disclosure", "basic-info")]
    assert NAME in (entries[0].purpose or "")
    assert entries[0].subject == str(taro.resident_id)


def test_a_revoked_signing_certificate_is_refused_before_any_signing_request(
    portal: TestClient, business: Business, taro: IssuedCard, session: Session
) -> None:
    from myna import jpki  # noqa: PLC0415

    jpki.revoke_for_card(
        session=session, card_id=taro.card_id, reason=jpki.RevocationReason.BASIC_INFO_CHANGE
    )
    session.commit()
    log_in(portal, taro)
    path, html = _consent_page(portal, business, "openid name")
    refused = portal.post(path + "/sign", data={"csrf_token": csrf(html)})
    assert refused.status_code == 409
    assert "失効" in refused.text
    assert portal.get(path + "/signing", follow_redirects=False).headers["location"] == path


def _assert_page_error(answer: Any) -> None:
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_an_unknown_client_or_unregistered_redirect_uri_is_shown_never_redirected(
    portal: TestClient, business: Business, taro: IssuedCard
) -> None:
    log_in(portal, taro)
    unknown = portal.get(business.authorize_url(client_id="aa-nobody"), follow_redirects=False)
    _assert_page_error(unknown)
    assert "登録されていません" in unknown.text
    elsewhere = portal.get(
        business.authorize_url(redirect_uri="https://evil.example/cb"), follow_redirects=False
    )
    _assert_page_error(elsewhere)
    assert "evil.example" not in elsewhere.headers.get("location", "")


def _redirected_error(portal: TestClient, business: Business, **overrides: str) -> dict[str, str]:
    answer = portal.get(business.authorize_url(**overrides), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(REDIRECT_URI + "?")
    return query_of(answer.headers["location"])


def test_pkce_is_required_and_plain_is_refused(portal: TestClient, business: Business) -> None:
    missing = _redirected_error(portal, business, code_challenge="", code_challenge_method="")
    assert missing["error"] == "invalid_request"
    assert "PKCE" in missing["error_description"]
    assert missing["state"] == "st-1"
    plain = _redirected_error(
        portal, business, code_challenge=business.verifier[:43], code_challenge_method="plain"
    )
    assert plain["error"] == "invalid_request"


def test_an_unsupported_scope_or_response_type_goes_back_as_an_error(
    portal: TestClient, business: Business
) -> None:
    unknown = _redirected_error(portal, business, scope="openid myinfo.health")
    assert unknown["error"] == "invalid_scope"
    sign = _redirected_error(portal, business, scope="openid sign")
    assert sign["error"] == "invalid_scope"
    no_openid = _redirected_error(portal, business, scope="name")
    assert no_openid["error"] == "invalid_scope"
    implicit = _redirected_error(portal, business, response_type="token")
    assert implicit["error"] == "unsupported_response_type"
    no_nonce = _redirected_error(portal, business, nonce="")
    assert no_nonce["error"] == "invalid_request"


def test_the_error_description_follows_the_language(portal: TestClient, business: Business) -> None:
    japanese = _redirected_error(portal, business, scope="openid foo")
    portal.get("/language?lang=en&next=/", follow_redirects=False)
    english = _redirected_error(portal, business, scope="openid foo")
    assert japanese["error_description"] != english["error_description"]
    assert english["error_description"].startswith("The scope is not allowed")


def test_the_resident_can_refuse(portal: TestClient, business: Business, taro: IssuedCard) -> None:
    log_in(portal, taro)
    path, html = _consent_page(portal, business, "openid")
    answer = portal.post(
        path, data={"csrf_token": csrf(html), "decision": "refuse"}, follow_redirects=False
    )
    query = query_of(answer.headers["location"])
    assert query["error"] == "access_denied"
    assert query["state"] == "st-1"
    assert portal.get(path).status_code == 404  # the request has ended


def test_a_code_is_used_once_and_its_replay_revokes_the_token(
    portal: TestClient, business: Business, taro: IssuedCard
) -> None:
    log_in(portal, taro)
    code = _code(portal, business)
    first = business.exchange(code).json()
    again = business.exchange(code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    info = business.api.get(
        "/authapp/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"}
    )
    assert info.status_code == 401
    assert info.headers["www-authenticate"].startswith("Bearer")


def test_an_expired_code_or_a_wrong_verifier_is_refused(
    portal: TestClient, business: Business, taro: IssuedCard, session: Session
) -> None:
    log_in(portal, taro)
    code = _code(portal, business)
    wrong = business.exchange(code, code_verifier="x" * 43)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert "PKCE" in wrong.json()["error_description"]
    code = _code(portal, business)
    for row in session.scalars(select(AuthAppCode)).all():
        row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    expired = business.exchange(code)
    assert expired.json()["error"] == "invalid_grant"
    assert "期限" in expired.json()["error_description"]


def test_an_invalid_client_assertion_is_refused(
    portal: TestClient, business: Business, taro: IssuedCard
) -> None:
    log_in(portal, taro)
    code = _code(portal, business)
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": business.verifier,
    }
    expired = business.token(business.assertion(exp=int(time.time()) - 600), **params)
    assert expired.status_code == 401
    assert expired.json()["error"] == "invalid_client"
    audience = business.token(business.assertion(aud="http://testserver/oauth/token"), **params)
    assert audience.status_code == 401
    assertion = business.assertion()
    assert business.token(assertion, **params).status_code == 200
    replayed = business.token(assertion, grant_type="client_credentials", scope="sign")
    assert replayed.status_code == 401
    assert replayed.json()["error"] == "invalid_client"
    assert "jti" in replayed.json()["error_description"]


def test_another_resident_cannot_take_over_a_login_request(
    portal: TestClient,
    business: Business,
    taro: IssuedCard,
    hanako: IssuedCard,
    container: Any,
) -> None:
    log_in(portal, taro)
    path, _html = _consent_page(portal, business, "openid")
    from myna.app import create_app  # noqa: PLC0415

    with TestClient(create_app(container), base_url="http://testserver") as other:
        log_in(other, hanako)
        assert other.get(path).status_code == 404
