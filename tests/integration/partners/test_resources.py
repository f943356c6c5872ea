"""The resource APIs: consented items through the hub, signed item by item, encrypted on request.

Tokens are minted here as the authorization server stores them (a digest bound to a DPoP
key's thumbprint and a consent); every request carries a real DPoP proof.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwe, jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import jpki, network, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.network.transparency.models import LogEntryRow
from myna.partners import consents
from myna.partners.dpop import b64url_sha256
from myna.partners.models import AccessToken, Consent, ConsentUse, Organization
from myna.platform.db import utcnow
from myna.platform.settings import Settings

PORTAL = "http://testserver"
MYINFO = "/api/partners/v1/myinfo"
NOTICES = "/api/partners/v1/notices"
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
    row = session.get(Consent, consent_id)
    assert row is not None
    row.revoked_at = utcnow()
    session.commit()
    refused = _call(client, MYINFO, token, key)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"


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
