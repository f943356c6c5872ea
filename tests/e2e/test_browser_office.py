"""The back office's new pages in a browser: search, the applicant, moves, the partner review.

Each page is checked with axe (WCAG 2.2 AA) and on a phone-sized screen.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from myna import registry
from myna.office import service as office
from myna.platform.db import unit_of_work
from tests.e2e.conftest import Platform
from tests.e2e.test_browser_applications import (
    MUNICIPALITY,
    _assert_accessible,
    _assert_fits_a_phone,
    _file_directly,
    _new_staff,
    _office_login,
)
from tests.integration.partners.test_organizations import _register

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 740}


def test_a_clerk_searches_opens_an_applicant_and_downloads_csv(
    browser: Browser, platform: Platform
) -> None:
    receipt = _file_directly(platform)
    context = browser.new_context(viewport=PHONE, locale="ja-JP", accept_downloads=True)
    page = _office_login(
        context, platform, _new_staff(platform, MUNICIPALITY, office.StaffRole.CLERK)
    )
    page.goto(f"{platform.portal}/office/applications")
    page.get_by_label("申請者の氏名（漢字・カナ、一部でも可）").fill("太郎")
    page.get_by_role("button", name="検索").click()
    expect(page.get_by_role("link", name=re.compile("罹災証明書")).first).to_be_visible()
    _assert_accessible(page)
    _assert_fits_a_phone(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="この一覧をCSVでダウンロード").click()
    assert download.value.suggested_filename.endswith(".csv")
    page.goto(f"{platform.portal}/office/applications/{receipt}")
    applicant = page.get_by_role("region", name="申請者")
    expect(applicant).to_contain_text("ヤマダ タロウ")
    expect(applicant).to_contain_text(re.compile("(昭和|平成)"))
    _assert_accessible(page)
    _assert_fits_a_phone(page)
    # A date typed wrong is said on the page, in Japanese.
    page.goto(f"{platform.portal}/office/applications?from=2026-02-31")
    expect(page.get_by_role("alert")).to_contain_text("2026-11-28")
    _assert_accessible(page)
    context.close()


def test_the_move_lists_read_well_on_a_phone(browser: Browser, platform: Platform) -> None:
    context = browser.new_context(viewport=PHONE, locale="ja-JP")
    page = _office_login(context, platform, _new_staff(platform, "271004", office.StaffRole.CLERK))
    page.goto(f"{platform.portal}/office/moves?show=completed")
    expect(page.get_by_role("link", name="転入完了")).to_have_attribute("aria-current", "page")
    _assert_accessible(page)
    _assert_fits_a_phone(page)
    context.close()


def test_a_platform_administrator_reviews_an_organisation(
    browser: Browser, platform: Platform
) -> None:
    with unit_of_work(platform.container.session_factory) as session:
        registry.ensure_municipalities(session=session)
        created = _register(session, name="e2e みらい銀行")
    context = browser.new_context(viewport=PHONE, locale="ja-JP")
    page = _office_login(
        context, platform, _new_staff(platform, MUNICIPALITY, office.StaffRole.PLATFORM_ADMIN)
    )
    page.get_by_role("link", name="連携事業者の審査（プラットフォーム）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("連携事業者の審査")
    _assert_accessible(page)
    _assert_fits_a_phone(page)
    page.goto(f"{platform.portal}/office/partners/{created.client_id}")
    _assert_accessible(page)
    _assert_fits_a_phone(page)
    page.get_by_role(
        "checkbox", name="この事業者の登録内容を確認し、この決定を行います。"
    ).first.check()
    page.get_by_role("button", name="チェックしたスコープで承認する").click()
    expect(page.get_by_role("status")).to_contain_text("承認しました")
    expect(page.locator("dd.status").first).to_have_text("承認済み")
    _assert_accessible(page)
    context.close()
