"""A move (引越し) in a real browser: 転出届・転入予約 signed with the card, the departing
municipality's completion, the arriving one's move-in, and the resident's progress page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from myna import card, jpki, registry
from myna.moves import service as moves
from myna.office import service as office
from myna.platform.clock import today_in_japan
from myna.platform.db import unit_of_work
from tests.e2e.conftest import PASSWORD, PIN, Platform
from tests.e2e.test_browser_applications import (
    RECEIPT_URL,
    _assert_accessible,
    _assert_fits_a_phone,
    _check_and_open_signing,
    _login,
    _new_staff,
    _office_login,
    _open_reader,
    _sign_in_reader,
)

pytestmark = pytest.mark.browser
FROM = "141003"  # 神奈川県横浜市, where misaki lives
TO = "271004"  # 大阪府大阪市
CHIYODA = "131016"  # 東京都千代田区, where taro lives
MISAKI = "佐藤 美咲"
NEW_ADDRESS = "北区梅田一丁目2番3号"


@dataclass(frozen=True)
class Mover:
    """A persona who moves alone (not taro: the other journeys rely on his address)."""

    resident_id: int
    card_id: str


@pytest.fixture
def mover(platform: Platform) -> Iterator[Mover]:
    """Misaki with a card in the reader; the card leaves the reader afterwards.

    The reader lists every card and ticks the first by id, so a card left behind could
    take the place of taro's in the other journeys' logins.
    """
    with unit_of_work(platform.container.session_factory) as session:
        misaki = registry.ensure_personas(session=session)["misaki"]
        assert misaki.municipality_code == FROM
        issued = card.issue_card(
            session=session,
            settings=platform.settings,
            resident_id=misaki.id,
            pin=PIN,
            password=PASSWORD,
        )
    try:
        yield Mover(resident_id=misaki.id, card_id=issued.card_id)
    finally:
        for name in (f"{issued.card_id}.json", f".{issued.card_id}.lock"):
            (platform.settings.card_dir / name).unlink(missing_ok=True)


def _file_the_move(context: BrowserContext, platform: Platform) -> tuple[Page, str]:
    """The resident files the 転出届 and reserves the move-in, signed with the card."""
    today = today_in_japan().isoformat()
    page = _login(context, platform, holder=MISAKI)
    page.goto(f"{platform.portal}/moves")
    expect(page.get_by_text("引越しの手続はまだありません。")).to_be_visible()
    page.get_by_role("link", name="転出届・転入予約をする").click()
    page.wait_for_url(f"{platform.portal}/apply/{FROM}/{moves.MOVE_OUT}")
    page.get_by_label("転出予定日").fill(today)
    page.get_by_role("radio", name="本人のみ").check()
    phone = page.get_by_label("日中の電話番号")
    phone.fill("045-123-4567")
    # The destination by postal code: the municipality is chosen and the town filled in.
    page.get_by_label("引越し先の郵便番号").fill("530-0001")
    page.get_by_role("button", name="郵便番号から住所を表示").click()
    expect(page.get_by_role("status")).to_contain_text("大阪府大阪市の番号です")
    expect(page.get_by_label("市区町村", exact=True)).to_have_value(TO)
    expect(page.get_by_label("都道府県")).to_have_value("27")
    address = page.get_by_label("引越し先の住所（市区町村より後）")
    expect(address).to_have_value("北区梅田")
    expect(phone).to_have_value("045-123-4567")  # what was typed before stays
    expect(page.get_by_label("転出予定日")).to_have_value(today)
    _assert_accessible(page)
    address.fill(NEW_ADDRESS)
    # Reserved for today: the arriving side may complete the move-in from that day on.
    page.get_by_label("転入予定日（来庁予定日）").fill(today)
    page.get_by_role("checkbox", name=re.compile("届出内容に相違ありません")).check()
    _check_and_open_signing(page, platform)
    reader = _open_reader(context, page)
    document = reader.get_by_role("region", name="転出届・転入予約")
    expect(document).to_contain_text(MISAKI)
    expect(document).to_contain_text(NEW_ADDRESS)
    # The reader shows the name it signs, not the bare code.
    expect(document).to_contain_text("大阪府大阪市")
    _sign_in_reader(reader, PASSWORD, holder=MISAKI)
    expect(reader.get_by_role("heading", level=1)).to_have_text("署名しました")
    page.wait_for_url(RECEIPT_URL)
    expect(page.locator("#application-status")).to_have_text("受付")
    return page, page.url.rsplit("/", 1)[1]


def _complete_move_out(browser: Browser, platform: Platform, receipt: str) -> None:
    """The departing municipality reviews and completes the 転出届 on its page; that
    sends the move-out certificate information to the arriving one through the hub."""
    login_id = _new_staff(platform, FROM, office.StaffRole.SUPERVISOR)
    context = browser.new_context(locale="ja-JP")
    staff = _office_login(context, platform, login_id)
    staff.goto(f"{platform.portal}/office/applications/{receipt}")
    status_form = staff.get_by_role("region", name="状況を変更")
    status_form.get_by_role("radio", name=re.compile("^審査中")).check()
    status_form.get_by_role("button", name="状況を変更").click()
    expect(staff.locator("dd.status")).to_have_text("審査中")
    status_form.get_by_role("radio", name=re.compile("^完了")).check()
    status_form.get_by_role("button", name="状況を変更").click()
    expect(staff.get_by_text("状況を変更しました。申請者にお知らせを送りました。")).to_be_visible()
    expect(staff.locator("dd.status")).to_have_text("完了")
    context.close()


def _complete_move_in(browser: Browser, platform: Platform) -> None:
    """The arriving municipality sees the certificate information and completes the move-in."""
    login_id = _new_staff(platform, TO, office.StaffRole.SUPERVISOR)
    context = browser.new_context(locale="ja-JP")
    staff = _office_login(context, platform, login_id)
    staff.goto(f"{platform.portal}/office/moves")
    expect(staff.get_by_role("heading", level=1)).to_have_text("転入予約")
    staff.get_by_role("link", name=MISAKI).first.click()
    staff.wait_for_url(re.compile(rf"{re.escape(platform.portal)}/office/moves/[0-9]+$"))
    expect(staff.get_by_role("heading", level=3, name=re.compile(MISAKI))).to_be_visible()
    # The former address arrived with the certificate information.
    expect(staff.get_by_text("西区みなとみらい三丁目5番2号")).to_be_visible()
    _assert_accessible(staff)
    staff.get_by_role("button", name="転入を完了する").click()
    expect(staff.get_by_role("status")).to_contain_text("転入を完了しました。")
    expect(staff.get_by_role("button", name="転入を完了する")).to_have_count(0)
    context.close()


def _assert_moved(platform: Platform, mover: Mover) -> None:
    """The registry has the new address; only the signing certificate was revoked."""
    with unit_of_work(platform.container.session_factory) as session:
        misaki = registry.get_resident(session=session, resident_id=mover.resident_id)
        assert misaki.municipality_code == TO
        assert misaki.address == NEW_ADDRESS
        certificates = {
            c.kind: c for c in jpki.list_certificates(session=session, card_id=mover.card_id)
        }
        signing = certificates[jpki.CertificateKind.SIGN]
        assert signing.status is jpki.CertificateStatus.REVOKED
        assert signing.revocation_reason is jpki.RevocationReason.BASIC_INFO_CHANGE
        auth = jpki.certificate_status(
            session=session, serial=certificates[jpki.CertificateKind.AUTH].serial
        )
        assert auth.status is jpki.CertificateStatus.VALID


def test_a_resident_moves_out_and_in_with_their_card(
    browser: Browser, platform: Platform, mover: Mover
) -> None:
    context = browser.new_context(locale="ja-JP")
    page, receipt = _file_the_move(context, platform)
    page.goto(f"{platform.portal}/moves")
    move = page.get_by_role("region", name="神奈川県横浜市 → 大阪府大阪市")
    expect(move).to_contain_text("転出届の受付")
    expect(move.get_by_role("listitem").filter(has_text="未完了")).to_have_count(2)

    _complete_move_out(browser, platform, receipt)
    page.reload()
    expect(move.get_by_role("listitem").filter(has_text="未完了")).to_have_count(1)

    _complete_move_in(browser, platform)
    context.close()
    _assert_moved(platform, mover)

    # The card still logs in (its user-authentication certificate stays valid); the
    # resident sees every step done and a notice about re-issuing the signing one.
    context = browser.new_context(locale="ja-JP")
    page = _login(context, platform, holder=MISAKI)
    page.goto(f"{platform.portal}/moves")
    move = page.get_by_role("region", name="神奈川県横浜市 → 大阪府大阪市")
    expect(move).to_contain_text("転入完了")
    expect(move.get_by_role("listitem").filter(has_text="未完了")).to_have_count(0)
    expect(move.locator("ol.steps > li > strong")).to_have_count(3)
    _assert_accessible(page)
    page.goto(f"{platform.portal}/notices")
    page.get_by_role("link", name=re.compile("【転入の手続が完了しました】")).click()
    expect(page.locator("article")).to_contain_text("署名用電子証明書の再発行")
    context.close()


def test_a_resident_chooses_the_destination_by_name_on_a_phone(
    browser: Browser, platform: Platform
) -> None:
    """No postal code at hand: prefecture, then municipality, each by name; a postal code
    that does not exist is an error tied to its field."""
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = _login(context, platform)  # taro, of 東京都千代田区: the form only, nothing filed
    page.goto(f"{platform.portal}/apply/{CHIYODA}/{moves.MOVE_OUT}")
    page.get_by_label("日中の電話番号").fill("045-123-4567")
    page.get_by_label("都道府県").select_option(label="大阪府")
    page.get_by_role("button", name="市区町村を表示").click()
    expect(page.get_by_role("status")).to_contain_text("大阪府の市区町村を表示しました")
    municipality = page.get_by_label("市区町村", exact=True)
    expect(municipality.locator("option")).to_contain_text(["選択", "大阪市", "堺市"])
    municipality.select_option(label="大阪市")
    expect(page.get_by_label("日中の電話番号")).to_have_value("045-123-4567")
    _assert_fits_a_phone(page)
    _assert_accessible(page)

    page.get_by_label("引越し先の郵便番号").fill("000-0000")
    page.get_by_role("button", name="郵便番号から住所を表示").click()
    postal = page.get_by_label("引越し先の郵便番号")
    expect(postal).to_have_attribute("aria-invalid", "true")
    expect(postal).to_have_accessible_description(
        re.compile("郵便番号 000-0000 は見つかりませんでした")
    )
    # The municipality chosen by name stays chosen.
    expect(page.get_by_label("市区町村", exact=True)).to_have_value(TO)
    _assert_fits_a_phone(page)
    _assert_accessible(page)
    context.close()
