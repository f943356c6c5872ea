"""Signing an e-application through the pages and the card reader, as a resident does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import network, notices
from myna.applications.models import Application
from myna.bootstrap import Container
from myna.network.transparency.models import LogEntryRow as LogEntry
from myna.platform.settings import Settings
from myna.reader import client as login_client
from myna.reader.app import create_reader_app
from tests.integration.applications.filing import PASSWORD, VALID_DISASTER
from tests.integration.portal.conftest import PIN, IssuedCard, issue, portal, reader, taro_card

__all__ = ["portal", "reader", "taro_card"]  # the portal's fixtures, shared

PORTAL = "http://testserver"
FORM = "/apply/131016/disaster-certificate"
PDF = b"%PDF-1.4\n" + b"1" * 2000


def _posted(data: dict[str, object]) -> dict[str, str]:
    return {k: ("on" if v is True else str(v)) for k, v in data.items()}


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found
    return found.group(1)


@pytest.fixture
def logged_in(portal: TestClient, taro_card: IssuedCard) -> TestClient:
    login_client.login(
        portal, PORTAL, taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    )
    return portal


@pytest.fixture
def reader_app(container: Container, portal: TestClient) -> Iterator[TestClient]:
    api = TestClient(portal.app, base_url=PORTAL)
    with TestClient(create_reader_app(container, http_client=api), base_url="http://reader") as c:
        yield c


def _ready(client: TestClient) -> str:
    """Check a complete form; the ready page carries the sign form with its key."""
    csrf = _csrf(client.get(FORM).text)
    page = client.post(f"{FORM}/check", data={**_posted(VALID_DISASTER), "csrf_token": csrf})
    assert page.status_code == 200, re.findall(r"field-error[^>]*>([^<]+)", page.text)
    assert f'action="{FORM}/sign"' in page.text
    return page.text


def _sign_request(client: TestClient) -> tuple[str, str]:
    """Press 署名して提出; the signing page's id and its reader link's request_uri."""
    page = _ready(client)
    key = re.search(r'name="submission_key" value="([^"]+)"', page)
    assert key
    answer = client.post(
        f"{FORM}/sign",
        data={"csrf_token": _csrf(page), "submission_key": key.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/apply/sign/")
    signing = client.get(location)
    assert signing.status_code == 200
    link = re.search(r'href="(http://[^"]+/sign\?request_uri=[^"]+)"', signing.text)
    assert link
    request_uri = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["request_uri"][0]
    return location.rsplit("/", 1)[1], request_uri


def _reader_sign(reader_app: TestClient, request_uri: str, card_id: str, password: str) -> str:
    shown = reader_app.get("/sign", params={"request_uri": request_uri})
    assert shown.status_code == 200
    assert "罹災証明書" in shown.text
    answer = reader_app.post(
        "/sign",
        data={
            "request_uri": request_uri,
            "card_id": card_id,
            "password": password,
            "csrf_token": _csrf(shown.text),
        },
    )
    return answer.text if answer.status_code == 200 else f"{answer.status_code}:{answer.text}"


def _applications(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Application)) or 0


def test_a_resident_signs_with_the_reader_and_sees_the_receipt(
    logged_in: TestClient, reader_app: TestClient, taro_card: IssuedCard, session: Session
) -> None:
    request_id, request_uri = _sign_request(logged_in)
    assert logged_in.get(f"/apply/sign/{request_id}/status").json() == {"state": "pending"}
    done = _reader_sign(reader_app, request_uri, taro_card.card_id, PASSWORD)
    receipt = re.search(r"<strong>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</strong>", done)
    assert receipt, done
    number = receipt.group(1)
    status = logged_in.get(f"/apply/sign/{request_id}/status").json()
    assert status == {
        "state": "signed",
        "receipt_number": number,
        "done_url": f"/applications/{number}",
    }
    # The waiting page now leads to the receipt.
    again = logged_in.get(f"/apply/sign/{request_id}", follow_redirects=False)
    assert again.headers["location"] == f"/applications/{number}"
    detail = logged_in.get(f"/applications/{number}")
    assert detail.status_code == 200
    assert "受付" in detail.text
    assert "台風" in detail.text or "storm" not in detail.text
    listing = logged_in.get("/applications")
    assert number in listing.text
    content = logged_in.get(f"/applications/{number}/application.json")
    assert content.headers["content-type"].startswith("application/json")
    assert content.json()["data"] == VALID_DISASTER
    signature = logged_in.get(f"/applications/{number}/application.p7s")
    assert signature.content[:1] == b"\x30"
    inbox = notices.inbox(session=session, resident_id=taro_card.resident_id)
    assert any("受け付けました" in item.title for item in inbox.items)


def test_a_wrong_password_files_nothing_and_says_how_many_tries_remain(
    logged_in: TestClient, reader_app: TestClient, taro_card: IssuedCard, session: Session
) -> None:
    _request_id, request_uri = _sign_request(logged_in)
    page = _reader_sign(reader_app, request_uri, taro_card.card_id, "WRONG999")
    assert page.startswith("400:")
    assert "4" in page  # tries left
    assert _applications(session) == 0


def test_pressing_sign_twice_leads_to_the_same_request(logged_in: TestClient) -> None:
    page = _ready(logged_in)
    key = re.search(r'name="submission_key" value="([^"]+)"', page)
    assert key
    data = {"csrf_token": _csrf(page), "submission_key": key.group(1)}
    first = logged_in.post(f"{FORM}/sign", data=data, follow_redirects=False)
    second = logged_in.post(f"{FORM}/sign", data=data, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]


def test_another_resident_cannot_open_the_signing_page_or_the_receipt(
    logged_in: TestClient,
    reader_app: TestClient,
    taro_card: IssuedCard,
    container: Container,
    session: Session,
    settings: Settings,
    reader: object,
) -> None:
    request_id, request_uri = _sign_request(logged_in)
    done = _reader_sign(reader_app, request_uri, taro_card.card_id, PASSWORD)
    number = re.search(r"<strong>([0-9A-Z-]{19})</strong>", done)
    assert number
    hanako = issue(session, settings, taro_card.reader, "hanako")
    with TestClient(logged_in.app, base_url=PORTAL) as other:
        login_client.login(other, PORTAL, hanako.reader.open_session(hanako.card_id, "auth", PIN))
        assert other.get(f"/apply/sign/{request_id}").status_code == 404
        assert other.get(f"/applications/{number.group(1)}").status_code == 404
        assert other.get(f"/applications/{number.group(1)}/application.json").status_code == 404
        assert number.group(1) not in other.get("/applications").text


def test_the_reader_refuses_a_signing_request_from_an_untrusted_site(
    reader_app: TestClient,
) -> None:
    page = reader_app.get(
        "/sign", params={"request_uri": "https://evil.example/api/signing-requests/abc"}
    )
    assert page.status_code == 400
    assert "evil.example" in page.text


def test_the_signing_api_refuses_garbage_and_unknown_requests(logged_in: TestClient) -> None:
    assert logged_in.get("/api/signing-requests/" + "x" * 43).status_code == 404
    answer = logged_in.post(
        "/api/signing-requests/" + "x" * 43 + "/response", json={"signature": "!!!" * 10}
    )
    assert answer.status_code in (400, 404)
    assert answer.json()["error"]


def test_attachments_are_uploaded_listed_refused_and_removed(logged_in: TestClient) -> None:
    csrf = _csrf(logged_in.get(FORM).text)
    added = logged_in.post(
        f"{FORM}/attachments",
        data={"csrf_token": csrf},
        files={"file": ("被害写真.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert added.status_code == 303
    page = logged_in.get(FORM).text
    assert "被害写真.pdf" in page
    wrong = logged_in.post(
        f"{FORM}/attachments",
        data={"csrf_token": csrf},
        files={"file": ("virus.pdf", b"MZ\x90\x00binary", "application/pdf")},
    )
    assert wrong.status_code == 422
    assert "virus.pdf" in wrong.text
    huge = logged_in.post(
        f"{FORM}/attachments",
        data={"csrf_token": csrf},
        files={"file": ("huge.pdf", b"%PDF-" + b"0" * (6 * 1024 * 1024), "application/pdf")},
    )
    assert huge.status_code == 413
    attachment_id = re.search(r"/attachments/(\d+)/delete", page)
    assert attachment_id
    removed = logged_in.post(
        f"{FORM}/attachments/{attachment_id.group(1)}/delete",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert "被害写真.pdf" not in logged_in.get(FORM).text


def _raw_upload(csrf: str, filename: bytes, data: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart body written by hand: HTTP clients escape control bytes in file names."""
    boundary = b"myna-test-boundary"
    body = b"".join(
        [
            b"--" + boundary + b"\r\n",
            b'Content-Disposition: form-data; name="csrf_token"\r\n\r\n',
            csrf.encode() + b"\r\n",
            b"--" + boundary + b"\r\n",
            b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n',
            b"Content-Type: application/pdf\r\n\r\n",
            data + b"\r\n",
            b"--" + boundary + b"--\r\n",
        ]
    )
    return body, {"content-type": f"multipart/form-data; boundary={boundary.decode()}"}


@pytest.mark.parametrize(
    "filename",
    [
        "証拠\x00写真.pdf".encode(),  # a raw NUL byte, as a hand-made request sends it
        "証拠\x1b写真.pdf".encode(),
        "\u202e証拠写真.pdf".encode(),  # right-to-left override
    ],
)
def test_an_attachment_name_with_a_control_character_is_refused_and_not_kept(
    logged_in: TestClient, filename: bytes
) -> None:
    body, headers = _raw_upload(_csrf(logged_in.get(FORM).text), filename, PDF)
    refused = logged_in.post(f"{FORM}/attachments", content=body, headers=headers)
    assert refused.status_code == 422
    assert "ファイル名は120文字以内で、スラッシュや制御文字を含めないでください。" in refused.text
    assert "証拠" not in logged_in.get(FORM).text


def test_a_hand_made_upload_with_a_plain_name_is_kept(logged_in: TestClient) -> None:
    body, headers = _raw_upload(_csrf(logged_in.get(FORM).text), "証拠写真.pdf".encode(), PDF)
    added = logged_in.post(f"{FORM}/attachments", content=body, headers=headers)
    assert added.status_code == 200
    assert "証拠写真.pdf" in logged_in.get(FORM).text


def test_an_upload_without_the_csrf_token_is_refused(logged_in: TestClient) -> None:
    answer = logged_in.post(
        f"{FORM}/attachments", files={"file": ("a.pdf", PDF, "application/pdf")}
    )
    assert answer.status_code == 403


def test_prefill_fills_only_the_agreed_group_and_is_logged(
    logged_in: TestClient, session: Session
) -> None:
    network.seed_agency_data(session=session, seed=1)
    session.commit()
    before = session.scalar(select(func.count()).select_from(LogEntry)) or 0
    csrf = _csrf(logged_in.get(FORM).text)
    none = logged_in.post(f"{FORM}/prefill", data={"csrf_token": csrf})
    assert none.status_code == 422
    done = logged_in.post(f"{FORM}/prefill", data={"csrf_token": csrf, "group": "被害を受けた建物"})
    assert done.status_code == 200
    value = re.search(r'name="damaged_address" type="text" value="([^"]+)"', done.text)
    assert value and value.group(1)
    session.expire_all()
    assert (session.scalar(select(func.count()).select_from(LogEntry)) or 0) > before
    history = logged_in.get("/exchanges").text
    assert "電子申請の入力補助" in history


def test_five_wrong_passwords_lock_the_signing_certificate_and_file_nothing(
    logged_in: TestClient, reader_app: TestClient, taro_card: IssuedCard, session: Session
) -> None:
    _request_id, request_uri = _sign_request(logged_in)
    for _ in range(5):
        page = _reader_sign(reader_app, request_uri, taro_card.card_id, "WRONG999")
        assert page.startswith("400:")
    assert "ロック" in page
    locked = _reader_sign(reader_app, request_uri, taro_card.card_id, PASSWORD)
    assert locked.startswith("400:")
    assert "ロック" in locked
    summary = taro_card.reader.summary(taro_card.card_id)
    assert summary.sign_locked
    assert not summary.auth_locked  # the authentication certificate still logs in
    assert _applications(session) == 0


GOOD_ID = "A" * 43


@pytest.mark.parametrize(
    ("request_id", "body"),
    [
        ("short", {"signature": "A" * 100}),  # the id: 20 to 64 characters
        ("A" * 42 + "!", {"signature": "A" * 100}),  # the id: base64url characters only
        (GOOD_ID, {}),  # no signature
        (GOOD_ID, {"signature": "A" * 100, "certificate": "x"}),  # an unknown member
        (GOOD_ID, {"signature": "A" * 15}),  # under 16 characters
        (GOOD_ID, {"signature": "A" * 90_001}),  # over 90,000 characters
        (GOOD_ID, {"signature": 12345678901234567}),  # not a string
    ],
)
def test_the_signing_api_answers_a_malformed_request_422_as_documented(
    portal: TestClient, request_id: str, body: dict[str, object]
) -> None:
    response = portal.post(f"/api/signing-requests/{request_id}/response", json=body)
    assert response.status_code == 422
    assert set(response.json()) == {"error", "message"}
    assert response.json()["error"] == "invalid_request"


def test_the_signing_api_answers_a_body_that_is_not_json_422(portal: TestClient) -> None:
    response = portal.post(
        f"/api/signing-requests/{GOOD_ID}/response",
        content=b"signature=abc",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
