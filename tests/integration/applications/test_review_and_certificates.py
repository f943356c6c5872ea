"""What residents hit on e-applications: files that keep the typed form, the review of
what is signed, 和暦 dates, and a signing certificate that cannot sign told in time."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from myna import jpki, notices
from myna.applications import forms, submission
from myna.applications.models import SigningRequest
from myna.bootstrap import Container
from myna.jpki.models import IssuedCertificate
from myna.platform.db import utcnow
from myna.reader import client as login_client
from myna.reader.app import create_reader_app
from tests.integration.applications.filing import PASSWORD, VALID_DISASTER
from tests.integration.portal.conftest import PIN, IssuedCard, portal, reader, taro_card

__all__ = ["portal", "reader", "taro_card"]  # the portal's fixtures, shared

PORTAL = "http://testserver"
FORM = "/apply/131016/disaster-certificate"
PDF = b"%PDF-1.4\n" + b"1" * 2000
REVOKED = (
    "署名用電子証明書が失効しているため、申請に署名できません。市区町村の窓口で再発行を受けてから"
)
EXPIRED = "署名用電子証明書の有効期限が切れているため、申請に署名できません。"


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


def _review(client: TestClient) -> str:
    csrf = _csrf(client.get(FORM).text)
    page = client.post(f"{FORM}/check", data={**_posted(VALID_DISASTER), "csrf_token": csrf})
    assert page.status_code == 200, re.findall(r"field-error[^>]*>([^<]+)", page.text)
    return page.text


def _press_sign(client: TestClient, review: str) -> object:
    key = re.search(r'name="submission_key" value="([^"]+)"', review)
    assert key
    return client.post(
        f"{FORM}/sign",
        data={"csrf_token": _csrf(review), "submission_key": key.group(1)},
        follow_redirects=False,
    )


def _revoke_signing(session: Session, issued: IssuedCard) -> None:
    certificate = issued.reader.read_certificate(issued.card_id, "sign")
    jpki.revoke_certificate(
        session=session,
        serial=certificate.serial_number,
        reason=jpki.RevocationReason.BASIC_INFO_CHANGE,
    )
    session.commit()


def _expire_signing(session: Session, issued: IssuedCard) -> None:
    session.execute(
        update(IssuedCertificate)
        .where(IssuedCertificate.holder_id == issued.resident_id, IssuedCertificate.kind == "sign")
        .values(not_after=utcnow() - timedelta(days=1))
    )
    session.commit()


def _signing_requests(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(SigningRequest)) or 0


# --- 1. attaching a file keeps what was typed ---------------------------------------


def test_attaching_a_file_keeps_everything_typed_in_the_form(logged_in: TestClient) -> None:
    page = logged_in.get(FORM).text
    assert 'form="apply-form"' in page  # the attach button posts the whole form
    typed = {"damaged_address": "東京都千代田区千代田1-1", "copies": "3", "phone": "03-1234-5678"}
    added = logged_in.post(
        f"{FORM}/attachments",
        data={**typed, "csrf_token": _csrf(page), "with_fields": "1"},
        files={"file": ("被害写真.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert added.status_code == 303
    again = logged_in.get(added.headers["location"]).text
    assert "被害写真.pdf" in again
    for value in typed.values():
        assert f'value="{value}"' in again


def test_a_refused_file_shows_the_form_again_with_what_was_typed(logged_in: TestClient) -> None:
    page = logged_in.get(FORM).text
    refused = logged_in.post(
        f"{FORM}/attachments",
        data={"csrf_token": _csrf(page), "with_fields": "1", "phone": "03-1234-5678"},
        files={"file": ("virus.pdf", b"MZ\x90\x00binary", "application/pdf")},
    )
    assert refused.status_code == 422
    assert 'id="attachment-error"' in refused.text
    assert "virus.pdf" in refused.text
    assert 'value="03-1234-5678"' in refused.text
    no_file = logged_in.post(
        f"{FORM}/attachments",
        data={"csrf_token": _csrf(page), "with_fields": "1", "copies": "2"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert no_file.status_code == 422
    assert "添付するファイルを選んでから" in no_file.text
    assert 'value="2"' in no_file.text


def test_removing_a_file_keeps_what_was_typed(logged_in: TestClient) -> None:
    csrf = _csrf(logged_in.get(FORM).text)
    logged_in.post(
        f"{FORM}/attachments",
        data={"csrf_token": csrf},
        files={"file": ("被害写真.pdf", PDF, "application/pdf")},
    )
    found = re.search(r"/attachments/(\d+)/delete", logged_in.get(FORM).text)
    assert found
    removed = logged_in.post(
        f"{FORM}/attachments/{found.group(1)}/delete",
        data={"csrf_token": csrf, "with_fields": "1", "damaged_address": "千代田1-1"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    again = logged_in.get(removed.headers["location"]).text
    assert "被害写真.pdf" not in again
    assert 'value="千代田1-1"' in again


def test_a_lone_upload_without_the_form_leaves_the_draft_as_it_was(
    logged_in: TestClient,
) -> None:
    csrf = _csrf(logged_in.get(FORM).text)
    logged_in.post(f"{FORM}/draft", data={"csrf_token": csrf, "phone": "03-1234-5678"})
    logged_in.post(
        f"{FORM}/attachments",
        data={"csrf_token": csrf},
        files={"file": ("a.pdf", PDF, "application/pdf")},
    )
    assert 'value="03-1234-5678"' in logged_in.get(FORM).text


# --- 2. the review shows what will be signed ------------------------------------------


def test_the_check_shows_a_read_only_review_of_what_will_be_signed(
    logged_in: TestClient, session: Session, taro_card: IssuedCard
) -> None:
    review = _review(logged_in)
    assert "<h1>申請内容の確認</h1>" in review
    inputs = re.findall(r"<input[^>]*>", review)
    assert all('type="hidden"' in i for i in inputs), inputs  # nothing to edit here
    assert "<textarea" not in review and "<select" not in review
    # The same words the card reader shows, built from the same document.
    document = submission.preview(
        session=session,
        procedures=logged_in.app.state.container.procedures,  # type: ignore[attr-defined]
        resident_id=taro_card.resident_id,
        municipality_code="131016",
        code="disaster-certificate",
    )
    for group in forms.document_answers(document):
        for label, value in group.answers:
            assert f"<dt>{label}</dt><dd>{html.escape(value)}</dd>" in review
    assert "<dd>令和8年9月15日</dd>" in review  # 和暦, not 2026-09-15
    assert "<dd>山田 太郎</dd>" in review
    assert "署名できる状態" in review
    assert "署名して提出" in review
    assert f'href="{FORM}" id="correct"' in review
    assert ">修正する<" in review


def test_correcting_goes_back_to_the_form_with_everything_kept(logged_in: TestClient) -> None:
    _review(logged_in)
    form = logged_in.get(FORM).text
    assert 'value="03-1234-5678"' in form
    assert 'value="2026-09-15"' in form
    assert "屋根瓦が飛ばされ" in form
    assert re.search(r'value="storm" selected', form)


def test_the_card_reader_shows_the_same_words_as_the_review(
    logged_in: TestClient, reader_app: TestClient
) -> None:
    review = _review(logged_in)
    answer = _press_sign(logged_in, review)
    signing = logged_in.get(answer.headers["location"])  # type: ignore[attr-defined]
    link = re.search(r'href="(http://[^"]+/sign\?request_uri=[^"]+)"', signing.text)
    assert link
    request_uri = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["request_uri"][0]
    shown = reader_app.get("/sign", params={"request_uri": request_uri}).text
    pairs = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", review)
    assert ("被災した日", "令和8年9月15日") in pairs
    for label, value in pairs:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in shown, label


# --- 4. dates in 和暦 on the receipt, the notice and 申請履歴 ---------------------


def test_the_receipt_its_notice_and_the_history_read_dates_in_wareki(
    logged_in: TestClient, reader_app: TestClient, taro_card: IssuedCard, session: Session
) -> None:
    answer = _press_sign(logged_in, _review(logged_in))
    signing = logged_in.get(answer.headers["location"])  # type: ignore[attr-defined]
    assert "令和" in signing.text
    link = re.search(r'href="(http://[^"]+/sign\?request_uri=[^"]+)"', signing.text)
    assert link
    request_uri = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["request_uri"][0]
    shown = reader_app.get("/sign", params={"request_uri": request_uri})
    done = reader_app.post(
        "/sign",
        data={
            "request_uri": request_uri,
            "card_id": taro_card.card_id,
            "password": PASSWORD,
            "csrf_token": _csrf(shown.text),
        },
    )
    number = re.search(r"<strong>([0-9A-Z-]{19})</strong>", done.text)
    assert number
    detail = logged_in.get(f"/applications/{number.group(1)}").text
    assert "<dd>令和8年9月15日</dd>" in detail
    assert "2026-09-15" not in detail
    listing = logged_in.get("/applications").text
    assert re.search(r"<td>令和\d+年\d+月\d+日</td>", listing)
    inbox = notices.inbox(session=session, resident_id=taro_card.resident_id)
    receipt = next(item for item in inbox.items if "受け付けました" in item.title)
    body = notices.get_notice(
        session=session, resident_id=taro_card.resident_id, notice_id=receipt.id
    ).notice.body
    assert re.search(r"受付日時: 令和\d+年\d+月\d+日 \d\d:\d\d", body)
    assert not re.search(r"\d{4}-\d\d-\d\d", body)


# --- 5. a signing certificate that cannot sign, told before the card reader -----------


def test_a_revoked_signing_certificate_is_told_before_any_signing_request(
    logged_in: TestClient, session: Session, taro_card: IssuedCard
) -> None:
    review = _review(logged_in)
    _revoke_signing(session, taro_card)
    before = _signing_requests(session)
    answer = _press_sign(logged_in, review)
    assert answer.status_code == 409  # type: ignore[attr-defined]
    text = answer.text  # type: ignore[attr-defined]
    assert REVOKED in text
    assert 'role="alert"' in text
    assert 'id="ready"' not in text  # no button that could only fail again
    assert _signing_requests(session) == before


def test_an_expired_signing_certificate_is_told_before_any_signing_request(
    logged_in: TestClient, session: Session, taro_card: IssuedCard
) -> None:
    review = _review(logged_in)
    _expire_signing(session, taro_card)
    before = _signing_requests(session)
    answer = _press_sign(logged_in, review)
    assert answer.status_code == 409  # type: ignore[attr-defined]
    assert EXPIRED in answer.text  # type: ignore[attr-defined]
    assert _signing_requests(session) == before


@pytest.mark.parametrize(
    ("spoil", "code", "message"),
    [
        (_revoke_signing, "signing_certificate_revoked", REVOKED),
        (_expire_signing, "signing_certificate_expired", EXPIRED),
    ],
)
def test_the_waiting_page_stops_with_an_error_when_the_certificate_cannot_sign(
    logged_in: TestClient,
    session: Session,
    taro_card: IssuedCard,
    spoil: object,
    code: str,
    message: str,
) -> None:
    answer = _press_sign(logged_in, _review(logged_in))
    location = answer.headers["location"]  # type: ignore[attr-defined]
    assert logged_in.get(f"{location}/status").json() == {"state": "pending"}
    spoil(session, taro_card)  # type: ignore[operator]
    state = logged_in.get(f"{location}/status").json()
    assert state["state"] == "error"
    assert state["error"] == code
    assert message in state["message"]
    page = logged_in.get(location).text
    error_block = re.search(
        r'<div class="notice notice-error" role="alert" id="signing-error">', page
    )
    assert error_block  # shown without scripts, and not hidden
    assert message in page
    assert 'id="signing" data-request' in page and "hidden>" in page
    english = logged_in.get(f"{location}/status", headers={"Accept-Language": "en"}).json()
    assert "revoked" in english["message"] or "expired" in english["message"]


def test_the_standing_of_signing_certificates_comes_from_the_ca_record(
    session: Session, taro_card: IssuedCard
) -> None:
    holder = taro_card.resident_id
    assert jpki.signing_standing(session=session, holder_id=holder) is jpki.SigningStanding.VALID
    assert (
        jpki.signing_standing(session=session, holder_id=holder, at=utcnow() + timedelta(days=4000))
        is jpki.SigningStanding.EXPIRED
    )
    assert (
        jpki.signing_standing(session=session, holder_id=holder + 10_000)
        is jpki.SigningStanding.MISSING
    )
    _revoke_signing(session, taro_card)
    assert jpki.signing_standing(session=session, holder_id=holder) is jpki.SigningStanding.REVOKED
