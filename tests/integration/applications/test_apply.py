"""E-application pages: the form, drafts that only their owner sees, and the check."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import card
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.portal.conftest import PIN, IssuedCard, issue, portal, reader, taro_card

__all__ = ["portal", "reader", "taro_card"]  # the portal's fixtures, shared

PORTAL = "http://testserver"
FORM = "/apply/131016/pregnancy-notification"
COMPLETE = {
    "diagnosis_date": "2026-10-01",
    "due_date": "2027-05-20",
    "weeks": "9",
    "multiple": "single",
    "clinic_name": "千代田産婦人科クリニック",
    "first_pregnancy": "yes",
    "phone": "090-1234-5678",
}


def _login(client: TestClient, issued: IssuedCard) -> TestClient:
    login_client.login(client, PORTAL, issued.reader.open_session(issued.card_id, "auth", PIN))
    return client


@pytest.fixture
def logged_in(portal: TestClient, taro_card: IssuedCard) -> TestClient:
    return _login(portal, taro_card)


def _csrf(client: TestClient, url: str = FORM) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text)
    assert found
    return found.group(1)


def test_the_form_renders_every_field_with_its_label(logged_in: TestClient) -> None:
    page = logged_in.get(FORM)
    assert page.status_code == 200
    html = page.text
    assert "<h1>妊娠の届出</h1>" in html
    for name in ("diagnosis_date", "due_date", "weeks", "clinic_name", "phone", "notes"):
        assert f'<label for="field-{name}">' in html
    assert "<legend>妊娠について</legend>" in html
    assert "（必須）" in html
    assert 'aria-describedby="field-due_date-help"' in html
    assert 'type="date"' in html
    assert 'type="radio" name="multiple" value="single"' in html


def test_the_form_needs_a_login(portal: TestClient) -> None:
    response = portal.get(FORM, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + FORM.replace("/", "%2F")


@pytest.mark.parametrize(
    "url",
    [
        "/apply/131016/chiyoda-next-generation-allowance",  # not online
        "/apply/131016/setagaya-childcare-voucher",  # offered by 世田谷区 only
        "/apply/131016/no-such-procedure",
    ],
)
def test_a_procedure_without_an_online_form_here_is_not_found(
    logged_in: TestClient, url: str
) -> None:
    assert logged_in.get(url).status_code == 404


def test_a_draft_is_saved_even_when_invalid_and_resumed(logged_in: TestClient) -> None:
    saved = logged_in.post(
        f"{FORM}/draft",
        data={"csrf_token": _csrf(logged_in), "weeks": "たくさん", "clinic_name": "千代田医院"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = logged_in.get(saved.headers["location"]).text
    assert "下書きを保存しました" in page
    assert 'value="たくさん"' in page
    assert 'value="千代田医院"' in page
    again = logged_in.get(FORM).text
    assert "下書きの続き" in again
    assert "aria-invalid" not in again  # a draft is not checked


def test_another_resident_cannot_see_the_draft(
    logged_in: TestClient,
    session: Session,
    settings: Settings,
    reader: card.VirtualCardReader,
) -> None:
    logged_in.post(
        f"{FORM}/draft", data={"csrf_token": _csrf(logged_in), "clinic_name": "千代田医院"}
    )
    hanako = issue(session, settings, reader, "hanako")
    logged_in.cookies.clear()
    page = _login(logged_in, hanako).get(FORM).text
    assert "千代田医院" not in page
    assert "下書きの続き" not in page


def test_the_check_shows_each_error_beside_its_field(logged_in: TestClient) -> None:
    response = logged_in.post(
        f"{FORM}/check",
        data={**COMPLETE, "csrf_token": _csrf(logged_in), "weeks": "99", "phone": "abc"},
    )
    assert response.status_code == 422
    html = response.text
    assert 'role="alert"' in html
    assert '<a href="#field-weeks">届出時の妊娠週数は45以下にしてください。</a>' in html
    assert 'id="field-weeks-error"' in html
    assert re.search(r'id="field-weeks"[^>]*aria-invalid="true"', html)
    assert "日中の電話番号の形式が正しくありません" in html
    assert re.search(r'id="field-clinic_name"[^>]*>', html)
    assert not re.search(r'id="field-clinic_name"[^>]*aria-invalid', html)


def test_a_complete_form_is_ready_to_sign(logged_in: TestClient) -> None:
    response = logged_in.post(f"{FORM}/check", data={**COMPLETE, "csrf_token": _csrf(logged_in)})
    assert response.status_code == 200
    assert "署名できる状態" in response.text
    assert 'role="alert"' not in response.text


def test_a_post_without_the_csrf_token_is_refused(logged_in: TestClient) -> None:
    logged_in.get(FORM)
    for action in ("draft", "check"):
        response = logged_in.post(f"{FORM}/{action}", data={**COMPLETE, "csrf_token": "forged"})
        assert 400 <= response.status_code < 500
    assert "下書きの続き" not in logged_in.get(FORM).text


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"])
def test_a_date_outside_the_range_is_a_field_error_not_a_server_error(
    logged_in: TestClient, day: str
) -> None:
    form = "/apply/131016/moving-out"
    response = logged_in.post(
        f"{form}/check",
        data={
            "csrf_token": _csrf(logged_in, form),
            "move_out_date": day,
            "move_in_date": day,
            "movers": "self",
            "new_municipality_code": "271004",
            "new_address": "北区梅田1-1-1",
            "phone": "03-1234-5678",
            "declaration": "on",
        },
    )
    assert response.status_code == 422
    html = response.text
    expected = "は1900-01-01から2100-12-31までの日付で入力してください。"
    for field, label in [
        ("move_out_date", "転出予定日"),
        ("move_in_date", "転入予定日（来庁予定日）"),
    ]:
        assert f'<a href="#field-{field}">{label}{expected}</a>' in html
        assert re.search(rf'id="field-{field}"[^>]*aria-invalid="true"', html)


@pytest.mark.parametrize(
    ("data", "files"),
    [
        ({"weeks": "9" * 5000, "notes": "あ" * 100_000}, None),
        ({"weeks": "\x00"}, None),
        ({f"f{i}": "x" for i in range(500)}, None),
        ({}, {"notes": ("a.txt", b"hello", "text/plain")}),
    ],
)
def test_garbage_input_gives_a_client_error_never_a_server_error(
    logged_in: TestClient, data: dict[str, str], files: dict[str, object] | None
) -> None:
    token = _csrf(logged_in)
    for action in ("draft", "check"):
        response = logged_in.post(
            f"{FORM}/{action}",
            data={"csrf_token": token, **data},
            files=files,
            follow_redirects=False,
        )
        assert response.status_code < 500
        assert response.status_code != 200 or action == "check"


def test_a_malformed_body_or_address_is_a_client_error(logged_in: TestClient) -> None:
    token = _csrf(logged_in)
    broken = logged_in.post(
        f"{FORM}/check",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\n\xff",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert 400 <= broken.status_code < 500
    assert logged_in.get("/apply/13101X/pregnancy-notification").status_code in {404, 422}
    assert 400 <= logged_in.get("/apply/999999/pregnancy-notification").status_code < 500
    assert logged_in.post("/apply/131016/..%2F/check", data={"csrf_token": token}).status_code < 500
