"""The return's pages with the household, the year before and self-medication, in Japanese."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.tax.conftest import LIFE, QUAKE, TaxWorld, filed_before, logged_in

SOURCES = ["salary", f"certificate:{LIFE}", f"certificate:{QUAKE}", "medical"]


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.fixture
def taro(world: TaxWorld) -> Iterator[TestClient]:
    for resident in logged_in(world, "taro"):
        yield resident.client


def _gathered(client: TestClient, extra: list[str]) -> str:
    token = _csrf(client.get("/tax").text)
    client.post("/tax/2025/start", data={"csrf_token": token})
    done = client.post(
        "/tax/2025/gather",
        data={"csrf_token": token, "source": [*SOURCES, *extra]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return token


def _text(html: str) -> str:
    """The page's words without tags, spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_gather_page_offers_the_household_and_the_year_before_and_says_what_is_assumed(
    taro: TestClient,
) -> None:
    _gathered(taro, [])
    page = taro.get("/tax/2025/gather").text
    assert 'value="household"' in page
    assert 'value="previous"' in page
    assert "所得なしとみなします" in page
    assert "マイナポータルから提出した令和6年分の確定申告" in page
    assert "申告書の画面でご自身で入力してください" in page


def test_the_household_fills_the_spouse_and_the_return_says_how_each_counts(
    taro: TestClient,
) -> None:
    _gathered(taro, ["household", "previous"])
    page = taro.get("/tax/2025?done=gathered").text
    text = _text(page)
    assert "世帯の配偶者と親族" in text
    assert "世帯主との続柄 妻（あなたの配偶者）" in text
    assert "昭和62年9月3日" in text
    assert "12月31日現在 38歳" in text
    assert "申告書での扱い 配偶者控除： 380,000円" in text
    assert "年少扶養親族（16歳未満のため扶養控除はありません）" in text
    assert "情報提供元 不明のため、所得なしとみなしています 申告書での扱い" in text
    assert "市区町村の個人住民税課税台帳" in text
    assert "64,718円" in text  # the refund with the 配偶者控除 (test_household.py)
    # 太郎 filed 令和6年分 through e-Tax (his persona's record at the NTA).
    assert "令和7年2月17日に提出（受付番号 20250217101530482913）" in text


def test_a_relatives_income_is_corrected_on_the_page(taro: TestClient) -> None:
    """花子 corrected to 1,000,000: 配偶者特別控除 360,000, 還付 62,676 (test_household.py)."""
    token = _gathered(taro, ["household"])
    page = taro.get("/tax/2025").text
    spouse = page.split('id="relatives"', 1)[1]
    field_id = re.search(r'id="field-(\d+)"', spouse)
    assert field_id
    done = taro.post(
        f"/tax/2025/fields/{field_id.group(1)}",
        data={"csrf_token": token, "value": "1,000,000"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    text = _text(taro.get("/tax/2025").text)
    assert "配偶者特別控除" in text
    assert "360,000円" in text
    assert "62,676円" in text


def test_self_medication_is_entered_compared_and_chosen_on_the_page(taro: TestClient) -> None:
    """Purchases 50,000 → 38,000 against a 医療費控除 of 30,000; chosen: 還付 26,737."""
    token = _gathered(taro, [])
    page = taro.get("/tax/2025").text
    assert 'action="/tax/2025/self-medication"' in page
    entered = taro.post(
        "/tax/2025/self-medication",
        data={"csrf_token": token, "spent": "50,000円"},
        follow_redirects=False,
    )
    assert entered.status_code == 303
    assert entered.headers["location"] == "/tax/2025?done=self-medication#self-medication"
    panel = _text(taro.get("/tax/2025").text.split('id="self-medication"', 1)[1])
    assert "38,000円" in panel
    assert "購入費 50,000円" in panel
    assert "有利な方 セルフメディケーション税制" in panel
    assert "有利な方ではありません" in panel  # the 医療費控除 is claimed until chosen
    chosen = taro.post(
        "/tax/2025/medical-choice",
        data={"csrf_token": token, "choice": "self_medication"},
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    after = _text(taro.get("/tax/2025").text)
    assert "セルフメディケーション税制（医療費控除の特例） 38,000円" in after
    assert "26,737円" in after
    listed = _text(taro.get("/tax/2025/corrections").text)
    assert "申告書で適用する控除 医療費控除 セルフメディケーション税制" in listed


@pytest.mark.parametrize(
    ("spent", "expected"),
    [
        ("五万円", "円単位の整数で"),
        ("-5", "金額にマイナスは入力できません。"),
        ("1000000000001", "が大きすぎます"),
    ],
)
def test_a_wrong_purchase_amount_is_refused_on_the_page(
    taro: TestClient, spent: str, expected: str
) -> None:
    token = _gathered(taro, [])
    refused = taro.post("/tax/2025/self-medication", data={"csrf_token": token, "spent": spent})
    assert refused.status_code == 422
    assert expected in refused.text
    assert 'id="problem-self-medication"' in refused.text
    assert 'action="/tax/2025/self-medication"' in refused.text  # still nothing entered


def test_a_choice_that_is_neither_or_too_early_is_refused_on_the_page(taro: TestClient) -> None:
    token = _gathered(taro, [])
    early = taro.post(
        "/tax/2025/medical-choice", data={"csrf_token": token, "choice": "self_medication"}
    )
    assert early.status_code == 422
    assert "特定一般用医薬品等の金額を入力してください" in early.text
    bogus = taro.post("/tax/2025/medical-choice", data={"csrf_token": token, "choice": "both"})
    assert bogus.status_code == 422
    assert "どちらかを選んでください" in bogus.text


def test_the_new_forms_need_the_pages_csrf_token(taro: TestClient) -> None:
    _gathered(taro, [])
    forged = {"csrf_token": "forged"}
    assert taro.post("/tax/2025/self-medication", data={**forged, "spent": "1"}).status_code == 403
    assert (
        taro.post(
            "/tax/2025/medical-choice", data={**forged, "choice": "medical_expenses"}
        ).status_code
        == 403
    )
    assert 'action="/tax/2025/self-medication"' in taro.get("/tax/2025").text


def test_the_return_of_the_year_before_is_shown_beside_this_one(
    world: TaxWorld, taro: TestClient
) -> None:
    filed_before(world, 2024, total_income=4_200_000, refund=12_000)
    world.session.commit()
    _gathered(taro, ["previous"])
    text = _text(taro.get("/tax/2025").text)
    assert "令和6年分との比較" in text
    assert "合計所得金額 4,200,000円 4,360,000円" in text
    assert "還付される税金 12,000円 25,920円" in text
    assert "令和7年2月20日に提出（受付番号 20250220103045123456）" in text
    assert "国税庁に保有されていません" not in text
