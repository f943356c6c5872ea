"""The logged-in resident's menu in the shared layout, on every page of theirs."""

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
MENU = 'aria-label="メインメニュー"'
# Pages of several contexts: the portal, notices, applications, partners, moves.
RESIDENT_PAGES = [
    "/home",
    "/my-info",
    "/exchanges",
    "/notices",
    "/account",
    "/applications",
    "/consents",
    "/moves",
]


@pytest.fixture
def logged_in(portal: TestClient, taro_card: IssuedCard, session: Session) -> TestClient:
    taro = registry.ensure_personas(session=session)["taro"]
    notices.send_notice(
        session=session,
        sender=CHIYODA,
        audience=notices.ToResident(link_code(session, taro)),
        content=content("児童手当の現況確認"),
    )
    session.commit()
    login_client.login(
        portal, PORTAL, taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    )
    return portal


def _menu(page: str) -> str:
    found = re.search(r'<nav aria-label="メインメニュー".*?</nav>', page, re.DOTALL)
    assert found, "no menu on the page"
    return found.group(0)


@pytest.mark.parametrize("path", RESIDENT_PAGES)
def test_every_resident_page_shows_the_menu_with_logout_and_the_unread_count(
    logged_in: TestClient, path: str
) -> None:
    page = logged_in.get(path)
    assert page.status_code == 200
    menu = _menu(page.text)
    for href, label in [
        ("/home", "ホーム"),
        ("/my-info", "わたしの情報"),
        ("/exchanges", "やりとり履歴"),
        ("/notices", "お知らせ"),
        ("/applications", "申請"),
        ("/account", "公金受取口座"),
    ]:
        assert re.search(rf'<a href="{href}"[^>]*>{label}', menu), label
    assert "未読1件" in menu
    assert '<form method="post" action="/logout"' in menu
    assert re.search(r'name="csrf_token" value="[^"]+"', menu)


def test_the_menu_marks_the_page_the_resident_is_on(logged_in: TestClient) -> None:
    menu = _menu(logged_in.get("/account").text)
    assert '<a href="/account" aria-current="page">' in menu
    assert '<a href="/home" aria-current' not in menu


def test_home_shows_the_unread_count_beside_notices(logged_in: TestClient) -> None:
    page = logged_in.get("/home").text
    main = page.split('<main id="main"', 1)[1]
    assert re.search(r'<a href="/notices">お知らせ</a> <strong>未読1件</strong>', main)


def test_the_count_goes_down_once_the_notice_is_read(logged_in: TestClient) -> None:
    inbox = logged_in.get("/notices").text
    opened = re.search(r'href="/notices/(\d+)"', inbox)
    assert opened
    logged_in.get(f"/notices/{opened.group(1)}")
    assert "未読" not in _menu(logged_in.get("/home").text)


def test_logging_out_from_the_menu_ends_the_session(logged_in: TestClient) -> None:
    menu = _menu(logged_in.get("/exchanges").text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', menu)
    assert token
    response = logged_in.post(
        "/logout", data={"csrf_token": token.group(1)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/?logged_out=1"
    assert logged_in.get("/home", follow_redirects=False).status_code == 303


def test_pages_without_a_logged_in_resident_have_no_menu(portal: TestClient) -> None:
    for path in ("/", "/login", "/services"):
        page = portal.get(path)
        assert page.status_code == 200
        assert MENU not in page.text, path


def test_the_login_page_speaks_of_this_device_not_a_computer(portal: TestClient) -> None:
    page = portal.get("/login").text
    assert "この端末でカードリーダーを開いてください" in page
    assert "パソコン" not in page


def test_the_language_switch_comes_back_to_the_page_with_its_query(
    logged_in: TestClient,
) -> None:
    page = logged_in.get("/exchanges", params={"page": "1"}).text
    assert 'href="/language?lang=en&amp;next=/exchanges%3Fpage%3D1"' in page
