"""The 公金受取口座 pages: register, change, delete with confirmation; shown in わたしの情報."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import network, registry
from myna.platform.settings import Settings
from myna.reader import client as login_client
from myna.registry import accounts as registry_accounts
from tests.integration.portal.conftest import PIN, IssuedCard

PORTAL = "http://testserver"
ACCOUNT = {
    "bank_code": "0001",
    "branch_code": "123",
    "account_type": "普通",
    "number": "4567",
    "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ",
}


@pytest.fixture
def logged_in(portal: TestClient, taro_card: IssuedCard, session: Session) -> TestClient:
    network.seed_agency_data(session=session, seed=1)
    session.commit()
    login_client.login(
        portal, PORTAL, taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    )
    return portal


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _save(client: TestClient, **changes: str) -> object:
    token = _csrf(client.get("/account/edit").text)
    return client.post("/account", data={**ACCOUNT, **changes, "csrf_token": token})


def test_a_resident_registers_an_account_and_sees_it(logged_in: TestClient) -> None:
    assert "口座は登録されていません" in logged_in.get("/account").text
    response = logged_in.post(
        "/account",
        data={**ACCOUNT, "csrf_token": _csrf(logged_in.get("/account/edit").text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = logged_in.get("/account").text
    assert "みずほ銀行" in page
    assert "0004567" in page
    assert "ヤマダ　タロウ" in page
    assert "令和" in page


def test_a_wrong_form_shows_each_field_error_and_keeps_nothing(logged_in: TestClient) -> None:
    token = _csrf(logged_in.get("/account/edit").text)
    response = logged_in.post(
        "/account",
        data={**ACCOUNT, "branch_code": "12", "holder_kana": "サトウ ミサキ", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "支店コードは3桁" in response.text
    assert "口座名義があなたの氏名（カナ）と一致しません" in response.text
    assert 'aria-invalid="true"' in response.text
    assert "口座は登録されていません" in logged_in.get("/account").text


def test_a_resident_changes_the_account(logged_in: TestClient) -> None:
    _save(logged_in)
    _save(logged_in, bank_code="0009", number="7654321")
    page = logged_in.get("/account").text
    assert "三井住友銀行" in page
    assert "7654321" in page
    assert "変更" in page


def test_deleting_asks_for_confirmation_then_removes_the_account(logged_in: TestClient) -> None:
    _save(logged_in)
    confirm = logged_in.get("/account/delete")
    assert confirm.status_code == 200
    assert "口座を削除する" in confirm.text
    response = logged_in.post(
        "/account/delete", data={"csrf_token": _csrf(confirm.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    page = logged_in.get("/account").text
    assert "口座は登録されていません" in page
    assert "削除" in page


def test_the_forms_need_the_pages_csrf_token(logged_in: TestClient) -> None:
    assert logged_in.post("/account", data={**ACCOUNT, "csrf_token": "forged"}).status_code == 403
    _save(logged_in)
    assert logged_in.post("/account/delete", data={"csrf_token": "forged"}).status_code == 403
    assert "みずほ銀行" in logged_in.get("/account").text


def test_the_account_pages_need_a_login(portal: TestClient) -> None:
    for path in ("/account", "/account/edit", "/account/delete"):
        assert portal.get(path, follow_redirects=False).status_code == 303


def test_my_information_shows_the_registered_account(logged_in: TestClient) -> None:
    _save(logged_in)
    page = logged_in.get("/my-info")
    response = logged_in.post(
        "/my-info", data={"csrf_token": _csrf(page.text), "category": ["employment"]}
    )
    assert response.status_code == 200
    assert "公金受取口座" in response.text
    assert "0004567" in response.text
    assert "デジタル庁" in response.text


def test_one_resident_never_sees_or_changes_anothers_account(
    logged_in: TestClient, session: Session, settings: Settings
) -> None:
    hanako = registry.ensure_personas(session=session)["hanako"].id
    registry.register_account(
        session=session,
        resident_id=hanako,
        form=registry.AccountForm(
            bank_code="0010",
            branch_code="101",
            account_type="普通",
            number="1111111",
            holder_kana="ヤマダ ハナコ",
        ),
    )
    session.commit()
    assert "りそな銀行" not in logged_in.get("/account").text
    _save(logged_in)
    account = registry.get_account(session=session, resident_id=hanako)
    assert account is not None
    assert account.number == "1111111"


# 00:30 on 4 December in Japan, while the UTC date is still 3 December.
LATE_IN_UTC = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)


def test_an_account_registered_after_15_utc_is_dated_by_the_day_in_japan(
    logged_in: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_accounts, "utcnow", lambda: LATE_IN_UTC)
    _save(logged_in)

    account = logged_in.get("/account").text
    updated = re.search(r"<dt>最終更新日</dt><dd>([^<]+)</dd>", account)
    assert updated
    assert updated.group(1) == "令和8年12月4日"
    assert re.search(r"<td>令和8年12月4日</td><td>登録</td>", account)

    page = logged_in.get("/my-info")
    shown = logged_in.post(
        "/my-info", data={"csrf_token": _csrf(page.text), "category": ["employment"]}
    ).text
    registered = re.search(r"<dt>登録日</dt><dd>([^<]+)</dd>", shown)
    assert registered
    assert registered.group(1) == "令和8年12月4日"
