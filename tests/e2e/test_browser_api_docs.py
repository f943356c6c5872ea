"""/api/docs: Swagger UI served by the portal, under the strict Content-Security-Policy.

Axe runs here without two rules that Swagger UI itself breaks and Myna does not control:
``color-contrast`` (its white-on-green method badges, its grey version stamps),
``nested-interactive`` (each operation's header is a button holding other buttons) and
``target-size`` (its 19-pixel-high path links).
Everything else is held to WCAG 2.x A/AA as the portal's own pages are.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.e2e.conftest import Platform

pytestmark = pytest.mark.browser
SWAGGER_UI_OWN_VIOLATIONS = ("color-contrast", "nested-interactive", "target-size")


def test_the_api_reference_lists_the_operations_under_the_strict_csp(
    browser: Browser, platform: Platform
) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    refused: list[str] = []
    elsewhere: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", on_console)
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(platform.portal) else elsewhere.append(request.url)
        ),
    )
    response = page.goto(f"{platform.portal}/api/docs")
    assert response is not None
    assert response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    # No inline script: every script is a file the policy lets in.
    assert page.eval_on_selector_all("script", "all => all.filter(s => !s.src).length") == 0
    # The operations of the partner API are listed, by tag.
    expect(page.locator(".opblock-tag", has_text="resource APIs")).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/oauth/token").first).to_be_visible()
    expect(
        page.locator(".opblock-summary-path", has_text="/api/partners/v1/myinfo").first
    ).to_be_visible()
    # Opening one shows its description.
    page.locator(".opblock-summary-path", has_text="/api/partners/v1/myinfo").first.click()
    expect(page.get_by_text("application/jwt").first).to_be_visible()
    assert refused == []
    assert elsewhere == []
    checked = Axe().run(
        page,
        options={
            "runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"],
            "rules": {rule: {"enabled": False} for rule in SWAGGER_UI_OWN_VIOLATIONS},
        },
    )
    assert checked.violations_count == 0, checked.generate_report()
    context.close()
