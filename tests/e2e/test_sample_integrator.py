"""The sample integrator (examples/minato_bank) end to end in Chromium.

A bank registered and approved for ``openid name myinfo.local-tax`` starts the flow; the
resident logs in with the card at the portal, consents item by item, and the bank shows
the name and the resident-tax record it verified against the platform's JWKS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from joserfc.jwk import ECKey
from playwright.sync_api import Browser, Page, expect

from examples.minato_bank.bank import Bank, create_bank_app
from myna.bench.harness import free_port
from myna.partners import organizations
from myna.partners.domain import RequestedScope
from myna.platform.db import unit_of_work
from tests.e2e.conftest import PIN, Platform, ServerThread

PIN_LABEL = "利用者証明用電子証明書の暗証番号（数字4桁）"
TARO = "山田 太郎"
pytestmark = pytest.mark.browser
axe = Axe()


def _assert_accessible(page: Page) -> None:
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture(scope="module")
def bank(platform: Platform) -> Iterator[Bank]:
    port = free_port()
    key = ECKey.generate_key("P-256")
    key = ECKey.import_key(key.as_dict(private=True, kid="bank-2026", use="sig", alg="ES256"))
    base_url = f"http://127.0.0.1:{port}"
    with unit_of_work(platform.container.session_factory) as session:
        registered = organizations.register_organization(
            session=session,
            name="みなと銀行",
            purpose="住宅ローンの事前審査で、収入の確認と入力の手間を省くため",
            contact="api@minato-bank.example",
            retention="審査の終了から1年",
            redirect_uris=[f"{base_url}/callback"],
            jwks={"keys": [key.as_dict(private=False)]},
            requested_scopes=[
                RequestedScope("openid", "ログインのため"),
                RequestedScope("name", "申込者の確認のため"),
                RequestedScope("myinfo.local-tax", "収入（住民税の課税情報）の確認のため"),
            ],
        )
        organizations.review(
            session=session,
            client_id=registered.client_id,
            approve=True,
            scopes=["openid", "name", "myinfo.local-tax"],
            note="審査済み",
        )
    state = Bank(
        issuer=platform.portal, base_url=base_url, client_id=registered.client_id, client_key=key
    )
    server = ServerThread(create_bank_app(state), port)
    server.start()
    try:
        yield state
    finally:
        server.stop()


def test_a_bank_gets_the_consented_income_through_myna(
    browser: Browser, platform: Platform, bank: Bank
) -> None:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(bank.base_url)
    page.get_by_role("link", name="マイナポータルで収入情報を取得する").click()
    # Not logged in: the portal's login page, which will come back to the consent.
    page.wait_for_url(re.compile(r".*/login\?next=.*consent.*"))
    href = page.get_by_role("link", name="カードリーダーを開く").get_attribute("href")
    assert href
    reader = context.new_page()
    reader.goto(href)
    reader.get_by_role("radio", name=re.compile(TARO)).check()
    reader.get_by_label(PIN_LABEL).fill(PIN)
    reader.get_by_role("button", name="このカードで応答する").click()
    expect(reader.locator("#reader-done")).to_be_visible()
    reader.close()
    page.wait_for_url(re.compile(r".*/consent/.*"))
    expect(page.get_by_text("みなと銀行").first).to_be_visible()
    _assert_accessible(page)
    for box in page.get_by_role("checkbox").all():
        if not box.is_disabled():
            box.check()
    page.get_by_role("button", name="同意して、チェックした項目を提供する").click()
    page.wait_for_url(re.compile(re.escape(bank.base_url) + ".*"))
    assert page.url == f"{bank.base_url}/result", page.content()[:3000]
    expect(page.locator("#name")).to_have_text(TARO)
    expect(
        page.get_by_role("heading", name=re.compile(r"住民税の課税情報（令和\d+年度）")).first
    ).to_be_visible()
    # Names and human values, not the API's keys and Python's literals.
    expect(page.get_by_text("課税標準額").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"^[\d,]+円$")).first).to_be_visible()
    text = page.locator("main").inner_text()
    for raw in ("assessment_year", "taxable_income", "non_taxable", "False", "True"):
        assert raw not in text
    assert re.search(r"課税・非課税の別\s+(課税|非課税)", text)
    assert re.search(r"令和\d+年\d+月\d+日更新", text)
    _assert_accessible(page)
    # The portal lists the consent with the use the bank just made.
    page.goto(f"{platform.portal}/consents")
    expect(page.get_by_text("みなと銀行").first).to_be_visible()
    _assert_accessible(page)
    context.close()
