"""E-applications in a real browser: the form, signing in the card reader, receipts,
notices and the back office's status changes, with axe and a phone-sized screen."""

from __future__ import annotations

import re
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, expect
from sqlalchemy import func, select

from myna import agencies, card, jpki, network, notices, registry
from myna.applications import forms, submission
from myna.applications.models import Application
from myna.office import service as office
from myna.platform.db import unit_of_work
from tests.e2e.conftest import PASSWORD, PIN, Platform
from tests.integration.applications.filing import DISASTER, PROCEDURES, VALID_DISASTER

pytestmark = pytest.mark.browser
axe = Axe()
MUNICIPALITY = "131016"  # 東京都千代田区, taro's municipality
FORM_PATH = f"/apply/{MUNICIPALITY}/{DISASTER}"
PROCEDURE = "罹災証明書の発行申請"
TARO = "山田 太郎"
PIN_LABEL = "利用者証明用電子証明書の暗証番号（数字4桁）"
PASSWORD_LABEL = "署名用電子証明書のパスワード（英数字6〜16文字）"
STAFF_PASSWORD = "office-pass-2026"
PDF = b"%PDF-1.4\n" + b"1" * 2000
RECEIPT_URL = re.compile(r".*/applications/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def _assert_accessible(page: Page) -> None:
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    assert results.violations_count == 0, results.generate_report()


def _assert_fits_a_phone(page: Page) -> None:
    overflow = page.evaluate(
        "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    )
    assert overflow <= 1


def _taro_id(platform: Platform) -> int:
    with unit_of_work(platform.container.session_factory) as session:
        return registry.ensure_personas(session=session)["taro"].id


def _login(context: BrowserContext, platform: Platform, holder: str = TARO) -> Page:
    """Log in through the reader, choosing the holder's card (the reader may hold others)."""
    portal = context.new_page()
    portal.goto(f"{platform.portal}/login")
    href = portal.get_by_role("link", name="カードリーダーを開く").get_attribute("href")
    assert href
    reader = context.new_page()
    reader.goto(href)
    reader.get_by_role("radio", name=re.compile(holder)).check()
    reader.get_by_label(PIN_LABEL).fill(PIN)
    reader.get_by_role("button", name="このカードで応答する").click()
    expect(reader.locator("#reader-done")).to_be_visible()
    reader.close()
    portal.wait_for_url(f"{platform.portal}/home")
    return portal


def _fill_the_rest(page: Page) -> None:
    """Everything of the 罹災証明書 form but the pre-filled address."""
    page.get_by_label("被災した日").fill("2026-09-15")
    page.get_by_label("災害の種類").select_option("storm")
    page.get_by_role("radio", name="住家（持ち家）").check()
    page.get_by_label("建物との関係").select_option("owner-occupant")
    page.get_by_label("被害の状況").fill("屋根瓦が飛ばされ、2階の天井から雨漏りがしています。")
    page.get_by_label("必要な通数").fill("2")
    page.get_by_label("日中の電話番号").fill("03-1234-5678")
    page.get_by_role("checkbox", name=re.compile("申請内容に相違ありません")).check()


def _check_and_open_signing(page: Page, platform: Platform) -> None:
    """入力内容を確認する, then 署名して提出: the signing page waits for the card."""
    page.get_by_role("button", name="入力内容を確認する").click()
    ready = page.locator("#ready")
    expect(ready).to_be_visible()
    ready.get_by_role("button", name="署名して提出").click()
    page.wait_for_url(re.compile(rf"{re.escape(platform.portal)}/apply/sign/[A-Za-z0-9_-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("申請書に署名する")


def _open_reader(context: BrowserContext, signing: Page) -> Page:
    with context.expect_page() as opened:
        signing.get_by_role("link", name="カードリーダーを開く").click()
    reader = opened.value
    reader.wait_for_load_state()
    return reader


def _sign_in_reader(reader: Page, password: str, holder: str = TARO) -> None:
    reader.get_by_role("radio", name=re.compile(holder)).check()
    reader.get_by_label(PASSWORD_LABEL).fill(password)
    reader.get_by_role("button", name="署名して提出").click()


def _file_directly(platform: Platform) -> str:
    """File a 罹災証明書 for taro with his card, as the pages and the reader do."""
    with unit_of_work(platform.container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        forms.save_draft(
            session=session,
            resident_id=taro.id,
            municipality_code=MUNICIPALITY,
            code=DISASTER,
            data=dict(VALID_DISASTER),
        )
        request = submission.prepare(
            session=session,
            procedures=PROCEDURES,
            resident_id=taro.id,
            municipality_code=MUNICIPALITY,
            code=DISASTER,
            submission_key=submission.new_submission_key(),
        )
        reader = card.VirtualCardReader(
            platform.settings.card_dir, platform.settings.card_secret.get_secret_value()
        )
        signature = reader.open_session(platform.card_id, "sign", PASSWORD).sign_cms(
            request.content
        )
        filed = submission.complete(
            session=session,
            procedures=PROCEDURES,
            settings=platform.settings,
            request_id=request.id,
            signature=signature,
        )
        return filed.receipt_number


def _signing_request(platform: Platform) -> str:
    """A signing request for taro, waiting for his card (the id of its page)."""
    with unit_of_work(platform.container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        forms.save_draft(
            session=session,
            resident_id=taro.id,
            municipality_code=MUNICIPALITY,
            code=DISASTER,
            data=dict(VALID_DISASTER),
        )
        return submission.prepare(
            session=session,
            procedures=PROCEDURES,
            resident_id=taro.id,
            municipality_code=MUNICIPALITY,
            code=DISASTER,
            submission_key=submission.new_submission_key(),
        ).id


def _new_staff(platform: Platform, municipality: str, role: office.StaffRole) -> str:
    """A fresh staff account (a login per test: TOTP codes are refused on reuse)."""
    login_id = f"e2e-{uuid.uuid4().hex[:10]}"
    with unit_of_work(platform.container.session_factory) as session:
        office.create_staff(
            session=session,
            settings=platform.settings,
            municipality_code=municipality,
            login_id=login_id,
            display_name="電子 申請担当",
            role=role,
            password=STAFF_PASSWORD,
        )
    return login_id


def _office_login(context: BrowserContext, platform: Platform, login_id: str) -> Page:
    """Password, then the current TOTP code of the account."""
    page = context.new_page()
    page.goto(f"{platform.portal}/office/login")
    page.get_by_label("ログインID").fill(login_id)
    page.get_by_label("パスワード").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="次へ").click()
    page.wait_for_url(f"{platform.portal}/office/login/code")
    with unit_of_work(platform.container.session_factory) as session:
        code = office.current_code(session=session, settings=platform.settings, login_id=login_id)
    page.get_by_label("ワンタイムコード（6桁）").fill(code)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{platform.portal}/office")
    return page


def _send_invitation(platform: Platform, title: str) -> None:
    """The municipality asks taro to apply online (a notice linking to the form)."""
    sender = agencies.municipality_agency_code(MUNICIPALITY)
    with unit_of_work(platform.container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        notices.send_notice(
            session=session,
            sender=sender,
            audience=notices.ToResident(
                link_code=network.link_code_for_resident(
                    session=session, resident_id=taro.id, agency_code=sender
                )
            ),
            content=notices.NoticeCreate(
                title=title,
                body="台風の被害を受けた方は、罹災証明書をオンラインで申請できます。",
                category=notices.Category.PROCEDURE,
                action_url=FORM_PATH,
            ),
        )


def _applications_of(platform: Platform, resident_id: int) -> int:
    with unit_of_work(platform.container.session_factory) as session:
        count = session.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.resident_id == resident_id)
        )
        return count or 0


def _sign_tries_left(platform: Platform) -> int:
    reader = card.VirtualCardReader(
        platform.settings.card_dir, platform.settings.card_secret.get_secret_value()
    )
    return reader.summary(platform.card_id).sign_tries_left


def _prefill_and_attach(page: Page) -> None:
    """Pre-fill only the group the resident agrees to (through the hub), attach a PDF."""
    prefill = page.get_by_role("region", name="あなたの情報から入力する")
    prefill.get_by_role("checkbox", name="被害を受けた建物").check()
    prefill.get_by_role("button", name="同意して入力する").click()
    expect(page.get_by_role("status")).to_contain_text("あなたの情報から入力しました")
    expect(page.get_by_label("被害を受けた建物の所在地")).to_have_value(re.compile("神田神保町"))
    expect(page.get_by_label("日中の電話番号")).to_have_value("")

    photo = FilePayload(name="被害写真.pdf", mimeType="application/pdf", buffer=PDF)
    page.get_by_label("添付するファイル").set_input_files(files=[photo])
    page.get_by_role("button", name="添付する", exact=True).click()
    expect(page.get_by_text("ファイルを添付しました。")).to_be_visible()
    expect(page.locator("#attachments")).to_contain_text("被害写真.pdf")


def test_a_resident_applies_from_a_notice_and_signs_in_the_card_reader(
    browser: Browser, platform: Platform
) -> None:
    title = f"罹災証明書のオンライン申請のご案内 {uuid.uuid4().hex[:6]}"
    _send_invitation(platform, title)
    context = browser.new_context(locale="ja-JP")
    page = _login(context, platform)

    # The notice leads to the form.
    page.goto(f"{platform.portal}/notices")
    invitation = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=title))
    expect(invitation).to_contain_text("未読")
    invitation.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    page.get_by_role("link", name="手続きへ進む").click()
    page.wait_for_url(f"{platform.portal}{FORM_PATH}")
    expect(page.get_by_role("heading", level=1)).to_have_text(PROCEDURE)
    _assert_accessible(page)

    _prefill_and_attach(page)
    _fill_the_rest(page)
    _check_and_open_signing(page, platform)
    expect(page.get_by_text(PROCEDURE).first).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text=TARO)).to_be_visible()
    _assert_accessible(page)

    reader = _open_reader(context, page)
    document = reader.get_by_role("region", name=PROCEDURE)
    expect(document).to_be_visible()
    expect(document.get_by_role("definition").filter(has_text=TARO)).to_be_visible()
    expect(document).to_contain_text("被害写真.pdf")
    expect(reader.get_by_text(platform.portal)).to_be_visible()
    _assert_accessible(reader)
    _sign_in_reader(reader, PASSWORD)
    expect(reader.get_by_role("heading", level=1)).to_have_text("署名しました")

    # The portal page polls and opens the receipt by itself.
    page.wait_for_url(RECEIPT_URL)
    receipt = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text(PROCEDURE)
    expect(page.locator("#application-status")).to_have_text("受付")
    expect(page.get_by_text(receipt)).to_be_visible()
    expect(page.get_by_text("被害写真.pdf")).to_be_visible()
    _assert_accessible(page)

    page.goto(f"{platform.portal}/notices")
    expect(invitation).not_to_contain_text("未読")
    page.get_by_role("link", name=f"【申請を受け付けました】{PROCEDURE}").first.click()
    expect(page.locator("article")).to_contain_text(f"受付番号: {receipt}")

    page.goto(f"{platform.portal}/exchanges")
    expect(page.locator(".exchange summary").first).to_contain_text("電子申請の入力補助")
    context.close()


def test_a_supervisor_completes_an_application_and_the_resident_sees_it(
    browser: Browser, platform: Platform
) -> None:
    receipt = _file_directly(platform)
    context = browser.new_context(locale="ja-JP")
    page = _login(context, platform)
    page.goto(f"{platform.portal}/applications/{receipt}")
    expect(page.locator("#application-status")).to_have_text("受付")

    login_id = _new_staff(platform, MUNICIPALITY, office.StaffRole.SUPERVISOR)
    staff_context = browser.new_context(locale="ja-JP")
    staff = _office_login(staff_context, platform, login_id)

    staff.goto(f"{platform.portal}/office/applications")
    expect(staff.get_by_role("heading", level=1)).to_have_text("申請一覧")
    staff.get_by_role("listitem").filter(has_text=receipt).get_by_role(
        "link", name=PROCEDURE
    ).click()
    staff.wait_for_url(f"{platform.portal}/office/applications/{receipt}")
    _assert_accessible(staff)

    status_form = staff.get_by_role("region", name="状況を変更")
    status_form.get_by_role("radio", name=re.compile("^審査中")).check()
    status_form.get_by_role("button", name="状況を変更").click()
    expect(staff.get_by_text("状況を変更しました。申請者にお知らせを送りました。")).to_be_visible()
    expect(staff.locator("dd.status")).to_have_text("審査中")

    message = "罹災証明書を発行しました。窓口または郵送でお受け取りください。"
    status_form.get_by_role("radio", name=re.compile("^完了")).check()
    status_form.get_by_label("申請者へのメッセージ").fill(message)
    status_form.get_by_role("button", name="状況を変更").click()
    expect(staff.get_by_text("状況を変更しました。申請者にお知らせを送りました。")).to_be_visible()
    expect(staff.locator("dd.status")).to_have_text("完了")
    expect(
        staff.get_by_text("この申請は処理が終わっているため、状況は変更できません。")
    ).to_be_visible()
    _assert_accessible(staff)
    staff_context.close()

    page.reload()
    expect(page.locator("#application-status")).to_have_text("完了")
    expect(page.get_by_text(message)).to_be_visible()
    page.goto(f"{platform.portal}/notices")
    page.get_by_role("link", name=f"【申請の処理が完了しました】{PROCEDURE}").first.click()
    article = page.locator("article")
    expect(article).to_contain_text(f"受付番号: {receipt}")
    expect(article).to_contain_text(message)
    context.close()


def test_a_wrong_signing_password_shows_the_tries_left_and_files_nothing(
    browser: Browser, platform: Platform
) -> None:
    taro_id = _taro_id(platform)
    context = browser.new_context(locale="ja-JP")
    page = _login(context, platform)
    page.goto(f"{platform.portal}{FORM_PATH}")
    page.get_by_label("被害を受けた建物の所在地").fill("東京都千代田区千代田1-1")
    _fill_the_rest(page)
    _check_and_open_signing(page, platform)
    request_id = page.url.rsplit("/", 1)[1]
    filed_before = _applications_of(platform, taro_id)

    reader = _open_reader(context, page)
    _sign_in_reader(reader, "WRONG2026")
    expect(reader.get_by_role("alert")).to_have_text(
        "署名用パスワードが違います。あと4回間違えるとロックされます。"
    )
    _assert_accessible(reader)
    assert _sign_tries_left(platform) == 4
    assert _applications_of(platform, taro_id) == filed_before
    with unit_of_work(platform.container.session_factory) as session:
        state = submission.status(session=session, request_id=request_id, resident_id=taro_id)
    assert state == {"state": "pending"}
    expect(page.locator("#signing-status")).to_have_text("カードの応答を待っています…")

    # The right password afterwards files it once and restores the tries.
    _sign_in_reader(reader, PASSWORD)
    expect(reader.get_by_role("heading", level=1)).to_have_text("署名しました")
    page.wait_for_url(RECEIPT_URL)
    assert _applications_of(platform, taro_id) == filed_before + 1
    assert _sign_tries_left(platform) == 5
    context.close()


def test_the_form_and_the_receipt_fit_a_phone(browser: Browser, platform: Platform) -> None:
    receipt = _file_directly(platform)
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = _login(context, platform)
    page.goto(f"{platform.portal}{FORM_PATH}")
    expect(page.get_by_role("heading", level=1)).to_have_text(PROCEDURE)
    _assert_fits_a_phone(page)
    # The error summary and the field errors fit too.
    page.get_by_role("button", name="入力内容を確認する").click()
    expect(page.get_by_role("alert")).to_be_visible()
    _assert_fits_a_phone(page)
    page.goto(f"{platform.portal}/applications/{receipt}")
    expect(page.locator("#application-status")).to_have_text("受付")
    _assert_fits_a_phone(page)
    # The signing page, with its long document fingerprint, fits too.
    page.goto(f"{platform.portal}/apply/sign/{_signing_request(platform)}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _assert_fits_a_phone(page)
    context.close()


def test_without_scripts_a_file_keeps_the_typed_form_and_the_review_reads_it(
    browser: Browser, platform: Platform
) -> None:
    """Attach a file with scripts off on a phone: nothing typed is lost; then the review."""
    logged = browser.new_context(locale="ja-JP")
    _login(logged, platform)
    state = logged.storage_state()
    logged.close()
    context = browser.new_context(
        locale="ja-JP",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
        storage_state=state,
    )
    page = context.new_page()
    page.goto(f"{platform.portal}{FORM_PATH}")
    page.get_by_label("被害を受けた建物の所在地").fill("東京都千代田区千代田1-1")
    _fill_the_rest(page)
    photo = FilePayload(name="屋根の写真.pdf", mimeType="application/pdf", buffer=PDF)
    page.get_by_label("添付するファイル").set_input_files(files=[photo])
    page.get_by_role("button", name="添付する", exact=True).click()
    expect(page.get_by_text("ファイルを添付しました。")).to_be_visible()
    expect(page.locator("#attachments")).to_contain_text("屋根の写真.pdf")
    expect(page.get_by_label("被害を受けた建物の所在地")).to_have_value("東京都千代田区千代田1-1")
    expect(page.get_by_label("日中の電話番号")).to_have_value("03-1234-5678")
    expect(page.get_by_label("被災した日")).to_have_value("2026-09-15")
    expect(
        page.get_by_role("checkbox", name=re.compile("申請内容に相違ありません"))
    ).to_be_checked()
    _assert_fits_a_phone(page)

    page.get_by_role("button", name="入力内容を確認する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    review = page.get_by_role("region", name=PROCEDURE)
    expect(review.get_by_role("definition").filter(has_text="令和8年9月15日")).to_be_visible()
    expect(review).to_contain_text("屋根の写真.pdf")
    expect(review.get_by_role("textbox")).to_have_count(0)
    expect(page.locator("#ready").get_by_role("button", name="署名して提出")).to_be_visible()
    _assert_fits_a_phone(page)  # axe needs scripts: the review is checked in the next journey

    page.get_by_role("link", name="修正する").click()
    page.wait_for_url(f"{platform.portal}{FORM_PATH}")
    expect(page.get_by_label("日中の電話番号")).to_have_value("03-1234-5678")
    expect(page.locator("#attachments")).to_contain_text("屋根の写真.pdf")
    context.close()


def test_a_revoked_signing_certificate_stops_the_waiting_page_and_the_next_signature(
    browser: Browser, platform: Platform
) -> None:
    """Hanako's card (not taro's: the other journeys sign with his) is revoked mid-way."""
    with unit_of_work(platform.container.session_factory) as session:
        hanako = registry.ensure_personas(session=session)["hanako"]
        issued = card.issue_card(
            session=session,
            settings=platform.settings,
            resident_id=hanako.id,
            pin=PIN,
            password=PASSWORD,
        )
    try:
        context = browser.new_context(locale="ja-JP")
        page = _login(context, platform, holder="山田 花子")
        page.goto(f"{platform.portal}{FORM_PATH}")
        page.get_by_label("被害を受けた建物の所在地").fill("東京都千代田区神田神保町2-3-4")
        _fill_the_rest(page)
        _check_and_open_signing(page, platform)
        expect(page.locator("#signing-status")).to_have_text("カードの応答を待っています…")

        reader = card.VirtualCardReader(
            platform.settings.card_dir, platform.settings.card_secret.get_secret_value()
        )
        serial = reader.read_certificate(issued.card_id, "sign").serial_number
        with unit_of_work(platform.container.session_factory) as session:
            jpki.revoke_certificate(
                session=session, serial=serial, reason=jpki.RevocationReason.BASIC_INFO_CHANGE
            )
        failure = page.locator("#signing-error")
        expect(failure).to_be_visible(timeout=10_000)
        expect(failure).to_contain_text("署名用電子証明書が失効しているため")
        expect(failure).to_contain_text("市区町村の窓口で再発行を受けて")
        expect(page.locator("#signing")).to_be_hidden()
        _assert_accessible(page)

        # Pressing 署名して提出 again is refused at once, before any signing request.
        page.get_by_role("link", name="申請フォームに戻る").click()
        page.get_by_role("button", name="入力内容を確認する").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
        _assert_accessible(page)
        page.locator("#ready").get_by_role("button", name="署名して提出").click()
        expect(page.get_by_role("alert")).to_contain_text("署名用電子証明書が失効しているため")
        expect(page.locator("#ready")).to_have_count(0)
        _assert_accessible(page)
        context.close()
    finally:
        for name in (f"{issued.card_id}.json", f".{issued.card_id}.lock"):
            (platform.settings.card_dir / name).unlink(missing_ok=True)
