"""The resource APIs: consented items through the hub, signed item by item, encrypted on request.

Tokens are minted here as the authorization server stores them (a digest bound to a DPoP
key's thumbprint and a consent); every request carries a real DPoP proof.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from joserfc import jwe, jwt
from joserfc.jwk import ECKey, KeySet
from jwcrypto import jwe as cjwe
from jwcrypto import jwk as cjwk
from jwcrypto import jws as cjws
from jwcrypto import jwt as cjwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import jpki, network, notices, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.network.transparency.models import LogEntryRow
from myna.partners import authorization, consents, organizations
from myna.partners.models import AccessToken, Consent, ConsentUse, Organization
from myna.platform.db import utcnow
from myna.platform.encoding import b64url_sha256
from myna.platform.settings import Settings
from tests.integration.partners.conftest import Answer, KeyServer

PORTAL = "http://testserver"
MYINFO = "/api/partners/v1/myinfo"
NOTICES = "/api/partners/v1/notices"
RECEIPT = "/api/partners/v1/consent-receipt"
CLIENT = "client-minato-bank"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url=PORTAL) as c:
        yield c


def _organization(session: Session, *, enc_key: ECKey | None = None) -> None:
    keys: list[dict[str, Any]] = []
    if enc_key is not None:
        keys.append(enc_key.as_dict(private=False, kid="enc-1", use="enc"))
    session.add(
        Organization(
            client_id=CLIENT,
            name="みなと銀行",
            purpose="住宅ローンの審査",
            contact="api@minato-bank.example",
            retention="審査終了後1年",
            status="approved",
            redirect_uris=["https://minato-bank.example/callback"],
            jwks={"keys": keys},
            jwks_uri=None,
            requested_scopes=[{"scope": "myinfo.local-tax", "reason": "収入の確認"}],
            approved_scopes=["openid", "name", "myinfo.local-tax", "notices"],
            created_at=utcnow(),
        )
    )
    session.flush()


def _consent(session: Session, resident_id: int, scopes: list[str]) -> str:
    items = [item.as_json() for scope in scopes for item in consents.items_of_scope(scope)]
    consent_id = secrets.token_urlsafe(16)
    session.add(
        Consent(
            id=consent_id,
            resident_id=resident_id,
            client_id=CLIENT,
            scopes=scopes,
            items=items,
            purpose="住宅ローンの審査",
            retention="審査終了後1年",
            receipt="-",
            granted_at=utcnow(),
        )
    )
    session.flush()
    return consent_id


def _token(session: Session, resident_id: int, consent_id: str, scopes: str, key: ECKey) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            digest=hashlib.sha256(token.encode()).hexdigest(),
            client_id=CLIENT,
            resident_id=resident_id,
            consent_id=consent_id,
            scope=scopes,
            jkt=key.thumbprint(),
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(minutes=5),
        )
    )
    session.commit()
    return token


def _proof(key: ECKey, url: str, token: str, method: str = "GET") -> str:
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    claims = {
        "jti": secrets.token_urlsafe(12),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
        "ath": b64url_sha256(token),
    }
    return jwt.encode(header, claims, key, algorithms=["ES256"])


def _call(client: TestClient, path: str, token: str, key: ECKey) -> Any:
    return client.get(
        path,
        headers={"Authorization": f"DPoP {token}", "DPoP": _proof(key, PORTAL + path, token)},
    )


def _platform_keys(client: TestClient) -> KeySet:
    return KeySet.import_key_set(client.get("/oauth/jwks").json())


@pytest.fixture
def taro(session: Session, settings: Settings) -> int:
    registry.ensure_municipalities(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    resident = registry.ensure_personas(session=session)["taro"]
    network.seed_agency_data(session=session, seed=1)
    session.commit()
    return resident.id


def test_the_consented_items_come_signed_one_by_one_and_the_use_is_logged(
    client: TestClient, session: Session, taro: int
) -> None:
    _organization(session)
    consent_id = _consent(session, taro, ["openid", "name", "myinfo.local-tax"])
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, consent_id, "openid name myinfo.local-tax", key)
    before = len(session.scalars(select(LogEntryRow.leaf_index)).all())
    answer = _call(client, MYINFO, token, key)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/jwt")
    keys = _platform_keys(client)
    result = jwt.decode(answer.text, keys, algorithms=["ES256"])
    assert result.header["typ"] == "myinfo+jwt"
    claims = result.claims
    assert claims["aud"] == CLIENT
    assert claims["sub"] != str(taro)
    items = {entry["item"]: entry for entry in claims["items"]}
    assert set(items) >= {"name", "resident-tax"}
    assert "health-insurance" not in items  # not consented
    tax = items["resident-tax"]
    assert tax["source"]["agency"].startswith("muni-")
    assert tax["updated_at"]
    # Each item verifies on its own, with its source and date.
    alone = jwt.decode(tax["jwt"], keys, algorithms=["ES256"]).claims
    assert alone["item"] == "resident-tax"
    assert alone["data"] == tax["data"]
    assert alone["sub"] == claims["sub"]
    session.expire_all()
    entries = session.scalars(select(LogEntryRow).order_by(LogEntryRow.leaf_index)).all()[before:]
    assert entries
    assert {e.procedure for e in entries} == {"partner-disclosure"}
    assert all("みなと銀行" in (e.purpose or "") for e in entries)
    # The basic 4 info too came through the hub, from J-LIS's 本人確認情報, logged.
    assert items["name"]["source"]["agency"] == "jlis"
    assert items["name"]["data"] == {"name": "山田 太郎", "name_kana": "ヤマダ タロウ"}
    assert ("portal", "jlis", "basic-info", "success") in {
        (e.requester, e.provider, e.item, e.outcome) for e in entries
    }
    assert {e.subject for e in entries} == {str(taro)}
    uses = session.scalars(select(ConsentUse).where(ConsentUse.consent_id == consent_id)).all()
    assert [(u.api, u.succeeded) for u in uses] == [("myinfo", True)]


def test_the_answer_is_encrypted_to_an_organisation_that_registered_a_key(
    client: TestClient, session: Session, taro: int
) -> None:
    enc = ECKey.generate_key("P-256")
    _organization(session, enc_key=enc)
    consent_id = _consent(session, taro, ["openid", "name"])
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, consent_id, "openid name", key)
    answer = _call(client, MYINFO, token, key)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/jose")
    opened = jwe.decrypt_compact(answer.text, enc)
    assert opened.protected["cty"] == "JWT"
    assert opened.plaintext is not None
    inner = jwt.decode(opened.plaintext, _platform_keys(client), algorithms=["ES256"])
    assert inner.claims["items"][0]["item"] == "name"


def test_a_token_without_its_dpop_proof_or_as_bearer_is_refused(
    client: TestClient, session: Session, taro: int
) -> None:
    _organization(session)
    consent_id = _consent(session, taro, ["openid", "name"])
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, consent_id, "openid name", key)
    bearer = client.get(MYINFO, headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 401
    assert bearer.headers["www-authenticate"].startswith("DPoP")
    no_proof = client.get(MYINFO, headers={"Authorization": f"DPoP {token}"})
    assert no_proof.status_code == 401
    assert no_proof.json()["error"] == "invalid_dpop_proof"
    other_key = ECKey.generate_key("P-256")
    stolen = _call(client, MYINFO, token, other_key)
    assert stolen.status_code == 401
    wrong_url = client.get(
        MYINFO,
        headers={
            "Authorization": f"DPoP {token}",
            "DPoP": _proof(key, PORTAL + NOTICES, token),
        },
    )
    assert wrong_url.status_code == 401


def test_a_replayed_proof_is_refused(client: TestClient, session: Session, taro: int) -> None:
    _organization(session)
    consent_id = _consent(session, taro, ["openid", "name"])
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, consent_id, "openid name", key)
    proof = _proof(key, PORTAL + MYINFO, token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    assert client.get(MYINFO, headers=headers).status_code == 200
    again = client.get(MYINFO, headers=headers)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_dpop_proof"


def test_a_revoked_consent_kills_its_tokens_at_once(
    client: TestClient, session: Session, taro: int
) -> None:
    _organization(session)
    consent_id = _consent(session, taro, ["openid", "name"])
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, consent_id, "openid name", key)
    assert _call(client, MYINFO, token, key).status_code == 200
    # As the resident withdraws it: the consent and its tokens revoked together.
    consents.revoke_consent(session=session, resident_id=taro, consent_id=consent_id)
    session.commit()
    refused = _call(client, MYINFO, token, key)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert refused.json()["error_description"] == (
        "アクセストークンが正しくありません: 利用者が同意を撤回しました。"
    )
    english = client.get(
        MYINFO,
        headers={
            "Authorization": f"DPoP {token}",
            "DPoP": _proof(key, PORTAL + MYINFO, token),
            "Accept-Language": "en",
        },
    )
    assert english.json()["error_description"] == (
        "The access token is not valid: the resident withdrew the consent."
    )


def test_notices_need_their_own_consent(client: TestClient, session: Session, taro: int) -> None:
    _organization(session)
    without = _consent(session, taro, ["openid", "name"])
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, without, "openid name", key)
    refused = _call(client, NOTICES, token, key)
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"
    uses = session.scalars(select(ConsentUse).where(ConsentUse.consent_id == without)).all()
    assert [(u.api, u.succeeded) for u in uses] == [("notices", False)]
    with_notices = _consent(session, taro, ["openid", "notices"])
    token = _token(session, taro, with_notices, "openid notices", key)
    answer = _call(client, NOTICES, token, key)
    assert answer.status_code == 200
    claims = jwt.decode(answer.text, _platform_keys(client), algorithms=["ES256"]).claims
    assert isinstance(claims["notices"], list)


def test_each_notice_comes_signed_on_its_own_and_the_answer_has_a_jti(
    client: TestClient, session: Session, taro: int
) -> None:
    _organization(session)
    notices.seed_demo_notices(session=session)
    session.commit()
    consent_id = _consent(session, taro, ["openid", "notices"])
    key = ECKey.generate_key("P-256")
    keys = _platform_keys(client)
    jtis = set()
    for _ in range(2):
        token = _token(session, taro, consent_id, "openid notices", key)
        answer = _call(client, NOTICES, token, key)
        assert answer.status_code == 200, answer.text
        result = jwt.decode(answer.text, keys, algorithms=["ES256"])
        assert result.header["typ"] == "notices+jwt"
        jtis.add(result.claims["jti"])
    assert len(jtis) == 2  # one per answer
    listed = result.claims["notices"]
    assert listed
    for notice in listed:
        alone = jwt.decode(notice["jwt"], keys, algorithms=["ES256"])
        assert alone.header["typ"] == "notice-item+jwt"
        assert {k: v for k, v in notice.items() if k != "jwt"} == {
            k: alone.claims[k]
            for k in ("id", "title", "sender", "category", "deadline", "published_at")
        }
        assert alone.claims["aud"] == CLIENT
        assert alone.claims["sub"] == result.claims["sub"]
        assert alone.claims["consent_id"] == consent_id


def test_scopes_beyond_the_consent_give_nothing_more(
    client: TestClient, session: Session, taro: int
) -> None:
    _organization(session)
    consent_id = _consent(session, taro, ["openid", "name"])
    key = ECKey.generate_key("P-256")
    # A token claiming more than the consent: only the consented part is served.
    token = _token(session, taro, consent_id, "openid name myinfo.local-tax", key)
    answer = _call(client, MYINFO, token, key)
    assert answer.status_code == 200
    claims = jwt.decode(answer.text, _platform_keys(client), algorithms=["ES256"]).claims
    assert [entry["item"] for entry in claims["items"]] == ["name"]


def test_the_organisation_fetches_the_receipt_of_the_consent_its_token_was_issued_under(
    client: TestClient, session: Session, settings: Settings, taro: int
) -> None:
    _organization(session)
    given = consents.create_consent(
        session=session,
        settings=settings,
        resident_id=taro,
        client=organizations.get_client(session=session, client_id=CLIENT),
        scopes=["openid", "name"],
        chosen=["name:name"],
    )
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, given.id, "openid name", key)
    answer = _call(client, RECEIPT, token, key)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/jwt")
    assert answer.text == given.receipt  # the very document the resident keeps
    claims = consents.verify_receipt(answer.text, client.get("/oauth/jwks").json())
    assert claims["aud"] == CLIENT
    assert claims["consent_id"] == given.id
    assert [item["item"] for item in claims["items"]] == ["sub", "name"]
    # Nothing is used of the resident's information: no use is recorded.
    uses = session.scalars(select(ConsentUse).where(ConsentUse.consent_id == given.id)).all()
    assert uses == []
    # Without a proof, or once the consent is withdrawn, the receipt is not served.
    assert client.get(RECEIPT, headers={"Authorization": f"DPoP {token}"}).status_code == 401
    consents.revoke_consent(session=session, resident_id=taro, consent_id=given.id)
    session.commit()
    refused = _call(client, RECEIPT, token, key)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"


# --- encrypted answers, end to end, read with another JOSE library -------------------
# The organisation's side is written with jwcrypto, not the joserfc the platform uses, so
# the JWE and the JWS inside it are checked against an independent implementation.

REDIRECT = "https://minato-bank.example/callback"


def _jwcrypto_assertion(client_id: str, key: cjwk.JWK) -> str:
    now = int(time.time())
    token = cjwt.JWT(
        header={"alg": "ES256", "kid": key.get("kid")},
        claims={
            "iss": client_id,
            "sub": client_id,
            "aud": PORTAL,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + 60,
        },
    )
    token.make_signed_token(key)
    return str(token.serialize())


def _token_proof(key: ECKey, url: str) -> str:
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    claims = {"jti": secrets.token_urlsafe(12), "htm": "POST", "htu": url, "iat": int(time.time())}
    return jwt.encode(header, claims, key, algorithms=["ES256"])


def _verified(compact: str, platform: cjwk.JWKSet) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a JWT signed by the platform, checked by jwcrypto."""
    checked = cjwt.JWT(jwt=compact, key=platform, algs=["ES256"], expected_type="JWS")
    token = checked.token
    assert isinstance(token, cjws.JWS)
    return dict(token.jose_header), json.loads(checked.claims)


@pytest.mark.parametrize(
    ("make_enc_key", "alg"),
    [
        pytest.param(
            lambda: cjwk.JWK.generate(kty="EC", crv="P-256", kid="enc-1", use="enc"),
            "ECDH-ES+A256KW",
            id="ec-p256",
        ),
        pytest.param(
            lambda: cjwk.JWK.generate(kty="EC", crv="P-256", kid="enc-1", use="enc", alg="ECDH-ES"),
            "ECDH-ES",
            id="ec-p256-direct",
        ),
        pytest.param(
            lambda: cjwk.JWK.generate(
                kty="RSA", size=2048, kid="enc-1", use="enc", alg="RSA-OAEP-256"
            ),
            "RSA-OAEP-256",
            id="rsa-2048",
        ),
    ],
)
def test_an_organisation_that_registered_an_encryption_key_alone_can_read_its_answers(
    client: TestClient,
    session: Session,
    settings: Settings,
    taro: int,
    make_enc_key: Any,
    alg: str,
) -> None:
    signing = cjwk.JWK.generate(kty="EC", crv="P-256", kid="sig-1", use="sig")
    encryption = make_enc_key()
    # 1. Registration through the API, with a signing key and the encryption key.
    registered = client.post(
        "/api/partners/organizations",
        json={
            "name": "みなと銀行",
            "purpose": "住宅ローンの審査",
            "contact": "api@minato-bank.example",
            "retention": "審査終了後1年",
            "redirect_uris": [REDIRECT],
            "jwks": {
                "keys": [
                    signing.export_public(as_dict=True),
                    encryption.export_public(as_dict=True),
                ]
            },
            "requested_scopes": [
                {"scope": "openid", "reason": "ログイン"},
                {"scope": "name", "reason": "口座名義の確認"},
                {"scope": "notices", "reason": "手続のご案内"},
            ],
        },
    )
    assert registered.status_code == 201, registered.text
    client_id = registered.json()["client_id"]
    organizations.review(
        session=session,
        client_id=client_id,
        approve=True,
        scopes=["openid", "name", "notices"],
        note="",
    )
    session.commit()
    # 2. PAR, then the browser opens the request.
    verifier = secrets.token_urlsafe(48)
    pushed = client.post(
        "/oauth/par",
        data={
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": _jwcrypto_assertion(client_id, signing),
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "scope": "openid name notices",
            "state": "st-1",
            "nonce": "n-1",
            "code_challenge": b64url_sha256(verifier),
            "code_challenge_method": "S256",
        },
    )
    assert pushed.status_code == 201, pushed.text
    opened = client.get(
        "/oauth/authorize",
        params={"client_id": client_id, "request_uri": pushed.json()["request_uri"]},
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    pending_id = opened.headers["location"].removeprefix("/consent/")
    # 3. The resident consents (what the consent page does once they tick the items).
    pending = authorization.pending_request(
        session=session, pending_id=pending_id, resident_id=taro
    )
    consent = consents.create_consent(
        session=session,
        settings=settings,
        resident_id=taro,
        client=pending.client,
        scopes=pending.scopes,
        chosen=["name:name", "notices:notices"],
    )
    back = authorization.approve(
        session=session,
        settings=settings,
        pending_id=pending_id,
        resident_id=taro,
        consent_id=consent.id,
        scopes=list(consent.scopes),
    )
    session.commit()
    code = parse_qs(urlsplit(back).query)["code"][0]
    # 4. The code for a DPoP-bound token.
    dpop_key = ECKey.generate_key("P-256")
    issued = client.post(
        "/oauth/token",
        data={
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": _jwcrypto_assertion(client_id, signing),
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        headers={"DPoP": _token_proof(dpop_key, PORTAL + "/oauth/token")},
    )
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    platform = cjwk.JWKSet.from_json(client.get("/oauth/jwks").text)
    _, id_token = _verified(issued.json()["id_token"], platform)
    # 5. Both resource APIs answer a JWE only the organisation's key opens.
    for path, typ in ((MYINFO, "myinfo+jwt"), (NOTICES, "notices+jwt")):
        answer = _call(client, path, token, dpop_key)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/jose")
        assert answer.text.count(".") == 4  # compact JWE: five parts
        sealed = cjwe.JWE()
        sealed.deserialize(answer.text, key=encryption)
        assert sealed.jose_header["alg"] == alg
        assert sealed.jose_header["enc"] == "A256GCM"
        assert sealed.jose_header["cty"] == "JWT"
        assert sealed.jose_header["kid"] == "enc-1"
        header, claims = _verified(sealed.payload.decode(), platform)
        assert header["typ"] == typ
        assert claims["aud"] == client_id
        assert claims["sub"] == id_token["sub"]
        assert claims["consent_id"] == consent.id
        if path == MYINFO:
            assert [entry["item"] for entry in claims["items"]] == ["name"]
            _, item = _verified(claims["items"][0]["jwt"], platform)
            assert item["data"] == claims["items"][0]["data"]
        else:
            assert isinstance(claims["notices"], list)
        # Another key of the same kind opens nothing.
        stranger = cjwk.JWK.generate(**_same_kind(encryption))
        with pytest.raises(cjwe.InvalidJWEData):
            cjwe.JWE().deserialize(answer.text, key=stranger)


def _same_kind(key: cjwk.JWK) -> dict[str, Any]:
    if key.get("kty") == "EC":
        return {"kty": "EC", "crv": "P-256"}
    return {"kty": "RSA", "size": 2048}


def test_an_encryption_key_behind_a_jwks_uri_is_used_and_its_absence_sends_nothing(
    sandbox_container: Container, session: Session, taro: int, key_server: KeyServer
) -> None:
    enc = ECKey.generate_key("P-256")
    sig = ECKey.generate_key("P-256")
    url = key_server.put(
        {
            "keys": [
                sig.as_dict(private=False, kid="sig-1", use="sig"),
                enc.as_dict(private=False, kid="enc-1", use="enc"),
            ]
        }
    )
    _organization(session)
    row = session.scalars(select(Organization).where(Organization.client_id == CLIENT)).one()
    row.jwks, row.jwks_uri = None, url
    consent_id = _consent(session, taro, ["openid", "name"])
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, consent_id, "openid name", key)
    with TestClient(create_app(sandbox_container), base_url=PORTAL) as sandbox:
        answer = _call(sandbox, MYINFO, token, key)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/jose")
        assert jwe.decrypt_compact(answer.text, enc).plaintext
        # The keys cannot be read now: no answer at all rather than one in the clear.
        key_server.answers[key_server.path_of(url)] = Answer(503, b"")
        sandbox_container.jwks_cache.forget(url)
        failed = _call(sandbox, MYINFO, token, key)
    assert failed.status_code == 502
    assert failed.json()["error"] == "jwks_unavailable"
    uses = session.scalars(select(ConsentUse).where(ConsentUse.consent_id == consent_id)).all()
    assert [(u.api, u.succeeded) for u in uses] == [("myinfo", True)]
