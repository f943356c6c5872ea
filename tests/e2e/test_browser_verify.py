"""やりとり履歴: a resident verifies an entry in the browser, and tampering shows.

The page checks the signed tree head and the inclusion proof itself (Web Crypto);
Playwright alters the documents on their way to the page to show that it does.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, Route, expect

from myna.network.transparency import SignedTreeHead
from myna.platform.db import unit_of_work
from tests.e2e.conftest import Platform
from tests.e2e.test_browser_my_info import _login

pytestmark = pytest.mark.browser
axe = Axe()
PHONE = {"width": 390, "height": 844}
PROOFS = "**/exchanges/*/proof.json"
Bundle = dict[str, Any]


def _assert_accessible(page: Page) -> None:
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    assert results.violations_count == 0, results.generate_report()


def _retrieve_and_publish(page: Page, platform: Platform) -> SignedTreeHead:
    """Retrieve わたしの情報 (which logs exchanges) and sign a head over them."""
    page.goto(f"{platform.portal}/my-info")
    page.get_by_role("button", name="取得する").click()
    expect(page.get_by_role("heading", name="住民税")).to_be_visible()
    with unit_of_work(platform.container.session_factory) as session:
        return platform.container.publish_tree_head(session)


def _open_newest(page: Page) -> None:
    """Open the newest exchange's card to its items (as a resident taps it)."""
    card = page.locator(".exchange details").first
    if card.get_attribute("open") is None:
        card.locator("summary").click()
    expect(card).to_have_attribute("open", "")


def _verify_first(page: Page, name: str = "検証する") -> Locator:
    """Press the first entry's verify button; its status region."""
    _open_newest(page)
    button = page.get_by_role("button", name=name, exact=True).first
    index = button.get_attribute("data-verify-index")
    button.click()
    return page.locator(f"#verify-status-{index}")


def _alter(page: Page, url: str, change: Callable[[Any], Any]) -> None:
    """Pass the real response for ``url`` through ``change`` before the page sees it."""

    def handle(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json=change(response.json()))

    page.route(url, handle)


def test_a_resident_verifies_an_entry_on_a_phone(browser: Browser, platform: Platform) -> None:
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    page = _login(context, platform)
    head = _retrieve_and_publish(page, platform)
    page.goto(f"{platform.portal}/exchanges")
    _open_newest(page)
    button = page.get_by_role("button", name="検証する", exact=True).first
    box = button.bounding_box()
    assert box is not None
    assert box["width"] >= 24
    assert box["height"] >= 24

    status = _verify_first(page)
    expect(status).to_have_attribute("role", "status")
    expect(status).to_contain_text("確認できました：この記録は、署名された記録簿")
    expect(status).to_contain_text(f"（{head.tree_size}件、")
    expect(status).to_contain_text(f"鍵ID {platform.container.log_signer.key_id[:16]}")
    expect(status).to_contain_text("改ざんされていません。")
    _assert_accessible(page)
    context.close()


def test_an_altered_entry_is_shown_not_to_be_in_the_log(
    browser: Browser, platform: Platform
) -> None:
    context = browser.new_context(locale="ja-JP")
    page = _login(context, platform)
    head = _retrieve_and_publish(page, platform)
    page.goto(f"{platform.portal}/exchanges")
    alterations: list[Callable[[Bundle], None]] = [
        lambda b: b["entry"].update(
            outcome="denied" if b["entry"]["outcome"] != "denied" else "success"
        ),
        lambda b: b["entry"].update(item="my-number"),
        lambda b: b["entry"].update(index=b["entry"]["index"] + 1),
    ]
    for alteration in alterations:

        def change(bundle: Bundle, alteration: Callable[[Bundle], None] = alteration) -> Bundle:
            alteration(bundle)
            return bundle

        _alter(page, PROOFS, change)
        page.reload()
        status = _verify_first(page)
        expect(status).to_contain_text("記録が記録簿に含まれていません")
        expect(status).to_contain_text(f"（{head.tree_size}件、")
        expect(status).not_to_contain_text("確認できました")
        page.unroute(PROOFS)
    _assert_accessible(page)
    context.close()


def _flip_signature_bits(token: str) -> str:
    """Change the signature's first character: significant bits, unlike the last one's."""
    signed, signature = token.rsplit(".", 1)
    first = "A" if signature[0] != "A" else "B"
    return f"{signed}.{first}{signature[1:]}"


def test_an_altered_tree_head_fails_the_signature_check(
    browser: Browser, platform: Platform
) -> None:
    context = browser.new_context(locale="ja-JP")
    page = _login(context, platform)
    _retrieve_and_publish(page, platform)
    page.goto(f"{platform.portal}/exchanges")
    forged_root = base64.b64encode(bytes(32)).decode()
    alterations: list[Callable[[Bundle], None]] = [
        lambda b: b["tree_head"].update(root_hash=forged_root),
        lambda b: b["tree_head"].update(
            signature=_flip_signature_bits(b["tree_head"]["signature"])
        ),
        lambda b: b["tree_head"].update(tree_size=b["tree_head"]["tree_size"] + 1),
    ]
    for alteration in alterations:

        def change(bundle: Bundle, alteration: Callable[[Bundle], None] = alteration) -> Bundle:
            alteration(bundle)
            return bundle

        _alter(page, PROOFS, change)
        page.reload()
        status = _verify_first(page)
        expect(status).to_contain_text("署名が正しくありません")
        expect(status).not_to_contain_text("確認できました")
        page.unroute(PROOFS)

    # A key set without the head's key: the head is not the published log's.
    _alter(page, "**/transparency/keys", lambda keys: {"keys": []})
    page.reload()
    status = _verify_first(page)
    expect(status).to_contain_text("公開されている記録簿の鍵ではありません")
    page.unroute("**/transparency/keys")

    page.route(PROOFS, lambda route: route.abort())
    page.reload()
    status = _verify_first(page)
    expect(status).to_contain_text("通信できませんでした")
    _assert_accessible(page)
    context.close()


def test_the_english_page_says_what_was_verified(browser: Browser, platform: Platform) -> None:
    context = browser.new_context(locale="ja-JP")
    page = _login(context, platform)
    head = _retrieve_and_publish(page, platform)
    page.goto(f"{platform.portal}/exchanges")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exchange history")
    status = _verify_first(page, "Verify")
    expect(status).to_contain_text("Verified: this entry is in the signed log")
    expect(status).to_contain_text(f"({head.tree_size} entries, as of ")
    expect(status).to_contain_text(f"key ID {platform.container.log_signer.key_id[:16]}")
    _assert_accessible(page)

    _alter(page, PROOFS, lambda b: {**b, "entry": {**b["entry"], "item": "my-number"}})
    page.reload()
    status = _verify_first(page, "Verify")
    expect(status).to_contain_text("This entry is NOT in the log")
    context.close()
