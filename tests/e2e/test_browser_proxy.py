"""代理人 in a real browser: a parent acts for their child; appointing and revoking a proxy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from myna import card, registry
from myna.platform.clock import today_in_japan
from myna.platform.db import unit_of_work
from tests.e2e.conftest import PASSWORD, PIN, Platform
from tests.e2e.test_browser_applications import _assert_accessible, _assert_fits_a_phone, _login

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
ICHIRO = "鈴木 一郎"


def test_a_parent_acts_for_their_child_and_comes_back(browser: Browser, platform: Platform) -> None:
    context = browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True, has_touch=True)
    page = _login(context, platform)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="代理人").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("代理人")
    expect(page.get_by_text("親権者として（法定代理人・15歳の誕生日まで）")).to_be_visible()
    _assert_fits_a_phone(page)
    _assert_accessible(page)
    page.get_by_role("button", name="山田 陽翔さんの代理で操作する").click()
    page.wait_for_url(f"{platform.portal}/home")
    banner = page.get_by_role("region", name="代理で操作中")
    expect(banner).to_contain_text("山田 陽翔さんの代理で操作しています。")
    expect(page.get_by_role("heading", level=1)).to_have_text("山田 陽翔さんの代理で操作中")
    _assert_fits_a_phone(page)
    _assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name="わたしの情報").click()
    expect(banner).to_be_visible()
    page.get_by_role("button", name="取得する").click()
    # The child's information, not the parent's.
    expect(page.get_by_role("heading", name="本人確認情報（基本4情報）")).to_be_visible()
    expect(page.get_by_text("ヤマダ ハルト").first).to_be_visible()
    _assert_accessible(page)
    # The parent's own pages are not offered while acting, and refuse if asked.
    expect(
        page.get_by_role("navigation", name="メインメニュー").get_by_role(
            "link", name="やりとり履歴"
        )
    ).to_have_count(0)
    page.goto(f"{platform.portal}/exchanges")
    expect(page.get_by_role("alert")).to_contain_text(
        "代理で操作している間はこのページを使えません"
    )
    _assert_accessible(page)
    page.get_by_role("button", name="自分のポータルに戻る").click()
    page.wait_for_url(f"{platform.portal}/proxy")
    expect(page.get_by_role("region", name="代理で操作中")).to_have_count(0)
    # Back in his own portal, the child's やりとり履歴 is not his.
    page.goto(f"{platform.portal}/exchanges")
    expect(page.get_by_role("heading", level=1)).to_have_text("やりとり履歴")
    context.close()


@pytest.fixture
def ichiro_card(platform: Platform) -> Iterator[str]:
    """Ichiro's card in the reader; it leaves the reader afterwards (logins pick by name)."""
    with unit_of_work(platform.container.session_factory) as session:
        ichiro = registry.ensure_personas(session=session)["ichiro"]
        issued = card.issue_card(
            session=session,
            settings=platform.settings,
            resident_id=ichiro.id,
            pin=PIN,
            password=PASSWORD,
        )
    try:
        yield issued.card_id
    finally:
        for name in (f"{issued.card_id}.json", f".{issued.card_id}.lock"):
            (platform.settings.card_dir / name).unlink(missing_ok=True)


def _appoint(
    proxy_context: BrowserContext, principal_context: BrowserContext, platform: Platform
) -> tuple[Page, Page]:
    """Taro shows his code; Ichiro (on a phone) appoints him for notices, for ten days."""
    # The proxy-to-be (taro) shows his one-time appointment code.
    proxy = _login(proxy_context, platform)
    proxy.goto(f"{platform.portal}/proxy")
    proxy.get_by_role("button", name="任命コードを表示する").click()
    code = proxy.locator("#proxy-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    _assert_accessible(proxy)

    # The principal (ichiro, on a phone) appoints him for notices, for ten days.
    principal = _login(principal_context, platform, holder=ICHIRO)
    principal.goto(f"{platform.portal}/proxy")
    principal.get_by_role("link", name="代理人を任命する").click()
    expect(principal.get_by_role("heading", level=1)).to_have_text("代理人を任命する")
    _assert_fits_a_phone(principal)
    _assert_accessible(principal)
    # A wrong code is refused with the reason, and what was chosen stays.
    principal.get_by_label("代理人の任命コード").fill("ZZZZ-ZZZZ-ZZZZ")
    principal.get_by_role("checkbox", name="お知らせを読む").check()
    until = (today_in_japan() + timedelta(days=10)).isoformat()
    principal.get_by_label("代理できる最終日").fill(until)
    principal.get_by_role("button", name="任命する").click()
    expect(principal.get_by_role("alert")).to_contain_text("この任命コードは無効です")
    expect(principal.get_by_role("checkbox", name="お知らせを読む")).to_be_checked()
    _assert_accessible(principal)
    principal.get_by_label("代理人の任命コード").fill(code)
    principal.get_by_role("button", name="任命する").click()
    principal.wait_for_url(f"{platform.portal}/proxy?done=appointed")
    expect(principal.get_by_text("承諾待ち")).to_be_visible()

    return proxy, principal


def test_a_resident_appoints_a_proxy_and_revokes_them(
    browser: Browser, platform: Platform, ichiro_card: str
) -> None:
    assert ichiro_card
    proxy_context = browser.new_context(locale="ja-JP")
    principal_context = browser.new_context(
        locale="ja-JP", viewport=PHONE, is_mobile=True, has_touch=True
    )
    proxy, principal = _appoint(proxy_context, principal_context, platform)

    # The proxy accepts with his own login and acts for the principal.
    proxy.goto(f"{platform.portal}/proxy")
    expect(proxy.get_by_text("鈴木 一郎さんが")).to_be_visible()
    proxy.get_by_role("button", name="任命を承諾する").click()
    proxy.get_by_role("button", name="鈴木 一郎さんの代理で操作する").click()
    proxy.wait_for_url(f"{platform.portal}/home")
    expect(proxy.get_by_role("region", name="代理で操作中")).to_contain_text("鈴木 一郎")
    proxy.get_by_role("main").get_by_role("link", name="お知らせ").click()
    expect(proxy.get_by_role("heading", level=1)).to_have_text("お知らせ")
    _assert_accessible(proxy)

    # The principal revokes, after a confirmation.
    principal.goto(f"{platform.portal}/proxy")
    expect(principal.get_by_text("有効")).to_be_visible()
    principal.get_by_role("link", name="山田 太郎さんの任命を取り消す").click()
    expect(principal.get_by_role("heading", level=1)).to_have_text("任命の取消し")
    _assert_fits_a_phone(principal)
    _assert_accessible(principal)
    principal.get_by_role("button", name="今すぐ取り消す").click()
    principal.wait_for_url(f"{platform.portal}/proxy?done=revoked")
    expect(principal.get_by_text("取消し済み")).to_be_visible()

    # The proxy's open session is refused at its next page, and told why.
    proxy.reload()
    expect(proxy.get_by_role("alert")).to_contain_text("権限は終了しました")
    expect(proxy.get_by_role("region", name="代理で操作中")).to_have_count(0)
    _assert_accessible(proxy)

    # What the proxy did, on the principal's own page.
    principal.get_by_role("link", name="代理人による操作の履歴").click()
    expect(principal.get_by_role("heading", level=1)).to_have_text("代理人による操作の履歴")
    expect(principal.get_by_text("代理での操作を始めました")).to_be_visible()
    _assert_fits_a_phone(principal)
    _assert_accessible(principal)
    proxy_context.close()
    principal_context.close()
