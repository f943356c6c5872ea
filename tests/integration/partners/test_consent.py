"""Consent at the portal: the page, the signed receipt, the list, revocation and abuse."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import card
from myna.partners import authorization, consents, discovery
from myna.partners.domain import OrganizationStatus
from myna.partners.models import AccessToken, Consent, Organization, PushedRequest
from myna.partners.organizations import get_client
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.portal.conftest import PIN, IssuedCard, issue, portal, reader, taro_card

__all__ = ["portal", "reader", "taro_card"]  # the portal's fixtures, shared

PORTAL = "http://testserver"
CLIENT_ID = "sakura-bank"
REDIRECT_URI = "https://bank.example/callback"
APPROVED = ["openid", "name", "address", "myinfo.local-tax"]
RESIDENT_TAX = "myinfo.local-tax:resident-tax"


@pytest.fixture
def bank(session: Session) -> str:
    """An approved organisation (as Q1's review leaves it)."""
    session.add(
        Organization(
            client_id=CLIENT_ID,
            name="さくら銀行",
            purpose="住宅ローンの審査で年収を確認するため",
            contact="api@bank.example",
            retention="審査終了から7年間",
            status=OrganizationStatus.APPROVED.value,
            redirect_uris=[REDIRECT_URI],
            jwks={"keys": []},
            jwks_uri=None,
            requested_scopes=[
                {"scope": s, "reason": "年収の確認" if s.startswith("myinfo") else "本人確認"}
                for s in APPROVED
            ],
            approved_scopes=APPROVED,
            created_at=utcnow(),
        )
    )
    session.commit()
    return CLIENT_ID


def _pending(session: Session, scope: str = "openid name myinfo.local-tax") -> str:
    """A pushed request the browser has opened: what /oauth/authorize leaves."""
    pushed = authorization.push_request(
        session=session,
        client=get_client(session=session, client_id=CLIENT_ID),
        params={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": "st-123",
            "nonce": "n-456",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    pending_id = authorization.open_request(
        session=session, client_id=CLIENT_ID, request_uri=pushed.request_uri
    )
    session.commit()
    return pending_id


def _login(client: TestClient, issued: IssuedCard) -> TestClient:
    login_client.login(client, PORTAL, issued.reader.open_session(issued.card_id, "auth", PIN))
    return client


@pytest.fixture
def logged_in(portal: TestClient, taro_card: IssuedCard, bank: str) -> TestClient:
    del bank
    return _login(portal, taro_card)


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found
    return found.group(1)


def _consent(
    client: TestClient, pending_id: str, items: list[str], decision: str = "consent"
) -> httpx.Response:
    page = client.get(f"/consent/{pending_id}")
    assert page.status_code == 200, page.text
    return client.post(
        f"/consent/{pending_id}",
        data={"csrf_token": _csrf(page.text), "decision": decision, "item": items},
        follow_redirects=False,
    )


def _consent_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Consent)) or 0


def test_the_page_shows_the_organisation_each_item_its_source_and_the_retention(
    logged_in: TestClient, session: Session
) -> None:
    page = logged_in.get(f"/consent/{_pending(session)}")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="ja">' in html
    assert "さくら銀行があなたの情報の提供を求めています" in html
    assert "住宅ローンの審査で年収を確認するため" in html
    assert "審査終了から7年間" in html
    assert "住民税（個人住民税）課税情報" in html
    assert "お住まいの市区町村" in html  # the source agency of the tax items
    assert "地方公共団体情報システム機構（本人確認情報）" in html  # the basic 4 info's source
    assert "年収の確認" in html  # the organisation's reason
    assert f'value="{RESIDENT_TAX}"' in html
    assert 'value="name:name"' in html
    assert "address:address" not in html  # approved, but not asked for this time
    assert re.search(r'<input type="checkbox" id="[^"]+" checked disabled', html)  # openid


def test_the_page_needs_a_login_and_comes_back_after_it(
    portal: TestClient, session: Session, bank: str
) -> None:
    del bank
    pending_id = _pending(session)
    response = portal.get(f"/consent/{pending_id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Fconsent%2F{pending_id}"


def test_consenting_keeps_a_signed_receipt_and_returns_a_code_to_the_organisation(
    logged_in: TestClient, session: Session, settings: Settings, taro_card: IssuedCard
) -> None:
    answer = _consent(logged_in, _pending(session), [RESIDENT_TAX])
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["st-123"]
    assert query["iss"] == [PORTAL]
    assert len(query["code"][0]) >= 40

    row = session.scalars(select(Consent)).one()
    assert row.resident_id == taro_card.resident_id
    assert row.scopes == ["openid", "myinfo.local-tax"]  # name was not ticked
    assert [i["item"] for i in row.items] == ["sub", "resident-tax"]
    claims = consents.verify_receipt(
        row.receipt, discovery.public_jwks(session=session, settings=settings)
    )
    assert claims["consent_id"] == row.id
    assert claims["sub"] == authorization.subject(
        settings=settings, client_id=CLIENT_ID, resident_id=taro_card.resident_id
    )
    assert str(taro_card.resident_id) != claims["sub"]
    assert claims["organization"] == {"client_id": CLIENT_ID, "name": "さくら銀行"}
    assert claims["purpose"] == "住宅ローンの審査で年収を確認するため"
    assert claims["retention"] == "審査終了から7年間"
    assert claims["jurisdiction"] == "JP"
    assert claims["policy_url"] == f"{PORTAL}/partners"
    assert {"scope": "myinfo.local-tax", "item": "resident-tax"}.items() <= claims["items"][
        1
    ].items()
    assert claims["items"][1]["source"] == "kind:municipality"
    assert claims["items"][1]["source_name"] == "お住まいの市区町村"


def test_the_code_from_a_consent_is_bound_to_that_consent(
    logged_in: TestClient, session: Session
) -> None:
    answer = _consent(logged_in, _pending(session), ["name:name"])
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    issued = session.get(authorization.AuthorizationCode, authorization.digest(code))
    consent = session.scalars(select(Consent)).one()
    assert issued is not None
    assert issued.consent_id == consent.id
    assert issued.scope == "openid name"


def test_refusing_sends_access_denied_and_keeps_no_consent(
    logged_in: TestClient, session: Session
) -> None:
    answer = _consent(logged_in, _pending(session), [RESIDENT_TAX], decision="refuse")
    assert answer.status_code == 303
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st-123"]
    assert "code" not in query
    assert _consent_count(session) == 0


def test_the_page_speaks_english_on_request(logged_in: TestClient, session: Session) -> None:
    pending_id = _pending(session)
    logged_in.get("/language", params={"lang": "en", "next": "/"})
    html = logged_in.get(f"/consent/{pending_id}").text
    assert '<html lang="en">' in html
    assert "さくら銀行 asks for your information" in html
    assert "Individual resident tax assessment" in html
    assert "Your municipality" in html
    assert "J-LIS (identity information from the resident register)" in html


def test_consenting_to_nothing_asks_the_resident_to_choose(
    logged_in: TestClient, session: Session
) -> None:
    pending_id = _pending(session, scope="name myinfo.local-tax")  # no openid to tick for them
    answer = _consent(logged_in, pending_id, [])
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text
    assert "提供する項目を1つ以上選ぶか、「同意しない」を押してください。" in answer.text
    assert 'href="#information-requested"' in answer.text
    assert _consent_count(session) == 0
    assert _consent(logged_in, pending_id, ["name:name"]).status_code == 303


def test_it_refuses_an_item_the_organisation_did_not_ask_for(
    logged_in: TestClient, session: Session
) -> None:
    pending_id = _pending(session)
    # address is approved for the bank but not in this request; health is neither.
    for smuggled in ("address:address", "myinfo.health:health-insurance", "openid:sub:x"):
        answer = _consent(logged_in, pending_id, [RESIDENT_TAX, smuggled])
        assert answer.status_code == 400
        assert "同意できるのは、この事業者が求めた項目だけです。" in answer.text
    assert _consent_count(session) == 0
    # The request is still waiting: the resident can answer properly.
    assert _consent(logged_in, pending_id, [RESIDENT_TAX]).status_code == 303


def test_a_pending_request_is_answered_once(logged_in: TestClient, session: Session) -> None:
    pending_id = _pending(session)
    page = logged_in.get(f"/consent/{pending_id}")
    data = {"csrf_token": _csrf(page.text), "decision": "consent", "item": [RESIDENT_TAX]}
    first = logged_in.post(f"/consent/{pending_id}", data=data, follow_redirects=False)
    assert first.status_code == 303
    again = logged_in.post(f"/consent/{pending_id}", data=data, follow_redirects=False)
    assert again.status_code == 404
    assert _consent_count(session) == 1
    assert logged_in.get(f"/consent/{pending_id}").status_code == 404


def test_the_answer_needs_the_pages_csrf_token_and_a_known_decision(
    logged_in: TestClient, session: Session
) -> None:
    pending_id = _pending(session)
    page = logged_in.get(f"/consent/{pending_id}")
    forged = logged_in.post(
        f"/consent/{pending_id}",
        data={"csrf_token": "forged", "decision": "consent", "item": [RESIDENT_TAX]},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    odd = logged_in.post(
        f"/consent/{pending_id}",
        data={"csrf_token": _csrf(page.text), "decision": "maybe"},
        follow_redirects=False,
    )
    assert odd.status_code == 400
    assert _consent_count(session) == 0
    assert session.get(PushedRequest, pending_id).used_at is None  # type: ignore[union-attr]


def test_a_suspended_organisation_gets_no_consent(logged_in: TestClient, session: Session) -> None:
    pending_id = _pending(session)
    page = logged_in.get(f"/consent/{pending_id}")
    organization = session.scalars(select(Organization)).one()
    organization.status = OrganizationStatus.SUSPENDED.value
    session.commit()
    answer = logged_in.post(
        f"/consent/{pending_id}",
        data={"csrf_token": _csrf(page.text), "decision": "consent", "item": [RESIDENT_TAX]},
        follow_redirects=False,
    )
    assert answer.status_code == 404
    assert _consent_count(session) == 0


def test_create_consent_refuses_an_organisation_that_is_not_approved(
    session: Session, settings: Settings, bank: str
) -> None:
    organization = session.scalars(select(Organization)).one()
    organization.status = OrganizationStatus.PENDING.value
    session.flush()
    client = get_client(session=session, client_id=bank)
    with pytest.raises(consents.OrganizationNotActiveError):
        consents.create_consent(
            session=session,
            settings=settings,
            resident_id=1,
            client=client,
            scopes=["openid", "name"],
            chosen=["name:name"],
        )


def test_consent_answers_are_rate_limited_per_resident_with_a_clear_page(
    logged_in: TestClient, session: Session
) -> None:
    pending_id = _pending(session)
    token = _csrf(logged_in.get(f"/consent/{pending_id}").text)
    data = {"csrf_token": token, "decision": "consent", "item": ["not:offered"]}
    for _ in range(10):
        assert logged_in.post(f"/consent/{pending_id}", data=data).status_code == 400
    limited = logged_in.post(f"/consent/{pending_id}", data=data)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "60"
    assert "同意の操作が多すぎます" in limited.text
    assert "情報は提供されていません" in limited.text


def _consented(client: TestClient, session: Session, items: list[str]) -> Consent:
    assert _consent(client, _pending(session), items).status_code == 303
    newest = session.scalars(select(Consent).order_by(Consent.granted_at.desc())).first()
    assert newest is not None
    return newest


def test_the_list_shows_consents_newest_first_with_every_use(
    logged_in: TestClient, session: Session
) -> None:
    first = _consented(logged_in, session, ["name:name"])
    first.granted_at = first.granted_at - timedelta(days=1)
    session.commit()
    second = _consented(logged_in, session, [RESIDENT_TAX])
    consents.record_use(
        session=session, consent_id=second.id, api="myinfo", items=["resident-tax"], succeeded=True
    )
    consents.record_use(
        session=session, consent_id=second.id, api="myinfo", items=["resident-tax"], succeeded=False
    )
    session.commit()
    html = logged_in.get("/consents").text
    assert html.index(f"/consents/{second.id}") < html.index(f"/consents/{first.id}")
    assert "提供されませんでした" in html
    # The uses in the resident's words: the API, the catalog's item names, the time.
    tax = consents.items_of_scope("myinfo.local-tax")[0].name_ja
    assert html.count(f"<td>{tax}</td>") == 2
    assert html.count("<td>自己情報取得API</td>") == 2
    assert '<th scope="col">利用日時</th>' in html
    assert "公開期間" not in html
    assert "resident-tax" not in html
    assert "myinfo" not in html
    assert "わたしの情報：地方税" in html  # the scope, by its label
    assert "この同意はまだ利用されていません。" in html  # the first one
    views = consents.list_consents(session=session, resident_id=second.resident_id)
    assert [v.id for v in views] == [second.id, first.id]
    assert [u.succeeded for u in views[0].uses] in ([False, True], [True, False])
    assert len(views[0].uses) == 2


def test_the_receipt_downloads_and_verifies(
    logged_in: TestClient, session: Session, settings: Settings
) -> None:
    row = _consented(logged_in, session, [RESIDENT_TAX])
    detail = logged_in.get(f"/consents/{row.id}")
    assert detail.status_code == 200
    assert "お住まいの市区町村" in detail.text
    assert f"{PORTAL}/oauth/jwks" in detail.text
    download = logged_in.get(f"/consents/{row.id}/receipt")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/jwt"
    assert download.headers["content-disposition"] == 'attachment; filename="consent-receipt.jwt"'
    assert download.headers["cache-control"] == "no-store"
    jwks = discovery.public_jwks(session=session, settings=settings)
    assert consents.verify_receipt(download.text, jwks)["consent_id"] == row.id


def _b64(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_a_forged_or_altered_receipt_does_not_verify(
    logged_in: TestClient, session: Session, settings: Settings
) -> None:
    row = _consented(logged_in, session, [RESIDENT_TAX])
    jwks = discovery.public_jwks(session=session, settings=settings)
    header, payload, signature = row.receipt.split(".")
    claims = consents.verify_receipt(row.receipt, jwks)
    kid = jwks["keys"][0]["kid"]
    forger = ECKey.generate_key("P-256")
    forged = jwt.encode({"alg": "ES256", "typ": consents.RECEIPT_TYPE, "kid": kid}, claims, forger)
    unsigned = ".".join((_b64({"alg": "none", "typ": consents.RECEIPT_TYPE}), _b64(claims), ""))
    # An ID token is signed by the same key but is not a receipt.
    confused = jwt.encode(
        {"alg": "HS256", "typ": consents.RECEIPT_TYPE, "kid": kid},
        claims,
        OctKey.import_key(json.dumps(jwks["keys"][0]).encode()),
    )
    id_token = discovery.sign_jwt(session=session, settings=settings, claims=claims)
    altered = ".".join(
        (header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature)
    )
    for bad in (forged, unsigned, confused, id_token, altered, "garbage", ""):
        with pytest.raises(consents.InvalidReceiptError):
            consents.verify_receipt(bad, jwks)
    with pytest.raises(consents.InvalidReceiptError):
        consents.verify_receipt(row.receipt, {"keys": [forger.as_dict(private=False, kid=kid)]})


def test_revoking_kills_the_consents_tokens_at_once(
    logged_in: TestClient, session: Session
) -> None:
    row = _consented(logged_in, session, [RESIDENT_TAX])
    now = utcnow()
    session.add(
        AccessToken(
            digest=authorization.digest("live-token"),
            client_id=CLIENT_ID,
            resident_id=row.resident_id,
            consent_id=row.id,
            scope="openid myinfo.local-tax",
            jkt="j" * 43,
            created_at=now,
            expires_at=now + timedelta(minutes=5),
        )
    )
    session.commit()
    page = logged_in.get(f"/consents/{row.id}")
    forged = logged_in.post(
        f"/consents/{row.id}/revoke", data={"csrf_token": "x", "confirm": "yes"}
    )
    assert forged.status_code == 403
    answer = logged_in.post(
        f"/consents/{row.id}/revoke",
        data={"csrf_token": _csrf(page.text), "confirm": "yes"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/consents/{row.id}?done=revoked"
    session.expire_all()
    assert session.get(Consent, row.id).revoked_at is not None  # type: ignore[union-attr]
    token = session.get(AccessToken, authorization.digest("live-token"))
    assert token is not None
    assert token.revoked_at is not None
    detail = logged_in.get(answer.headers["location"]).text
    assert "同意を取り消しました。" in detail
    assert "に取消し" in detail
    assert f'action="/consents/{row.id}/revoke"' not in detail


def test_withdrawing_asks_for_confirmation_first(logged_in: TestClient, session: Session) -> None:
    row = _consented(logged_in, session, [RESIDENT_TAX])
    page = logged_in.get(f"/consents/{row.id}").text
    assert re.search(
        r'<input type="checkbox" id="confirm-withdrawal" name="confirm" value="yes" required', page
    )
    assert '<label for="confirm-withdrawal">' in page
    unconfirmed = logged_in.post(
        f"/consents/{row.id}/revoke", data={"csrf_token": _csrf(page)}, follow_redirects=False
    )
    assert unconfirmed.status_code == 422
    assert "確認のチェックボックスにチェックを入れてください" in unconfirmed.text
    assert 'aria-invalid="true"' in unconfirmed.text
    session.expire_all()
    assert session.get(Consent, row.id).revoked_at is None  # type: ignore[union-attr]


def test_a_second_consent_to_the_same_organisation_replaces_the_first(
    logged_in: TestClient, session: Session
) -> None:
    first = _consented(logged_in, session, ["name:name"])
    now = utcnow()
    session.add(
        AccessToken(
            digest=authorization.digest("first-token"),
            client_id=CLIENT_ID,
            resident_id=first.resident_id,
            consent_id=first.id,
            scope="openid name",
            jkt="j" * 43,
            created_at=now,
            expires_at=now + timedelta(minutes=5),
        )
    )
    session.commit()
    second = _consented(logged_in, session, [RESIDENT_TAX])
    session.expire_all()
    ended = session.get(Consent, first.id)
    assert ended is not None
    assert ended.revoked_at == second.granted_at
    token = session.get(AccessToken, authorization.digest("first-token"))
    assert token is not None
    assert token.revoked_at is not None
    in_force = [
        v
        for v in consents.list_consents(session=session, resident_id=first.resident_id)
        if v.active
    ]
    assert [v.id for v in in_force] == [second.id]

    html = logged_in.get("/consents").text
    assert "新しい同意で置き換え" in html
    assert f'<a href="/consents/{second.id}">現在有効な同意を見る</a>' in html
    detail = logged_in.get(f"/consents/{first.id}").text
    assert "新しい同意で置き換え" in detail
    assert "に取消し" not in detail
    assert f'action="/consents/{first.id}/revoke"' not in detail


def test_a_withdrawn_consent_is_not_shown_as_replaced(
    logged_in: TestClient, session: Session
) -> None:
    row = _consented(logged_in, session, [RESIDENT_TAX])
    consents.revoke_consent(session=session, resident_id=row.resident_id, consent_id=row.id)
    session.commit()
    later = _consented(logged_in, session, ["name:name"])
    views = {v.id: v for v in consents.list_consents(session=session, resident_id=row.resident_id)}
    assert views[row.id].replaced_by is None
    assert views[later.id].active


def test_another_resident_never_sees_or_revokes_a_consent(
    logged_in: TestClient,
    session: Session,
    settings: Settings,
    reader: card.VirtualCardReader,
) -> None:
    row = _consented(logged_in, session, [RESIDENT_TAX])
    hanako = issue(session, settings, reader, "hanako")
    logged_in.cookies.clear()
    other = _login(logged_in, hanako)
    assert row.id not in other.get("/consents").text
    assert other.get(f"/consents/{row.id}").status_code == 404
    assert other.get(f"/consents/{row.id}/receipt").status_code == 404
    revoked = other.post(
        f"/consents/{row.id}/revoke",
        data={"csrf_token": _csrf(other.get("/home").text), "confirm": "yes"},
        follow_redirects=False,
    )
    assert revoked.status_code == 404
    with pytest.raises(consents.ConsentNotFoundError):
        consents.revoke_consent(session=session, resident_id=hanako.resident_id, consent_id=row.id)
    session.expire_all()
    assert session.get(Consent, row.id).revoked_at is None  # type: ignore[union-attr]


def test_the_consent_pages_need_a_login(portal: TestClient) -> None:
    for path in ("/consents", "/consents/abc", "/consents/abc/receipt"):
        response = portal.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    assert portal.post("/consents/abc/revoke", follow_redirects=False).status_code in (303, 401)
