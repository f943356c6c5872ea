"""「この情報は違います」 in a real browser on a phone: the resident asks, the clerk answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from myna.office import service as office
from tests.e2e.conftest import Platform
from tests.e2e.test_browser_applications import (
    MUNICIPALITY,
    _assert_accessible,
    _assert_fits_a_phone,
    _new_staff,
    _office_login,
)
from tests.e2e.test_browser_my_info import _login

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128


def test_a_resident_disputes_a_value_and_the_clerk_corrects_it(
    browser: Browser, platform: Platform, tmp_path: Path
) -> None:
    scan = tmp_path / "gensen.png"
    scan.write_bytes(PNG)
    resident = browser.new_context(locale="ja-JP", viewport=PHONE)
    page = _login(resident, platform)
    page.goto(f"{platform.portal}/my-info")
    for box in page.get_by_role("checkbox").all():
        box.uncheck()
    page.get_by_role("checkbox", name="地方税").check()
    page.get_by_role("button", name="取得する").click()
    page.get_by_role("button", name=re.compile("^この情報は違います")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("この情報は違います")
    _assert_accessible(page)
    _assert_fits_a_phone(page)
    page.get_by_role("radio", name=re.compile("合計所得金額")).check()
    page.get_by_label("正しい内容").fill("4,120,000円")
    page.get_by_label("違っている理由").fill("令和7年分の源泉徴収票の金額と違います。")
    page.get_by_label("根拠となる資料（任意）").set_input_files(str(scan))
    page.get_by_role("button", name=re.compile("に申し出る")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("訂正の申出の状況")
    expect(page.get_by_role("status")).to_contain_text("申出を送信しました")
    expect(page.locator(".correction").first).to_contain_text("回答待ち")
    _assert_accessible(page)
    _assert_fits_a_phone(page)

    staff = browser.new_context(locale="ja-JP", viewport=PHONE)
    clerk = _office_login(
        staff, platform, _new_staff(platform, MUNICIPALITY, office.StaffRole.CLERK)
    )
    clerk.get_by_role("link", name="訂正の申出").click()
    clerk.get_by_role("link", name=re.compile("住民税")).first.click()
    expect(clerk.get_by_text("令和7年分の源泉徴収票の金額と違います。")).to_be_visible()
    _assert_accessible(clerk)
    _assert_fits_a_phone(clerk)
    clerk.get_by_role("radio", name="記録を訂正する").check()
    clerk.get_by_label("正しい値").fill("4120000")
    clerk.get_by_label("住民が読む回答理由").fill("源泉徴収票を確認し、訂正しました。")
    clerk.get_by_role("button", name="回答を送信する").click()
    expect(clerk.get_by_role("status")).to_contain_text(
        "回答を情報提供ネットワークシステムを通じて"
    )
    _assert_accessible(clerk)

    page.reload()
    expect(page.locator(".correction").first).to_contain_text("訂正済み")
    expect(page.locator(".correction").first).to_contain_text("源泉徴収票を確認し、訂正しました。")
    resident.close()
    staff.close()
