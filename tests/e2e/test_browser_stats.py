"""/stats in a real browser: SVG charts with their tables, on a phone, axe clean, strict CSP."""

from __future__ import annotations

import csv
import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.e2e.conftest import Platform

pytestmark = pytest.mark.browser
WCAG = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]


def test_the_dashboard_draws_accessible_charts_on_a_phone(
    browser: Browser, platform: Platform
) -> None:
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", on_console)
    missing: list[str] = []
    page.on(
        "response",
        lambda answer: (
            missing.append(answer.url) if answer.url.endswith(".css") and not answer.ok else None
        ),
    )
    response = page.goto(f"{platform.portal}/stats")
    assert response is not None
    assert response.status == 200
    assert "style-src 'self';" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", level=1)).to_have_text("利用状況")
    charts = page.locator('svg[role="img"]')
    assert charts.count() == 8
    # Each chart is named by its title and described, and its table follows it.
    expect(page.get_by_role("img", name="1日ごとのログイン数（直近30日）")).to_be_visible()
    assert page.locator("svg.chart-line circle.point, svg.chart-line rect.withheld").count() == 30
    logins_table = page.get_by_role("table", name="グラフの数値：1日ごとのログイン数")
    expect(logins_table).to_be_hidden()
    page.locator("#logins summary").click()
    expect(logins_table).to_be_visible()
    assert logins_table.locator("tbody tr").count() == 31
    expect(logins_table.locator("tbody tr").first).to_contain_text("令和")
    # The stylesheet colours the bars (no inline style could).
    fill = page.eval_on_selector(
        "svg.chart-bar rect.bar, svg.chart-bar text.suppressed",
        "e => getComputedStyle(e).fill",
    )
    assert fill in ("rgb(0, 51, 141)", "rgb(74, 74, 74)")
    # Nothing is wider than the phone: the wide tables scroll inside their own region.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    results = Axe().run(page, options={"runOnly": WCAG})
    assert results.violations_count == 0, results.generate_report()
    assert refused == []
    assert missing == []

    # One municipality's cards, then the page in English.
    page.get_by_label("市区町村を選んでカードの状況を見る").select_option(index=1)
    page.get_by_role("button", name="表示").click()
    expect(page).to_have_url(f"{platform.portal}/stats?municipality=" + page.url[-6:])
    assert page.locator('svg[role="img"]').count() == 7
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Usage statistics")
    expect(page.get_by_text("Reiwa").first).to_be_visible()
    results = Axe().run(page, options={"runOnly": WCAG})
    assert results.violations_count == 0, results.generate_report()
    context.close()


def test_the_open_data_downloads_as_csv_and_json(browser: Browser, platform: Platform) -> None:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(f"{platform.portal}/stats")
    with page.expect_download() as download:
        page.get_by_role("link", name="表「logins」（CSV）").click()
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) == 31
    assert set(rows[0]) == {"day", "logins", "logins_suppressed"}
    data = context.request.get(f"{platform.portal}/stats/data.json").json()
    assert len(data["logins"]) == 31
    assert data["threshold"] == platform.settings.stats_threshold
    context.close()
