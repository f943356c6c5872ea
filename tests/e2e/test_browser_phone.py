"""The stand-in phone app in Chromium: issue the phone credential, log in, sign.

Chromium's virtual authenticator (DevTools WebAuthn domain) plays the phone's platform
authenticator with user verification; the portal runs under ``localhost`` because
WebAuthn refuses an IP address as relying party id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from myna import card, registry
from myna.app import create_app
from myna.applications import forms, submission
from myna.bench.harness import free_port
from myna.bootstrap import Container, build_container
from myna.platform.db import unit_of_work
from myna.platform.settings import Settings
from myna.reader.app import create_reader_app
from myna.runtime import prepare_database
from tests.conftest import TEST_SETTINGS
from tests.e2e.conftest import PASSWORD, PIN, ServerThread
from tests.integration.applications.filing import DISASTER, PROCEDURES, VALID_DISASTER

pytestmark = pytest.mark.browser
axe = Axe()
PASSWORD_LABEL = "署名用電子証明書のパスワード（英数字6〜16文字）"
PIN_LABEL = "利用者証明用電子証明書の暗証番号（数字4桁）"


def _assert_accessible(page: Page) -> None:
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture(scope="module")
def localhost_platform(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Container, int]]:
    data_dir: Path = tmp_path_factory.mktemp("phone-platform")
    portal_port, reader_port = free_port(), free_port()
    settings = Settings(
        environment="test",
        data_dir=data_dir,
        portal_url=f"http://localhost:{portal_port}",
        reader_url=f"http://localhost:{reader_port}",
        log_json=False,
        tree_head_interval_seconds=3600,
        login_rate_limit="600/minute",
        **TEST_SETTINGS,  # type: ignore[arg-type]
    )
    container = build_container(settings)
    prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        card.issue_card(
            session=session, settings=settings, resident_id=taro.id, pin=PIN, password=PASSWORD
        )
    servers = [
        ServerThread(create_app(container), portal_port),
        ServerThread(create_reader_app(container), reader_port),
    ]
    for server in servers:
        server.start()
    try:
        yield settings.portal_url, container, taro.id
    finally:
        for server in servers:
            server.stop()
        container.engine.dispose()


def _authenticator(context: BrowserContext, page: Page) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def _signing_request(container: Container, resident_id: int) -> str:
    with unit_of_work(container.session_factory) as session:
        resident = registry.get_resident(session=session, resident_id=resident_id)
        forms.save_draft(
            session=session,
            resident_id=resident_id,
            municipality_code=resident.municipality_code,
            code=DISASTER,
            data=dict(VALID_DISASTER),
        )
        view = submission.prepare(
            session=session,
            procedures=PROCEDURES,
            resident_id=resident_id,
            municipality_code=resident.municipality_code,
            code=DISASTER,
            submission_key="browser-phone-1",
        )
        return view.id


def test_the_phone_app_issues_logs_in_and_signs(
    browser: Browser, localhost_platform: tuple[str, Container, int]
) -> None:
    portal_url, container, resident_id = localhost_platform
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    page = context.new_page()
    _authenticator(context, page)

    # Log in with the card (the reader, auth PIN), then issue from the phone app.
    page.goto(f"{portal_url}/phone/issue")
    _assert_accessible(page)
    page.get_by_role("link", name="先にマイナンバーカードでログインする").click()
    with context.expect_page() as opened:
        page.get_by_role("link", name="カードリーダーを開く").click()
    reader = opened.value
    reader.get_by_label(PIN_LABEL).fill(PIN)
    reader.get_by_role("button", name="このカードで応答する").click()
    page.wait_for_url(f"{portal_url}/phone/issue")
    reader.close()

    page.get_by_role("button", name="発行を始める").click()
    card_step = page.locator("#card-step")
    expect(card_step).to_be_visible(timeout=30_000)
    with context.expect_page() as opened:
        card_step.click()
    reader = opened.value
    expect(reader.get_by_text("スマホ用電子証明書の発行申請")).to_be_visible()
    reader.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    reader.get_by_role("button", name="署名して提出").click()
    reader.close()
    expect(page.locator("#phone-status")).to_have_text(
        "このスマホにスマホ用電子証明書が発行されました。", timeout=30_000
    )
    _assert_accessible(page)

    # Log out, then log in with the phone: its auth key and the unlock.
    page.goto(f"{portal_url}/home")
    page.get_by_role("button", name="ログアウト").click()
    page.goto(f"{portal_url}/login")
    page.get_by_role("link", name="スマホでログインする").click()
    _assert_accessible(page)
    page.get_by_role("button", name="ロックを解除してログイン").click()
    page.wait_for_url(f"{portal_url}/home", timeout=30_000)
    expect(page.get_by_role("heading", level=1)).to_contain_text("山田 太郎")

    # Sign an application with the phone's signing key.
    request_id = _signing_request(container, resident_id)
    page.goto(f"{portal_url}/phone/sign?request={request_id}")
    _assert_accessible(page)
    page.get_by_role("button", name="ロックを解除して署名").click()
    expect(page.locator("#phone-status")).to_contain_text("受付番号", timeout=30_000)

    page.goto(f"{portal_url}/phone/")
    expect(page.locator("#phone-status")).to_have_text(
        "このスマホにスマホ用電子証明書が搭載されています。"
    )
    _assert_accessible(page)
    context.close()
