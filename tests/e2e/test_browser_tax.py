"""確定申告 in a real browser: delivered documents, a return filled from them, the card's
signature in the card reader, the filing and its 受信通知 — with axe and a phone's screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from myna import runtime
from tests.e2e.conftest import PASSWORD, Platform
from tests.e2e.test_browser_applications import (
    _assert_accessible,
    _assert_fits_a_phone,
    _login,
    _open_reader,
    _sign_in_reader,
)

pytestmark = pytest.mark.browser
PROCEDURE = "令和7年分の所得税及び復興特別所得税の確定申告"
EMPLOYER = "みなと電機株式会社"
LIFE_INSURER = "さくら生命保険株式会社"
NON_LIFE_INSURER = "みなと損害保険株式会社"


def test_taro_files_his_return_from_his_delivered_documents_with_his_card(
    browser: Browser, platform: Platform
) -> None:
    runtime.ensure_demo_deliveries(platform.container)  # as the demo: three documents
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    page = _login(context, platform)

    # The 民間送達 box holds his 源泉徴収票 and two 控除証明書.
    page.goto(f"{platform.portal}/delivery")
    for sender in (EMPLOYER, LIFE_INSURER, NON_LIFE_INSURER):
        expect(page.get_by_text(sender).first).to_be_visible()
    _assert_accessible(page)

    # He starts 令和7年分 and agrees to every source, one by one.
    page.goto(f"{platform.portal}/tax")
    page.get_by_role("button", name=re.compile("令和7年分の申告書の作成を始める")).click()
    page.wait_for_url(f"{platform.portal}/tax/2025/gather")
    _assert_accessible(page)
    boxes = page.get_by_role("checkbox")
    assert boxes.count() >= 4  # the slip, two certificates, the 医療費通知
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.get_by_role("button", name="チェックした情報を申告書に読み込む").click()
    page.wait_for_url(re.compile(r".*/tax/2025\?done=gathered$"))
    expect(page.get_by_role("status")).to_contain_text("同意した情報を申告書に読み込みました")

    # Every filled field says where it came from.
    for sender in (EMPLOYER, LIFE_INSURER, NON_LIFE_INSURER):
        expect(page.locator(".tax-field").filter(has_text=sender).first).to_be_visible()
    expect(page.get_by_text("還付される税金").first).to_be_visible()
    _assert_accessible(page)
    _assert_fits_a_phone(page)

    # 署名して提出する: the waiting page shows what is signed, the card reader signs it.
    page.get_by_role("button", name="署名して提出する").click()
    page.wait_for_url(re.compile(rf"{re.escape(platform.portal)}/tax/2025/sign/[A-Za-z0-9_-]+$"))
    expect(page.get_by_text("神田税務署").first).to_be_visible()
    _assert_accessible(page)
    reader = _open_reader(context, page)
    document = reader.get_by_role("region", name=PROCEDURE)
    expect(document).to_be_visible()
    expect(document).to_contain_text("神田税務署")
    expect(document).to_contain_text("還付される税金")
    expect(document).to_contain_text("RKO0010_2025.xml")
    _assert_accessible(reader)
    _sign_in_reader(reader, PASSWORD)
    expect(reader.get_by_role("heading", level=1)).to_have_text("署名しました")

    # The portal page opens the receipt by itself; the return can no longer be changed.
    page.wait_for_url(re.compile(r".*/tax/2025\?done=filed$"))
    receipt = page.get_by_role("region", name="受信通知")
    expect(receipt).to_contain_text("神田税務署")
    number = re.search(r"\d{20}", receipt.inner_text())
    assert number, receipt.inner_text()
    expect(page.get_by_role("button", name="署名して提出する")).to_have_count(0)
    _assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="申告書の控え（PDF）").click()
    copy = download.value.path()
    assert copy.read_bytes().startswith(b"%PDF-")

    # The 受信通知 from the National Tax Agency is in お知らせ.
    page.goto(f"{platform.portal}/notices")
    page.get_by_role("link", name=f"【受信通知】{PROCEDURE}").first.click()
    expect(page.locator("article")).to_contain_text(f"受付番号: {number.group(0)}")
    context.close()
