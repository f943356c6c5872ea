"""The sample business (examples/mirai_bank) end to end in Chromium.

一郎 opens an account at みらい銀行: he logs in through the authentication app with his
card (PIN), gives his basic 4 info by signing with the signing certificate, signs the
application and the consent to the latest basic 4 info service in the card reader, and
the bank verifies the signature, the chain and the revocation status itself. He then
moves to 大阪市 (a real move through the network, which revokes his signing
certificate), has it re-issued at the counter, and the bank's staff page learns his new
address from J-LIS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from joserfc.jwk import ECKey, KeySet, OctKey, OKPKey, RSAKey
from playwright.sync_api import Browser, BrowserContext, Page, expect

from examples.mirai_bank.bank import Bank, create_bank_app
from myna import authapp, card, jpki, registry
from myna.bench.harness import free_port
from myna.jpki.verifier_domain import VerifierKind
from myna.moves import service as moves
from myna.network import transparency
from myna.platform.clock import today_in_japan
from myna.platform.db import unit_of_work
from myna.runtime import register_verifier
from tests.e2e.conftest import Platform, ServerThread
from tests.integration.applications.filing import (
    PASSWORD,
    PIN,
    Signer,
    file_application,
    signer_for,
)

pytestmark = pytest.mark.browser
axe = Axe()
ICHIRO = "鈴木 一郎"
PIN_LABEL = "利用者証明用電子証明書の暗証番号（数字4桁）"
PASSWORD_LABEL = "署名用電子証明書のパスワード（英数字6〜16文字）"
OSAKA = "271004"
NEW_ADDRESS = "北区梅田一丁目2番3号"
NEW_PASSWORD = "REISSUE2026"


def _assert_accessible(page: Page) -> None:
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    assert results.violations_count == 0, results.generate_report()


@dataclass(frozen=True)
class Customer:
    """一郎, with a card in the reader for this journey only."""

    resident_id: int
    card_id: str


@pytest.fixture
def ichiro(platform: Platform) -> Iterator[Customer]:
    """一郎 (札幌市) with a card; the card leaves the reader afterwards, so the other
    journeys' readers list the cards they expect."""
    with unit_of_work(platform.container.session_factory) as session:
        signer = signer_for(session, platform.settings, "ichiro")
    try:
        yield Customer(resident_id=signer.resident_id, card_id=signer.card_id)
    finally:
        for name in (f"{signer.card_id}.json", f".{signer.card_id}.lock"):
            (platform.settings.card_dir / name).unlink(missing_ok=True)


@pytest.fixture
def bank(platform: Platform, tmp_path: Path) -> Iterator[Bank]:
    """みらい銀行, registered as a verifier and as a client of the authentication app."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    keys: list[ECKey | RSAKey | OctKey | OKPKey] = [
        ECKey.generate_key("P-256", {"use": use, "alg": alg, "kid": f"e2e-{use}"})
        for use, alg in (("sig", "ES256"), ("enc", "ECDH-ES+A256KW"))
    ]
    client_keys = KeySet(keys)
    code = f"mirai-e2e-{port}"
    with unit_of_work(platform.container.session_factory) as session:
        identity, _folder = register_verifier(
            session,
            platform.settings,
            code=code,
            name=f"みらい銀行（{port}）",
            kind=VerifierKind.BOTH,
            platform=None,
            directory=tmp_path / "verifiers",
        )
        client = authapp.register_client(
            session=session,
            name=f"みらい銀行（{port}）",
            redirect_uris=[f"{base_url}/callback"],
            jwks=client_keys.as_dict(private=False),
        )
    state = Bank(
        portal=platform.portal,
        base_url=base_url,
        client_id=client.client_id,
        client_keys=client_keys,
        verifier=identity,
        database=tmp_path / "customers.db",
    )
    server = ServerThread(create_bank_app(state), port)
    server.start()
    try:
        yield state
    finally:
        server.stop()


def _reader(context: BrowserContext, page: Page) -> Page:
    with context.expect_page() as opened:
        page.get_by_role("link", name="カードリーダーを開く").click()
    reader = opened.value
    reader.wait_for_load_state()
    reader.get_by_role("radio", name=re.compile(ICHIRO)).check()
    return reader


def _sign(context: BrowserContext, page: Page, password: str) -> None:
    """The signing waiting page: the card signs in the reader, the page goes back."""
    reader = _reader(context, page)
    reader.get_by_label(PASSWORD_LABEL).fill(password)
    reader.get_by_role("button", name=re.compile("署名")).last.click()
    expect(reader.get_by_role("heading", level=1)).to_have_text("署名しました")
    reader.close()


def _open_account(context: BrowserContext, platform: Platform, bank: Bank) -> Page:
    page = context.new_page()
    page.goto(bank.base_url)
    _assert_accessible(page)
    page.get_by_role("link", name="デジタル認証アプリでログインして申し込む").click()
    # Not logged in at the portal: the card login first, then the request.
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    reader = _reader(context, page)
    reader.get_by_label(PIN_LABEL).fill(PIN)
    reader.get_by_role("button", name="このカードで応答する").click()
    expect(reader.locator("#reader-done")).to_be_visible()
    reader.close()
    page.wait_for_url(re.compile(r".*/authapp/consent/.*"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("みらい銀行")
    _assert_accessible(page)
    # The 4 info come from the signing certificate: signed in the reader first.
    page.get_by_role("button", name="カードリーダーで署名する").click()
    _sign(context, page, PASSWORD)
    page.wait_for_url(re.compile(r".*/authapp/consent/[^/]+$"))
    expect(page.get_by_text(ICHIRO).first).to_be_visible()
    page.get_by_role("button", name="同意して送る").click()
    page.wait_for_url(f"{bank.base_url}/apply")
    expect(page.locator("#name")).to_have_text(ICHIRO)
    expect(page.get_by_text("昭和23年11月3日")).to_be_visible()
    _assert_accessible(page)
    page.get_by_role("checkbox", name=re.compile("最新の基本4情報")).check()
    page.get_by_role("button", name="申込書にマイナンバーカードで署名する").click()
    page.wait_for_url(re.compile(r".*/authapp/sign/[^/]+$"))
    expect(page.get_by_text("普通預金口座開設申込書")).to_be_visible()
    expect(page.locator("ol code")).to_have_count(2)  # the application and the consent
    page.get_by_role("button", name="カードリーダーで署名する").click()
    _sign(context, page, PASSWORD)
    page.wait_for_url(re.compile(r".*/authapp/sign/[^/]+$"))
    page.get_by_role("link", name=re.compile("に戻る")).click()
    page.wait_for_url(f"{bank.base_url}/signed")
    return page


def _move_to_osaka(platform: Platform, customer: Customer) -> None:
    """転出届 signed with the card, then both municipalities complete the move."""
    today = today_in_japan()
    data = {
        "move_out_date": today.isoformat(),
        "new_municipality_code": OSAKA,
        "new_address": NEW_ADDRESS,
        "move_in_date": today.isoformat(),
        "movers": "self",
        "phone": "011-123-4567",
        "declaration": True,
    }
    settings = platform.settings
    with unit_of_work(platform.container.session_factory) as session:
        ichiro = registry.get_resident(session=session, resident_id=customer.resident_id)
        reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
        signer = Signer(customer.resident_id, ichiro.municipality_code, customer.card_id, reader)
        filed = file_application(
            session,
            settings,
            signer,
            code=moves.MOVE_OUT,
            data=data,
        )
        sent = moves.complete_move_out(
            session=session,
            hub=platform.container.hub_for(session),
            receipt_number=filed.receipt_number,
            municipality_code=ichiro.municipality_code,
            actor="staff:e2e",
        )
    with unit_of_work(platform.container.session_factory) as session:
        moves.complete_move_in(
            session=session,
            hub=platform.container.hub_for(session),
            move_id=sent.id,
            municipality_code=OSAKA,
            actor="staff:e2e",
            today=today,
        )


def _current_signing_serial(platform: Platform, customer: Customer) -> int:
    with unit_of_work(platform.container.session_factory) as session:
        [current] = [
            c
            for c in jpki.list_certificates(session=session, holder_id=customer.resident_id)
            if c.kind is jpki.CertificateKind.SIGN
            and c.status is jpki.CertificateStatus.VALID
            and c.card_id == customer.card_id  # other journeys may give him cards of theirs
        ]
    return current.serial


def test_a_bank_opens_an_account_with_the_card_and_learns_of_the_move(
    browser: Browser, platform: Platform, bank: Bank, ichiro: Customer
) -> None:
    context = browser.new_context(locale="ja-JP")
    page = _open_account(context, platform, bank)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "口座を開設しました", page.locator("main").inner_text()
    expect(page.get_by_text("同意を J-LIS に登録しました")).to_be_visible()
    _assert_accessible(page)
    first_serial = _current_signing_serial(platform, ichiro)
    page.goto(f"{bank.base_url}/staff")
    expect(page.locator("td.address")).to_have_text(re.compile("札幌市"))
    page.get_by_role("button", name="最新4情報提供サービスで確認する").click()
    expect(page.locator("td.note")).to_have_text("変更なし")

    _move_to_osaka(platform, ichiro)
    page.get_by_role("button", name="最新4情報提供サービスで確認する").click()
    expect(page.locator("td.note")).to_contain_text("新しい電子証明書はまだ発行されていません")
    expect(page.locator("td.address")).to_have_text(re.compile("札幌市"))

    # The counter re-issues the signing certificate onto the same card.
    with unit_of_work(platform.container.session_factory) as session:
        card.reissue_signing(
            session=session,
            settings=platform.settings,
            card_id=ichiro.card_id,
            password=NEW_PASSWORD,
        )
    page.get_by_role("button", name="最新4情報提供サービスで確認する").click()
    expect(page.locator("td.note")).to_contain_text("住所・氏名の変更を確認しました")
    expect(page.locator("td.address")).to_have_text(re.compile(f"大阪市.*{NEW_ADDRESS}"))
    _assert_accessible(page)
    # The provision is in 一郎's exchange history, requested by the bank, with its purpose.
    with unit_of_work(platform.container.session_factory) as session:
        entries = transparency.entries_for_subject(
            session=session, subject=str(ichiro.resident_id)
        ).items
    provided = [entry for entry in entries if entry.procedure == jpki.LOG_PROCEDURE]
    assert [(e.requester, e.provider) for e in provided] == [
        (bank.verifier.organization_code, jpki.LOG_PROVIDER)
    ]
    assert first_serial != _current_signing_serial(platform, ichiro)
    context.close()
