"""A resident logs in through the virtual card reader in a real browser (Chromium)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PIN, Platform

pytestmark = pytest.mark.browser
axe = Axe()


def _assert_accessible(page: Page) -> None:
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    assert results.violations_count == 0, results.generate_report()


def _assert_fits_a_phone(page: Page) -> None:
    overflow = page.evaluate(
        "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    )
    assert overflow <= 0


def test_a_resident_logs_in_through_the_card_reader(browser: Browser, platform: Platform) -> None:
    context = browser.new_context(locale="ja-JP")
    portal = context.new_page()
    portal.goto(f"{platform.portal}/")
    _assert_accessible(portal)
    portal.get_by_role("link", name="マイナンバーカードでログイン").click()
    expect(portal.get_by_role("heading", level=1)).to_have_text("マイナンバーカードでログイン")
    expect(portal.locator("img.qr")).to_be_visible()
    # The QR code really decodes as an image (an SVG without its namespace would not).
    # Visible is not loaded: wait for the image itself, then read its decoded width.
    portal.wait_for_function(
        "() => { const img = document.querySelector('img.qr'); return img && img.complete; }"
    )
    assert portal.locator("img.qr").evaluate("img => img.naturalWidth") > 0
    _assert_accessible(portal)

    link = portal.get_by_role("link", name="カードリーダーを開く")
    with context.expect_page() as opened:
        link.click()
    reader = opened.value
    expect(reader.get_by_text(platform.portal)).to_be_visible()
    _assert_accessible(reader)
    reader.get_by_label("利用者証明用電子証明書の暗証番号（数字4桁）").fill(PIN)
    reader.get_by_role("button", name="このカードで応答する").click()
    expect(reader.locator("#reader-done")).to_be_visible()

    # The portal page polls and completes the login by itself.
    portal.wait_for_url(f"{platform.portal}/home")
    expect(portal.get_by_role("heading", level=1)).to_contain_text("山田 太郎")
    expect(portal.get_by_text("昭和60年4月12日")).to_be_visible()
    _assert_accessible(portal)

    portal.get_by_role("button", name="ログアウト").click()
    expect(portal.get_by_text("ログアウトしました。")).to_be_visible()
    portal.goto(f"{platform.portal}/home")
    portal.wait_for_url(f"{platform.portal}/login?next=%2Fhome")
    context.close()


def test_a_wrong_pin_is_explained_in_the_reader(browser: Browser, platform: Platform) -> None:
    context = browser.new_context(locale="ja-JP")
    portal = context.new_page()
    portal.goto(f"{platform.portal}/login")
    href = portal.get_by_role("link", name="カードリーダーを開く").get_attribute("href")
    assert href
    reader = context.new_page()
    reader.goto(href)
    reader.get_by_label("利用者証明用電子証明書の暗証番号（数字4桁）").fill("9999")
    reader.get_by_role("button", name="このカードで応答する").click()
    alert = reader.get_by_role("alert")
    expect(alert).to_contain_text("2")
    _assert_accessible(reader)
    # A right PIN afterwards resets the count and logs in.
    reader.get_by_label("利用者証明用電子証明書の暗証番号（数字4桁）").fill(PIN)
    reader.get_by_role("button", name="このカードで応答する").click()
    expect(reader.locator("#reader-done")).to_be_visible()
    portal.wait_for_url(f"{platform.portal}/home")
    context.close()


def test_the_pages_work_on_a_phone_and_in_english(browser: Browser, platform: Platform) -> None:
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{platform.portal}/")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("link", name="Log in with your MyNumber card")).to_be_visible()
    _assert_fits_a_phone(page)
    page.get_by_role("link", name="Log in with your MyNumber card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in with your MyNumber card")
    _assert_fits_a_phone(page)
    _assert_accessible(page)
    context.close()
