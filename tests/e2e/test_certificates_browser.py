"""コンビニ交付 in Chromium: the kiosk issues a 住民票の写し, the verification page checks it.

The kiosk (its own port) → the card and PIN → the certificate and its fee → the PDF
downloaded; then the public verification page, phone-sized, accepts that PDF and
refuses a tampered copy. axe runs on every screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from myna.bench.harness import free_port
from myna.kiosk.app import create_kiosk_app
from tests.e2e.conftest import PIN, Platform, ServerThread

pytestmark = pytest.mark.browser
axe = Axe()
PHONE = {"width": 390, "height": 844}
KIOSK_SCREEN = {"width": 1024, "height": 768}


def _assert_accessible(page: Page) -> None:
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    assert results.violations_count == 0, results.generate_report()


def _assert_fits_a_phone(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


@pytest.fixture(scope="module")
def kiosk(platform: Platform) -> Iterator[str]:
    """The kiosk on 127.0.0.1, speaking to the platform's portal."""
    port = free_port()
    server = ServerThread(create_kiosk_app(platform.container), port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _page(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, locale="ja-JP", accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def kiosk_page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, KIOSK_SCREEN)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, PHONE)


def _receive(page: Page, kiosk: str, tmp_path: Path) -> tuple[Path, str]:
    page.goto(f"{kiosk}/")
    expect(page.get_by_role("heading", name="マイナンバーカードで証明書を取得")).to_be_visible()
    _assert_accessible(page)
    page.get_by_role("button", name="証明書交付をはじめる").click()
    expect(page.get_by_role("heading", name="カードをリーダーに置いてください")).to_be_visible()
    _assert_accessible(page)
    page.get_by_label("山田 太郎", exact=False).first.check()
    page.get_by_role("button", name="カードを置く").click()
    expect(page.get_by_role("heading", name="暗証番号の入力")).to_be_visible()
    _assert_accessible(page)
    page.get_by_label("カードの4桁の暗証番号", exact=False).fill(PIN)
    page.get_by_role("button", name="確認", exact=True).click()
    expect(page.get_by_role("heading", name="証明書を選ぶ")).to_be_visible()
    _assert_accessible(page)
    expect(page.get_by_text("手数料: 200円").first).to_be_visible()
    page.get_by_label("住民票の写し", exact=False).first.check()
    page.get_by_label("続柄を記載する").check()
    page.get_by_role("button", name="証明書を交付する").click()
    expect(page.get_by_role("heading", name="証明書の準備ができました")).to_be_visible()
    _assert_accessible(page)
    number = page.locator("#kiosk-number").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="証明書を受け取る（PDF）").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    return saved, number


def test_a_kiosk_certificate_checks_valid_and_a_tampered_copy_is_refused(
    kiosk_page: Page, phone: Page, kiosk: str, platform: Platform, tmp_path: Path
) -> None:
    pdf, number = _receive(kiosk_page, kiosk, tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert number in pdf.name

    phone.goto(f"{platform.portal}/certificates/verify?number={number}")
    expect(phone.get_by_role("heading", name=f"交付番号 {number} の証明書について")).to_be_visible()
    _assert_accessible(phone)
    _assert_fits_a_phone(phone)

    phone.get_by_label("証明書の PDF ファイル").set_input_files(str(pdf))
    phone.get_by_role("button", name="証明書を検証する").click()
    expect(
        phone.get_by_role(
            "heading", name="有効：この証明書は市区町村が交付したもので、改変されていません"
        )
    ).to_be_visible()
    expect(phone.locator("#verify-status")).to_have_text("有効")
    _assert_accessible(phone)
    _assert_fits_a_phone(phone)

    content = bytearray(pdf.read_bytes())
    content[content.index(b"stream") + 40] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(content))
    phone.get_by_label("証明書の PDF ファイル").set_input_files(str(tampered))
    phone.get_by_role("button", name="証明書を検証する").click()
    expect(phone.get_by_role("heading", name="このファイルは確認できません")).to_be_visible()
    expect(phone.get_by_text("有効：この証明書は")).to_have_count(0)
    _assert_accessible(phone)
    _assert_fits_a_phone(phone)
