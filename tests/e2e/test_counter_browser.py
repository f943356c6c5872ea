"""The clinic counter in Chromium: reception, the card reader, consents and the result,
with axe on every screen and a phone-sized viewport (the reception's tablet or phone)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from myna import network, registry
from myna.bench.harness import free_port
from myna.counter.app import create_counter_app
from myna.medical import service as medical
from myna.platform.db import unit_of_work
from myna.runtime import DEMO_INSTITUTIONS, ensure_demo_institutions
from tests.e2e.conftest import PIN, Platform, ServerThread

# One worker builds this module's shared fixture once (make test runs --dist loadgroup).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("e2e.test_counter_browser")]
axe = Axe()
PHONE = {"width": 390, "height": 844}
CLINIC, CLINIC_NAME = DEMO_INSTITUTIONS[0]


def _assert_accessible(page: Page) -> None:
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    assert results.violations_count == 0, results.generate_report()


def _assert_fits_a_phone(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


@pytest.fixture(scope="module")
def counter(platform: Platform) -> Iterator[str]:
    """The counter on 127.0.0.1, for the demo's clinic and pharmacy, over the platform."""
    ensure_demo_institutions(platform.container)
    port = free_port()
    server = ServerThread(create_counter_app(platform.container), port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="ja-JP")
    page = context.new_page()
    yield page
    context.close()


def _to_the_reader(page: Page, counter: str) -> None:
    page.goto(f"{counter}/")
    expect(page.get_by_role("heading", name="医療機関の選択")).to_be_visible()
    _assert_accessible(page)
    page.get_by_role("link", name=CLINIC_NAME).click()
    expect(page.get_by_role("heading", name="受付", exact=True)).to_be_visible()
    _assert_accessible(page)
    page.get_by_role("button", name="受付を開始").click()
    expect(
        page.get_by_role("heading", name="カードをカードリーダーに置いてください")
    ).to_be_visible()
    _assert_accessible(page)
    _assert_fits_a_phone(page)
    page.get_by_label("山田 太郎", exact=False).first.check()
    page.get_by_role("button", name="カードを置く").click()
    expect(page.get_by_role("heading", name="本人確認")).to_be_visible()


def test_the_reader_screens_guide_the_patient_and_the_staff(
    page: Page, platform: Platform, counter: str
) -> None:
    _to_the_reader(page, counter)
    _assert_accessible(page)
    _assert_fits_a_phone(page)
    page.get_by_label("患者がカードの暗証番号（数字4桁）を入力します").fill("0000")
    page.get_by_role("button", name="暗証番号で確認").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("あと2回")
    _assert_accessible(page)
    # The face path: the browser itself holds back a form without the staff's check.
    page.get_by_label("確認した職員の氏名").fill("佐藤")
    page.get_by_role("button", name="顔認証で確認").click()
    expect(page.get_by_role("heading", name="本人確認")).to_be_visible()
    assert page.locator("#field-face_matches:invalid").count() == 1
    # The 資格確認書 fallback: field by field, what is not right.
    page.goto(f"{counter}/{CLINIC}/by-number")
    _assert_accessible(page)
    page.get_by_label("保険者番号").fill("123")
    page.get_by_label("枝番").fill("0")
    page.get_by_role("button", name="資格を確認する").click()
    expect(page.get_by_role("alert")).to_contain_text("保険者番号を6桁または8桁")
    _assert_accessible(page)
    page.get_by_role(
        "link", name="保険者番号: 保険者番号を6桁または8桁の数字で入力してください。"
    ).click()
    expect(page.locator("#field-insurer_number")).to_be_focused()


def test_a_patient_goes_from_the_card_to_the_result_screen(
    page: Page, platform: Platform, counter: str
) -> None:
    with unit_of_work(platform.container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        if medical.enrolment(session=session, resident_id=taro.id) is None:
            hub = network.build_hub(session=session, settings=platform.settings, remote=None)
            medical.enrol(session=session, hub=hub, resident_id=taro.id)
    _to_the_reader(page, counter)
    page.get_by_label("患者がカードの暗証番号（数字4桁）を入力します").fill(PIN)
    page.get_by_role("button", name="暗証番号で確認").click()
    expect(page.get_by_role("heading", name="情報提供の同意")).to_be_visible()
    _assert_accessible(page)
    _assert_fits_a_phone(page)
    groups = page.get_by_role("group")
    expect(
        groups.filter(has_text="過去の診療・薬剤情報を当院に提供することに同意しますか")
    ).to_be_visible()
    groups.filter(has_text="過去の診療・薬剤情報").get_by_label("同意する", exact=True).check()
    groups.filter(has_text="特定健診情報").get_by_label("同意する", exact=True).check()
    groups.filter(has_text="限度額情報").get_by_label("同意しない", exact=True).check()
    page.get_by_role("button", name="回答を送る").click()
    expect(page.get_by_role("heading", name="資格確認結果")).to_be_visible()
    expect(page.locator("#eligibility-status")).to_contain_text("有効")
    expect(page.get_by_role("heading", name="薬剤情報")).to_be_visible()
    _assert_accessible(page)
    _assert_fits_a_phone(page)
    page.get_by_role("link", name="次の患者").click()
    expect(page.get_by_role("button", name="受付を開始")).to_be_visible()
