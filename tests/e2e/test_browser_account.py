"""The 公金受取口座 in a real browser on a phone: the bank and the branch found by name."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Platform
from tests.e2e.test_browser_applications import _assert_accessible, _assert_fits_a_phone, _login

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_a_resident_registers_an_account_choosing_bank_and_branch_by_name(
    browser: Browser, platform: Platform
) -> None:
    context = browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True, has_touch=True)
    page = _login(context, platform)
    page.goto(f"{platform.portal}/account/edit")
    page.get_by_label("口座番号").fill("4567")
    page.get_by_label("口座名義（カナ）").fill("ヤマダ タロウ")
    page.get_by_role("radio", name="普通").check()

    # A name that matches nothing: the error is read with its field.
    page.get_by_label("金融機関名で探す").fill("存在しない銀行")
    page.get_by_role("button", name="金融機関を探す").click()
    search = page.get_by_label("金融機関名で探す")
    expect(search).to_have_attribute("aria-invalid", "true")
    expect(search).to_have_accessible_description(re.compile("金融機関はありません"))
    expect(page.get_by_label("口座番号")).to_have_value("4567")  # nothing typed is lost
    _assert_accessible(page)

    search.fill("みずほ")
    page.get_by_role("button", name="金融機関を探す").click()
    expect(page.get_by_role("status")).to_have_text("一覧から金融機関を選んでください。")
    page.get_by_label("金融機関", exact=True).select_option(label="みずほ銀行（0001）")
    page.get_by_label("支店名で探す").fill("丸の内中央")
    page.get_by_role("button", name="支店を探す").click()
    expect(page.get_by_label("支店", exact=True)).to_have_value("004")
    expect(page.get_by_label("金融機関", exact=True)).to_have_value("0001")
    expect(page.get_by_label("口座名義（カナ）")).to_have_value("ヤマダ タロウ")
    _assert_fits_a_phone(page)
    _assert_accessible(page)

    page.get_by_role("button", name="口座を保存する").click()
    page.wait_for_url(f"{platform.portal}/account?done=saved")
    expect(page.get_by_text("みずほ銀行（0001）")).to_be_visible()
    expect(page.get_by_text("丸の内中央（004）")).to_be_visible()
    _assert_fits_a_phone(page)
    _assert_accessible(page)

    # Leave taro without an account, as the other journeys expect.
    page.get_by_role("link", name="口座を削除する").click()
    page.get_by_role("button", name="口座を削除する").click()
    expect(page.get_by_text("口座を削除しました。")).to_be_visible()
    context.close()
