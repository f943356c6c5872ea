"""The catalog over HTTP: the open-data API and the pages, without login and with one."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import card, jpki, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.reader import client as login_client

CHIYODA = "131016"
SETAGAYA = "131121"


@pytest.fixture
def client(container: Container, session: Session) -> Iterator[TestClient]:
    registry.ensure_municipalities(session=session)
    session.commit()
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


def test_the_api_searches_by_kana_and_pages(client: TestClient) -> None:
    response = client.get("/api/services", params={"query": "ｼﾞﾄﾞｳﾃｱﾃ", "page_size": 5})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "page", "page_size", "pages", "has_next"}
    assert body["total"] == 9 and body["pages"] == 2 and body["has_next"] is True
    first = body["items"][0]
    assert first["name_ja"] == "児童手当の認定請求"
    assert first["category"] == "child-rearing"
    assert first["offered_by"] is None


def test_the_api_filters_by_category_life_event_and_municipality(client: TestClient) -> None:
    care = client.get("/api/services", params={"category": "long-term-care"}).json()
    assert care["total"] == 11
    moving = client.get("/api/services", params={"life_event": "moving"}).json()
    assert all("moving" in item["life_events"] for item in moving["items"])
    chiyoda = client.get("/api/services", params={"municipality": CHIYODA, "page_size": 100})
    codes = [item["code"] for item in chiyoda.json()["items"]]
    assert "chiyoda-next-generation-allowance" in codes
    assert "setagaya-childcare-voucher" not in codes


def test_the_api_shows_a_procedure_with_its_requirements(client: TestClient) -> None:
    body = client.get(f"/api/services/{CHIYODA}/disaster-certificate").json()
    assert body["municipality"] == {"code": CHIYODA, "name": "東京都千代田区"}
    assert body["documents"] and body["eligibility"] and body["department"]
    assert body["signature_required"] is True
    assert body["apply_url"] == f"/apply/{CHIYODA}/disaster-certificate"
    assert client.get(body["apply_url"], follow_redirects=False).status_code in (200, 303)


def test_a_local_procedure_is_not_found_in_another_municipality(client: TestClient) -> None:
    response = client.get(f"/api/services/{SETAGAYA}/chiyoda-next-generation-allowance")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "procedure_not_found"
    assert "東京都世田谷区" in body["message"]
    local = client.get(f"/api/services/{CHIYODA}/chiyoda-next-generation-allowance").json()
    assert local["offered_by"] == [{"code": CHIYODA, "name": "東京都千代田区"}]
    assert local["apply_url"] is None


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/services?page=0", 422),
        ("/api/services?page=abc", 422),
        ("/api/services?page_size=1000", 422),
        ("/api/services?category=sports", 400),
        ("/api/services?life_event=%F0%9F%8E%89", 400),
        ("/api/services?municipality=123456", 400),
        ("/api/services?municipality=131017", 400),
        ("/api/services?municipality=999997", 404),
        ("/api/services?query=" + "x" * 500, 422),
        ("/api/services/131016/no-such-thing", 404),
        ("/api/services/abc/disaster-certificate", 422),
        ("/api/services/131016/DROP%20TABLE", 422),
        ("/services?page=-1", 422),
        ("/services?category=%3Cscript%3E", 400),
        ("/services/131016/nothing-here", 404),
    ],
)
def test_garbage_parameters_get_a_4xx_not_a_500(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    if path.startswith("/api/"):
        assert set(response.json()) == {"error", "message"}


def test_the_api_is_documented_in_openapi(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    search = spec["paths"]["/api/services"]["get"]
    assert search["summary"] and search["description"]
    assert {p["name"] for p in search["parameters"]} >= {"query", "category", "page"}
    assert "/api/services/{municipality}/{code}" in spec["paths"]


def test_the_search_page_is_in_japanese_with_labelled_fields(client: TestClient) -> None:
    response = client.get("/services", params={"query": "じどうてあて", "municipality": CHIYODA})
    assert response.status_code == 200
    html = response.text
    assert '<html lang="ja">' in html
    assert "<h1>手続を探す</h1>" in html
    assert 'for="query"' in html and 'for="category"' in html and "<legend>" in html
    assert "9件の手続が見つかりました" in html
    assert f'href="/services/{CHIYODA}/child-allowance-claim"' in html


def test_the_procedure_page_shows_requirements_and_online_information(
    client: TestClient,
) -> None:
    html = client.get(f"/services/{CHIYODA}/pregnancy-notification").text
    assert "<h1>妊娠の届出</h1>" in html
    assert "必要な書類" in html and "対象となる方" in html
    assert "オンライン申請に対応" in html
    assert "<form" not in html.split("<main", 1)[1]


def test_the_procedure_page_speaks_english_on_request(client: TestClient) -> None:
    html = client.get(f"/services/{CHIYODA}/pregnancy-notification?lang=en").text
    assert "<h1>Notification of pregnancy</h1>" in html
    assert "Documents" in html


def _logged_in_as(
    client: TestClient, session: Session, container: Container, persona: str
) -> registry.ResidentRead:
    """Log ``persona`` in through the card reader's protocol (a card issued for the test)."""
    settings = container.settings
    resident = registry.ensure_personas(session=session)[persona]
    jpki.ensure_authorities(session=session, settings=settings)
    issued = card.issue_card(
        session=session, settings=settings, resident_id=resident.id, pin="4321", password="SIGN2026"
    )
    session.commit()
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    login_client.login(
        client, "http://testserver", reader.open_session(issued.card_id, "auth", "4321")
    )
    return resident


def _selected_municipality(html: str) -> str | None:
    select = html.split('<select id="municipality"', 1)[1].split("</select>", 1)[0]
    found = re.search(r'<option value="([0-9]*)" selected>', select)
    return found.group(1) if found else None


def test_the_municipality_filter_starts_at_the_residents_own_municipality(
    client: TestClient, session: Session, container: Container
) -> None:
    assert _selected_municipality(client.get("/services").text) is None
    misaki = _logged_in_as(client, session, container, "misaki")
    assert misaki.municipality_code == "141003"
    html = client.get("/services").text
    assert _selected_municipality(html) == "141003"
    assert "神奈川県横浜市（お住まいの市区町村）" in html
    assert "お住まいの市区町村の手続を表示しています" in html
    # 横浜市 offers the babysitter support but not 千代田区's own allowance.
    assert 'href="/services/141003/local-babysitter-subsidy"' in html
    assert "次世代育成手当の申請" not in html


def test_a_logged_in_resident_can_still_choose_another_municipality_or_all(
    client: TestClient, session: Session, container: Container
) -> None:
    _logged_in_as(client, session, container, "misaki")
    chiyoda = client.get("/services", params={"municipality": CHIYODA}).text
    assert _selected_municipality(chiyoda) == CHIYODA
    assert "次世代育成手当の申請" in chiyoda
    everything = client.get("/services", params={"municipality": ""}).text
    assert _selected_municipality(everything) is None
    assert "次世代育成手当の申請" in everything and "子育て利用券の申請" in everything
    assert "お住まいの市区町村の手続を表示しています" not in everything
