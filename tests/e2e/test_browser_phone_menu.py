"""On a phone (390×844): the resident's menu on every page, home, the reader in English."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from myna import agencies, network, notices, registry
from myna.platform.db import unit_of_work
from tests.e2e.conftest import PIN, Platform
from tests.e2e.test_browser_applications import (
    MUNICIPALITY,
    TARO,
    _assert_accessible,
    _assert_fits_a_phone,
    _login,
)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
MENU_LINKS = ["ホーム", "わたしの情報", "やりとり履歴", "お知らせ", "申請", "公金受取口座"]


def _phone(browser: Browser) -> BrowserContext:
    return browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True, has_touch=True)


def _send_notice(platform: Platform, title: str) -> None:
    sender = agencies.municipality_agency_code(MUNICIPALITY)
    with unit_of_work(platform.container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        notices.send_notice(
            session=session,
            sender=sender,
            audience=notices.ToResident(
                link_code=network.link_code_for_resident(
                    session=session, resident_id=taro.id, agency_code=sender
                )
            ),
            content=notices.NoticeCreate(
                title=title, body="本文です。", category=notices.Category.PROCEDURE
            ),
        )


def _assert_one_line(page: Page, selector: str) -> None:
    """The element's text sits on one line (not one character per line)."""
    lines = page.locator(selector).evaluate(
        """element => {
            const range = document.createRange();
            range.selectNodeContents(element);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        }"""
    )
    assert lines == 1


def test_the_menu_takes_a_resident_everywhere_on_a_phone_and_logs_out(
    browser: Browser, platform: Platform
) -> None:
    title = f"現況届のご案内 {uuid.uuid4().hex[:6]}"
    _send_notice(platform, title)
    context = _phone(browser)
    page = _login(context, platform)

    menu = page.get_by_role("navigation", name="メインメニュー")
    expect(menu).to_be_visible()
    for name in MENU_LINKS:
        expect(menu.get_by_role("link", name=name, exact=False).first).to_be_visible()
    expect(menu.get_by_role("link", name="ホーム")).to_have_attribute("aria-current", "page")
    expect(menu.get_by_role("link", name="お知らせ")).to_contain_text("未読")
    expect(page.get_by_role("main").get_by_text("未読", exact=False).first).to_be_visible()
    # The card's expiry reads on one line, its term above it.
    _assert_one_line(page, "dt:has-text('利用者証明用電子証明書の有効期限') + dd")
    expect(page.get_by_text("パソコン")).to_have_count(0)
    _assert_fits_a_phone(page)
    _assert_accessible(page)

    for name, heading in [
        ("わたしの情報", "わたしの情報"),
        ("やりとり履歴", "やりとり履歴"),
        ("公金受取口座", "公金受取口座"),
        ("お知らせ", "お知らせ"),
    ]:
        menu.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        expect(menu.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
        _assert_fits_a_phone(page)
        _assert_accessible(page)

    # Reading the notice takes it off the count.
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    page.goto(f"{platform.portal}/consents")
    expect(menu).to_be_visible()
    _assert_fits_a_phone(page)
    _assert_accessible(page)

    menu.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_text("ログアウトしました。")).to_be_visible()
    expect(page.get_by_role("navigation", name="メインメニュー")).to_have_count(0)
    context.close()


def test_the_login_page_on_a_phone_speaks_of_this_device(
    browser: Browser, platform: Platform
) -> None:
    context = _phone(browser)
    page = context.new_page()
    page.goto(f"{platform.portal}/login")
    expect(page.get_by_text("この端末でカードリーダーを開いてください")).to_be_visible()
    expect(page.get_by_text("パソコン", exact=False)).to_have_count(0)
    _assert_fits_a_phone(page)
    _assert_accessible(page)
    context.close()


def test_the_reader_in_english_keeps_the_pending_login(
    browser: Browser, platform: Platform
) -> None:
    context = _phone(browser)
    portal = context.new_page()
    portal.goto(f"{platform.portal}/login")
    href = portal.get_by_role("link", name="カードリーダーを開く").get_attribute("href")
    assert href
    reader = context.new_page()
    reader.goto(href)
    reader.get_by_role("link", name="English").click()
    expect(reader.get_by_role("heading", level=1)).to_have_text("Log in with your card")
    expect(reader.get_by_text(platform.portal)).to_be_visible()
    expect(reader.get_by_text("does not trust", exact=False)).to_have_count(0)
    expect(reader.get_by_role("alert")).to_have_count(0)
    pin = reader.get_by_label("User authentication PIN (4 digits)")
    expect(pin).to_be_visible()
    _assert_fits_a_phone(reader)
    _assert_accessible(reader)

    # The login goes through in English, and the portal logs in by itself.
    reader.get_by_role("radio", name=re.compile(TARO)).check()
    pin.fill(PIN)
    reader.get_by_role("button", name="Answer with this card").click()
    expect(reader.locator("#reader-done")).to_be_visible()
    portal.wait_for_url(f"{platform.portal}/home")
    context.close()
