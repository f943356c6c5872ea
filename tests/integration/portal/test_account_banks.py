"""The 公金受取口座 form chooses the bank and the branch by name from the Zengin list.

A search is a submit button that shows the form again with the matches (no script);
what was typed stays. A bank or branch that does not exist is refused on its field.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import network, registry
from myna.reader import client as login_client
from tests.integration.portal.conftest import PIN, IssuedCard

PORTAL = "http://testserver"
TYPED = {"account_type": "普通", "number": "4567", "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ"}


@pytest.fixture
def logged_in(portal: TestClient, taro_card: IssuedCard, session: Session) -> TestClient:
    network.seed_agency_data(session=session, seed=1)
    session.commit()
    login_client.login(
        portal, PORTAL, taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    )
    return portal


def _post(client: TestClient, **values: str) -> httpx.Response:
    page = client.get("/account/edit").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return client.post("/account", data={**TYPED, **values, "csrf_token": token.group(1)})


def _options(page: str, name: str) -> list[tuple[str, str, bool]]:
    select = re.search(rf'<select id="{name}" name="{name}".*?</select>', page, re.S)
    assert select, name
    return [
        (value, label, bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(0)
        )
        if value
    ]


def test_the_form_searches_banks_and_branches_by_name(logged_in: TestClient) -> None:
    page = logged_in.get("/account/edit").text
    assert '<label for="bank_query">金融機関名で探す</label>' in page
    assert '<label for="bank_code">金融機関</label>' in page
    assert '<label for="branch_query">支店名で探す</label>' in page
    assert "<script>" not in page


def test_a_bank_is_found_by_name_and_what_was_typed_stays(logged_in: TestClient) -> None:
    found = _post(logged_in, bank_query="みずほ", action="find_bank")
    assert found.status_code == 200
    text = found.text
    assert "一覧から金融機関を選んでください" in text
    options = _options(text, "bank_code")
    assert ("0001", "みずほ銀行（0001）", False) in options
    assert ("0289", "みずほ信託銀行（0289）", False) in options
    assert 'value="4567"' in text
    assert 'value="ﾔﾏﾀﾞ ﾀﾛｳ"' in text
    assert 'value="普通" checked' in text
    assert 'value="みずほ"' in text


def test_a_single_match_is_chosen_at_once_in_kana_or_by_code(logged_in: TestClient) -> None:
    for query in ("ゆうちょ", "ユウチョ", "9900"):
        found = _post(logged_in, bank_query=query, action="find_bank")
        assert ("9900", "ゆうちょ銀行（9900）", True) in _options(found.text, "bank_code")


def test_a_branch_is_found_by_name_within_the_chosen_bank(logged_in: TestClient) -> None:
    found = _post(logged_in, bank_code="0001", branch_query="丸の内中央", action="find_branch")
    assert found.status_code == 200
    text = found.text
    assert ("004", "丸の内中央（004）", True) in _options(text, "branch_code")
    assert ("0001", "みずほ銀行（0001）", True) in _options(text, "bank_code")


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        (
            {"bank_query": "存在しない銀行", "action": "find_bank"},
            "bank_query",
            "金融機関はありません",
        ),
        ({"bank_query": "", "action": "find_bank"}, "bank_query", "名前の一部を入力"),
        ({"bank_query": "<script>", "action": "find_bank"}, "bank_query", "金融機関はありません"),
        (
            {"branch_query": "丸の内", "action": "find_branch"},
            "branch_query",
            "先に金融機関を選んで",
        ),
        (
            {"bank_code": "0001", "branch_query": "ない支店", "action": "find_branch"},
            "branch_query",
            "みずほ銀行に「ない支店」に当たる支店はありません",
        ),
    ],
)
def test_a_search_that_finds_nothing_says_what_to_do(
    logged_in: TestClient, values: dict[str, str], field: str, expected: str
) -> None:
    found = _post(logged_in, **values)
    assert found.status_code == 422
    text = found.text
    error = re.search(rf'<span class="error" id="{field}-error">([^<]*)</span>', text)
    assert error, text
    assert expected in error.group(1)
    assert f'aria-describedby="{field}-hint {field}-error"' in text


@pytest.mark.parametrize(
    ("bank", "branch", "field", "expected"),
    [
        ("1234", "999", "bank_code", "金融機関コード 1234 の金融機関はありません"),
        ("0001", "999", "branch_code", "みずほ銀行に支店コード 999 の支店はありません"),
        ("abcd", "123", "bank_code", "4桁"),
    ],
)
def test_a_bank_or_branch_that_does_not_exist_is_never_saved(
    logged_in: TestClient, session: Session, bank: str, branch: str, field: str, expected: str
) -> None:
    refused = _post(logged_in, bank_code=bank, branch_code=branch)
    assert refused.status_code == 422
    text = refused.text
    error = re.search(rf'<span class="error" id="{field}-error">([^<]*)</span>', text)
    assert error, text
    assert expected in error.group(1)
    # What was sent stays on the form to correct.
    assert (bank, bank, True) in _options(text, "bank_code") or field != "bank_code"
    session.expire_all()
    taro = registry.ensure_personas(session=session)["taro"].id
    assert registry.get_account(session=session, resident_id=taro) is None


@pytest.mark.parametrize("field", ["bank_code", "branch_code", "bank_query", "action"])
def test_a_huge_value_is_refused_not_a_server_error(logged_in: TestClient, field: str) -> None:
    refused = _post(logged_in, **{"bank_code": "0001", "branch_code": "123", field: "9" * 5000})
    assert 400 <= refused.status_code < 500
    # Only a crafted post sends this (the inputs stop at 40 characters): the general page.
    assert "送信内容をご確認ください" in refused.text


def test_the_account_shows_the_bank_and_branch_names(logged_in: TestClient) -> None:
    saved = _post(logged_in, bank_code="0001", branch_code="004")
    assert saved.status_code == 200  # the redirect, followed
    page = logged_in.get("/account").text
    assert "<dd>みずほ銀行（0001）</dd>" in page
    assert "<dd>丸の内中央（004）</dd>" in page
    confirm = logged_in.get("/account/delete").text
    assert "丸の内中央（004）" in confirm
    # Changing it starts from the bank and branch chosen.
    edit = logged_in.get("/account/edit").text
    assert ("004", "丸の内中央（004）", True) in _options(edit, "branch_code")
