"""わたしの情報 and やりとり履歴 in a real browser, with axe accessibility checks."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from myna.platform.db import unit_of_work
from tests.e2e.conftest import PIN, Platform

pytestmark = pytest.mark.browser
axe = Axe()
PIN_LABEL = "利用者証明用電子証明書の暗証番号（数字4桁）"


def _assert_accessible(page: Page) -> None:
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    assert results.violations_count == 0, results.generate_report()


def _login(context: BrowserContext, platform: Platform) -> Page:
    portal = context.new_page()
    portal.goto(f"{platform.portal}/login")
    href = portal.get_by_role("link", name="カードリーダーを開く").get_attribute("href")
    assert href
    reader = context.new_page()
    reader.goto(href)
    reader.get_by_label(PIN_LABEL).fill(PIN)
    reader.get_by_role("button", name="このカードで応答する").click()
    expect(reader.locator("#reader-done")).to_be_visible()
    reader.close()
    portal.wait_for_url(f"{platform.portal}/home")
    return portal


def test_a_resident_retrieves_their_information_and_sees_the_exchanges(
    browser: Browser, platform: Platform
) -> None:
    context = browser.new_context(locale="ja-JP")
    page = _login(context, platform)
    # Through the home page's own list (the menu above has the same link).
    page.get_by_role("main").get_by_role("link", name="わたしの情報").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("わたしの情報")
    _assert_accessible(page)
    page.get_by_role("button", name="取得する").click()
    expect(page.get_by_role("heading", name="住民税")).to_be_visible()
    expect(page.get_by_text("情報提供元：").first).to_be_visible()
    _assert_accessible(page)

    page.get_by_role("link", name="あなたの情報のやりとりを見る（やりとり履歴）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("やりとり履歴")
    newest = page.locator(".exchange").first
    expect(newest.locator("summary")).to_contain_text("ご本人による請求（自己情報開示）")
    newest.locator("summary").click()
    expect(newest.locator(".exchange-item-name", has_text="住民税").first).to_be_visible()
    expect(page.get_by_text("次のツリーヘッドを待っています").first).to_be_visible()
    with unit_of_work(platform.container.session_factory) as session:
        platform.container.publish_tree_head(session)
    page.reload()
    page.locator(".exchange summary").first.click()
    expect(page.get_by_role("link", name="包含証明").first).to_be_visible()
    _assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="包含証明").first.click()
    assert download.value.suggested_filename.startswith("inclusion-proof-")
    context.close()


def test_the_history_can_be_filtered_and_exported(browser: Browser, platform: Platform) -> None:
    context = browser.new_context(locale="ja-JP")
    page = _login(context, platform)
    # The history needs an exchange of 住民税 of its own, whatever ran before on this worker.
    page.goto(f"{platform.portal}/my-info")
    page.get_by_role("button", name="取得する").click()
    expect(page.get_by_role("heading", name="住民税")).to_be_visible()
    page.goto(f"{platform.portal}/exchanges")
    page.get_by_label("情報", exact=True).select_option("resident-tax")
    page.get_by_role("button", name="表示").click()
    expect(page).to_have_url(re.compile(r".*/exchanges\?.*item=resident-tax"))
    page.locator(".exchange summary").first.click()
    expect(page.locator(".exchange-item-name", has_text="住民税").first).to_be_visible()
    expect(page.locator(".exchange-item-name", has_text="世帯情報")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("link", name="CSVでダウンロード").click()
    assert download.value.suggested_filename == "exchange-history.csv"
    context.close()
