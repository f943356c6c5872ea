"""The resident's notice pages: inbox, reading, archiving with the page's CSRF token."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import notices, registry
from myna.reader import client as login_client
from tests.integration.notices.conftest import CHIYODA, content, link_code
from tests.integration.portal.conftest import PIN, IssuedCard

PORTAL = "http://testserver"
PDF = b"%PDF-1.7\n" + b"x" * 64


@pytest.fixture
def sent(session: Session, taro_card: IssuedCard) -> dict[str, notices.NoticeRead]:
    residents = registry.ensure_personas(session=session)
    direct = notices.send_notice(
        session=session,
        sender=CHIYODA,
        audience=notices.ToResident(link_code(session, residents["taro"])),
        content=content(
            "納税通知書<発送>",
            body="一行目\n二行目\n\n<script>alert(1)</script>",
            action_url="/services/child-allowance",
            attachments=[{"name": "案内.pdf", "media_type": "application/pdf", "data": PDF}],
        ),
    )
    other = notices.send_notice(
        session=session,
        sender=CHIYODA,
        audience=notices.ToResident(link_code(session, residents["misaki"])),
        content=content("美咲さんへ"),
    )
    session.commit()
    return {"direct": direct, "other": other}


@pytest.fixture
def logged_in(portal: TestClient, taro_card: IssuedCard) -> TestClient:
    login_client.login(
        portal, PORTAL, taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    )
    return portal


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_inbox_shows_unread_count_category_and_deadline(
    logged_in: TestClient, sent: dict[str, notices.NoticeRead]
) -> None:
    page = logged_in.get("/notices")
    assert page.status_code == 200
    assert "未読のお知らせ：1件" in page.text
    assert "納税通知書&lt;発送&gt;" in page.text
    assert "手続" in page.text
    assert "令和9年3月31日" in page.text  # the deadline in 和暦
    assert "美咲さんへ" not in page.text


def test_opening_a_notice_marks_it_read_and_escapes_the_body(
    logged_in: TestClient, sent: dict[str, notices.NoticeRead]
) -> None:
    page = logged_in.get(f"/notices/{sent['direct'].id}")
    assert page.status_code == 200
    assert "<p>一行目<br>二行目</p>" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert 'href="/services/child-allowance"' in page.text
    assert "未読のお知らせ：0件" in logged_in.get("/notices").text


def test_an_attachment_downloads_for_its_resident(
    logged_in: TestClient, sent: dict[str, notices.NoticeRead]
) -> None:
    notice = sent["direct"]
    response = logged_in.get(f"/notices/{notice.id}/attachments/{notice.attachments[0].id}")
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment")


def test_another_residents_notice_is_not_found(
    logged_in: TestClient, sent: dict[str, notices.NoticeRead]
) -> None:
    assert logged_in.get(f"/notices/{sent['other'].id}").status_code == 404


def test_archiving_needs_the_pages_csrf_token(
    logged_in: TestClient, sent: dict[str, notices.NoticeRead]
) -> None:
    notice_id = sent["direct"].id
    forged = logged_in.post(f"/notices/{notice_id}/archive", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    token = _csrf(logged_in.get(f"/notices/{notice_id}").text)
    done = logged_in.post(
        f"/notices/{notice_id}/archive", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "納税通知書" not in logged_in.get("/notices").text
    assert "納税通知書" in logged_in.get("/notices?archived=true").text
    logged_in.post(f"/notices/{notice_id}/archive", data={"csrf_token": token, "restore": "true"})
    assert "納税通知書" in logged_in.get("/notices").text


def test_the_inbox_needs_a_login(portal: TestClient) -> None:
    assert portal.get("/notices", follow_redirects=False).status_code == 303
