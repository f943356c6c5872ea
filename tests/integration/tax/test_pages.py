"""The 確定申告 pages over HTTP: Japanese, CSRF on every form, nobody else's return."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from myna.app import create_app
from tests.integration.tax.conftest import LIFE, PORTAL, QUAKE, TaxWorld, logged_in


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _client(world: TaxWorld, persona: str) -> Iterator[TestClient]:
    for resident in logged_in(world, persona):
        yield resident.client


@pytest.fixture
def taro(world: TaxWorld) -> Iterator[TestClient]:
    yield from _client(world, "taro")


def _gathered(client: TestClient) -> str:
    token = _csrf(client.get("/tax").text)
    started = client.post("/tax/2025/start", data={"csrf_token": token}, follow_redirects=False)
    assert started.status_code == 303
    assert started.headers["location"] == "/tax/2025/gather"
    done = client.post(
        "/tax/2025/gather",
        data={
            "csrf_token": token,
            "source": ["salary", f"certificate:{LIFE}", f"certificate:{QUAKE}", "medical"],
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    return token


def test_the_pages_walk_from_start_to_the_refund_in_japanese(taro: TestClient) -> None:
    index = taro.get("/tax")
    assert index.status_code == 200
    assert "令和7年分の申告書の作成を始める" in index.text
    _gathered(taro)
    gather = taro.get("/tax/2025/gather")
    assert "ひかり生命保険株式会社" in gather.text
    assert 'value="medical"' in gather.text
    page = taro.get("/tax/2025?done=gathered")
    assert page.status_code == 200
    assert "6,000,000円" in page.text
    assert "株式会社みなと商事" in page.text
    assert "令和8年1月20日" in page.text  # received, in 和暦
    assert "医療保険者の医療費通知情報" in page.text
    assert "修正する" in page.text
    assert "還付される税金" in page.text
    assert "25,920円" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_a_correction_through_the_page_is_listed_and_changes_the_refund(
    taro: TestClient,
) -> None:
    token = _gathered(taro)
    page = taro.get("/tax/2025").text
    field_id = re.search(r'id="field-(\d+)"', page.split("生命保険料控除証明書", 1)[1])
    assert field_id
    done = taro.post(
        f"/tax/2025/fields/{field_id.group(1)}",
        data={"csrf_token": token, "value": "60,000"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "25,409円" in taro.get("/tax/2025").text
    listed = taro.get("/tax/2025/corrections").text
    assert "100,000円" in listed
    assert "60,000円" in listed


def test_an_absurd_correction_is_refused_on_the_page(taro: TestClient) -> None:
    token = _gathered(taro)
    page = taro.get("/tax/2025").text
    field_id = re.search(r'id="field-(\d+)"', page)
    assert field_id
    refused = taro.post(
        f"/tax/2025/fields/{field_id.group(1)}", data={"csrf_token": token, "value": "-5"}
    )
    assert refused.status_code == 422
    assert "金額にマイナスは入力できません。" in refused.text
    garbage = taro.post(
        f"/tax/2025/fields/{field_id.group(1)}", data={"csrf_token": token, "value": "たくさん"}
    )
    assert garbage.status_code == 422
    assert "修正はまだありません。" in taro.get("/tax/2025/corrections").text


def test_every_form_needs_the_pages_csrf_token(taro: TestClient) -> None:
    assert taro.post("/tax/2025/start", data={"csrf_token": "forged"}).status_code == 403
    token = _gathered(taro)
    assert (
        taro.post(
            "/tax/2025/gather", data={"csrf_token": "forged", "source": ["medical"]}
        ).status_code
        == 403
    )
    field_id = re.search(r'id="field-(\d+)"', taro.get("/tax/2025").text)
    assert field_id
    forged = taro.post(
        f"/tax/2025/fields/{field_id.group(1)}", data={"csrf_token": "forged", "value": "1"}
    )
    assert forged.status_code == 403
    assert token  # the real token was never sent with the forged posts


def test_another_resident_reaches_neither_the_return_nor_its_fields(
    world: TaxWorld, taro: TestClient
) -> None:
    _gathered(taro)
    field_id = re.search(r'id="field-(\d+)"', taro.get("/tax/2025").text)
    assert field_id
    for misaki in _client(world, "misaki"):
        assert misaki.get("/tax/2025").status_code == 404
        assert misaki.get("/tax/2025/corrections").status_code == 404
        token = _csrf(misaki.get("/tax").text)
        misaki.post("/tax/2025/start", data={"csrf_token": token})
        taken = misaki.post(
            f"/tax/2025/fields/{field_id.group(1)}", data={"csrf_token": token, "value": "1"}
        )
        assert taken.status_code == 404
        assert "株式会社みなと商事" not in misaki.get("/tax/2025").text
    assert "6,000,000円" in taro.get("/tax/2025").text


def test_the_pages_need_a_login(world: TaxWorld) -> None:
    with TestClient(create_app(world.container), base_url=PORTAL) as client:
        assert client.get("/tax", follow_redirects=False).status_code == 303
        assert client.get("/tax/2025", follow_redirects=False).status_code == 303
