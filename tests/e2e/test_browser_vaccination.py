"""接種証明書 in a real browser: the resident's QR codes, then the open verifier, with axe."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from myna import card, registry
from myna.platform.db import unit_of_work
from tests.e2e.conftest import PASSWORD, PIN, Platform
from tests.e2e.test_browser_applications import _login

pytestmark = pytest.mark.browser
axe = Axe()
HARUTO = "山田 陽翔"


def _assert_accessible(page: Page) -> None:
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture
def haruto(platform: Platform) -> Iterator[str]:
    """Haruto (routine vaccinations in 千代田区's register) with a card in the reader.

    The card leaves the reader afterwards: the other journeys log in with taro's.
    """
    with unit_of_work(platform.container.session_factory) as session:
        resident = registry.ensure_personas(session=session)["haruto"]
        issued = card.issue_card(
            session=session,
            settings=platform.settings,
            resident_id=resident.id,
            pin=PIN,
            password=PASSWORD,
        )
    try:
        yield issued.card_id
    finally:
        for name in (f"{issued.card_id}.json", f".{issued.card_id}.lock"):
            (platform.settings.card_dir / name).unlink(missing_ok=True)


def test_a_resident_shows_the_qr_code_and_a_verifier_checks_it(
    browser: Browser, platform: Platform, haruto: str
) -> None:
    del haruto
    context = browser.new_context(locale="ja-JP", accept_downloads=True)
    page = _login(context, platform, holder=HARUTO)
    page.get_by_role("link", name="接種証明書").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("接種証明書")
    _assert_accessible(page)
    page.get_by_role("link", name="MR（麻しん風しん）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("接種証明書：MR（麻しん風しん）")
    shc = page.get_by_role("img", name="MR（麻しん風しん）の SMART Health Card の QR コード")
    expect(shc).to_be_visible()
    expect(
        page.get_by_role("img", name="MR（麻しん風しん）の ICAO デジタルシールの QR コード")
    ).to_be_visible()
    expect(page.get_by_role("cell", name="2回目")).to_be_visible()
    _assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="QR コードをダウンロード（PNG）").first.click()
    assert download.value.suggested_filename == "vaccination-mr-shc.png"
    source = shc.get_attribute("src")
    assert source is not None
    picture = base64.b64decode(source.split(",", 1)[1])

    # A verifier elsewhere, without a session: the picture of the code, uploaded.
    verifier = browser.new_context(locale="ja-JP").new_page()
    verifier.goto(f"{platform.portal}/vaccination/verify")
    expect(verifier.get_by_role("heading", level=1)).to_have_text("接種証明書を確認する")
    _assert_accessible(verifier)
    verifier.get_by_label("または QR コードの画像（PNG または JPEG、900KB まで）").set_input_files(
        files=[{"name": "code.png", "mimeType": "image/png", "buffer": picture}]
    )
    verifier.get_by_role("button", name="確認する").click()
    expect(verifier.get_by_role("heading", name="この証明書は有効です")).to_be_visible()
    expect(verifier.get_by_text(HARUTO)).to_be_visible()
    expect(verifier.get_by_text("平成28年")).to_be_visible()
    _assert_accessible(verifier)

    # A changed code is refused, clearly.
    verifier.get_by_label("コードの文字列（shc:/… またはシールの JSON）").fill(
        "shc:/5676295953265460"
    )
    verifier.get_by_role("button", name="確認する").click()
    expect(verifier.get_by_role("heading", name="この証明書は有効ではありません")).to_be_visible()
    _assert_accessible(verifier)
    context.close()
