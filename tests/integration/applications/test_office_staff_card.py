"""Staff ID (職員証): a staff member's own MyNumber card registered and used to log in.

The card answers through the card login protocol of docs/card-login.md — the reader app,
or the protocol's two requests — exactly as a resident's card does at the portal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from structlog.testing import capture_logs
from typer.testing import CliRunner

from myna import card, cardlogin, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.cli.office import app as office_cli
from myna.office import service as office
from myna.office import staff_cards
from myna.office.models import StaffCard
from myna.platform.db import make_engine, utcnow
from myna.platform.settings import Settings, get_settings
from myna.reader.app import create_reader_app
from tests.integration.applications.staffcards import (
    answer_challenge,
    challenge_id_of,
    register_staff_card,
    request_uri_of,
)
from tests.integration.portal.conftest import PIN, IssuedCard, issue

PORTAL = "http://testserver"
PASSWORD = "correct-horse-2026"
CHIYODA = "131016"
YOKOHAMA = "141003"


@dataclass
class Staff:
    """A staff account of the test, and the persona whose card is theirs."""

    account: office.StaffRead
    card: IssuedCard | None = None


def _create(
    session: Session, settings: Settings, municipality: str, login: str, role: str
) -> office.StaffRead:
    created = office.create_staff(
        session=session,
        settings=settings,
        municipality_code=municipality,
        login_id=login,
        display_name={"kanri": "管理 花子", "yamamoto": "山本", "hama": "浜 一郎"}.get(
            login, login
        ),
        role=office.StaffRole(role),
        password=PASSWORD,
    )
    session.commit()
    return created.staff


@pytest.fixture
def cards(settings: Settings) -> card.VirtualCardReader:
    return card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())


@pytest.fixture
def admin(session: Session, settings: Settings) -> Staff:
    registry.ensure_municipalities(session=session)
    return Staff(_create(session, settings, CHIYODA, "kanri", "admin"))


@pytest.fixture
def clerk(
    session: Session, settings: Settings, cards: card.VirtualCardReader, admin: Staff
) -> Staff:
    account = _create(session, settings, CHIYODA, "yamamoto", "clerk")
    return Staff(account, issue(session, settings, cards, "taro"))


@pytest.fixture
def portal(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url=PORTAL) as client:
        yield client


@pytest.fixture
def reader_app(container: Container, portal: TestClient) -> Iterator[TestClient]:
    # The reader talks to the portal over HTTP; here that HTTP is the portal's test client.
    api = TestClient(portal.app, base_url=PORTAL)
    with TestClient(create_reader_app(container, http_client=api), base_url="http://reader") as c:
        yield c


def _browser(portal: TestClient) -> TestClient:
    """Another browser on the same portal (its own cookies)."""
    return TestClient(portal.app, base_url=PORTAL)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _password_login(browser: TestClient, session: Session, settings: Settings, login: str) -> None:
    """The existing login: password, then the current one-time code."""
    page = browser.get("/office/login")
    step = browser.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": login, "password": PASSWORD},
        follow_redirects=False,
    )
    assert step.status_code == 303, step.text
    code = office.current_code(session=session, settings=settings, login_id=login)
    page = browser.get("/office/login/code")
    done = browser.post(
        "/office/login/code",
        data={"csrf_token": _csrf(page.text), "code": code},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/office"


def _card_login(portal: TestClient, browser: TestClient, issued: IssuedCard) -> Response:
    """The staff member's card login: challenge page, the card answers, the page completes."""
    page = browser.get("/office/login/card")
    assert page.status_code == 200, page.text
    answer_challenge(_browser(portal), request_uri_of(page.text), issued)
    return browser.post(
        "/office/login/card",
        data={"csrf_token": _csrf(page.text), "challenge_id": challenge_id_of(page.text)},
        follow_redirects=False,
    )


def _logged_in(browser: TestClient) -> bool:
    return browser.get("/office", follow_redirects=False).status_code == 200


@pytest.fixture
def admin_browser(
    portal: TestClient, session: Session, settings: Settings, admin: Staff
) -> TestClient:
    browser = _browser(portal)
    _password_login(browser, session, settings, "kanri")
    return browser


@pytest.fixture
def registered(admin_browser: TestClient, clerk: Staff) -> Staff:
    """The clerk's card, registered by the administrator."""
    assert clerk.card is not None
    assert register_staff_card(admin_browser, clerk.account.id, clerk.card).status_code == 303
    return clerk


# --- registering and logging in, through the card reader app -----------------------------


def _reader(reader_app: TestClient, request_uri: str, issued: IssuedCard, shown: str) -> None:
    """The card holder in the reader app: it says what the card is for; PIN; answer."""
    form = reader_app.get("/authorize", params={"request_uri": request_uri})
    assert shown in form.text
    done = reader_app.post(
        "/authorize",
        data={
            "request_uri": request_uri,
            "card_id": issued.card_id,
            "pin": PIN,
            "csrf_token": _csrf(form.text),
        },
    )
    assert done.status_code == 200, done.text


def test_an_administrator_registers_a_staff_members_card_through_the_reader(
    reader_app: TestClient, admin_browser: TestClient, clerk: Staff
) -> None:
    assert clerk.card is not None
    # The staff list links to the member's cards; none yet.
    assert f'href="/office/staff/{clerk.account.id}/cards"' in admin_browser.get("/office").text
    cards_page = admin_browser.get(f"/office/staff/{clerk.account.id}/cards")
    assert "職員証が登録されていません" in cards_page.text
    started = admin_browser.post(
        f"/office/staff/{clerk.account.id}/cards/challenge",
        data={"csrf_token": _csrf(cards_page.text)},
        follow_redirects=False,
    )
    present_path = started.headers["location"]
    present = admin_browser.get(present_path)
    assert admin_browser.get(f"{present_path}/status").json() == {"status": "pending"}
    qr = admin_browser.get(f"{present_path}/qr.svg")
    assert qr.headers["content-type"].startswith("image/svg+xml")

    # The staff member presents the card; the reader says what it is for.
    _reader(reader_app, request_uri_of(present.text), clerk.card, "職員証として登録します")
    assert admin_browser.get(f"{present_path}/status").json() == {"status": "verified"}

    # The administrator sees the proven certificate and confirms; one audit line.
    confirm = admin_browser.get(present_path)
    chip = clerk.card.reader.open_session(clerk.card.card_id, "auth", PIN)
    serial = str(chip.certificate.serial_number)
    assert serial in confirm.text
    with capture_logs() as logs:
        registered = admin_browser.post(
            f"/office/staff/{clerk.account.id}/cards",
            data={"csrf_token": _csrf(confirm.text), "challenge_id": challenge_id_of(present.text)},
            follow_redirects=False,
        )
    assert registered.status_code == 303
    audit = [entry for entry in logs if entry["event"] == "office_staff_card_registered"]
    assert [(e["staff_id"], e["serial"]) for e in audit] == [(clerk.account.id, serial)]
    listed = admin_browser.get(registered.headers["location"])
    assert serial in listed.text
    assert "登録しました" in listed.text


def test_the_staff_member_logs_in_with_the_card_and_no_one_time_code(
    portal: TestClient, reader_app: TestClient, admin_browser: TestClient, registered: Staff
) -> None:
    assert registered.card is not None
    browser = _browser(portal)
    login_page = browser.get("/office/login")
    assert "マイナンバーカードでログイン" in login_page.text
    assert 'href="/office/login/card"' in login_page.text
    page = browser.get("/office/login/card")
    anonymous = browser.cookies.get("myna_office")
    challenge_id = challenge_id_of(page.text)
    _reader(reader_app, request_uri_of(page.text), registered.card, "職員証による職員のログイン")
    status = browser.get(f"/office/login/card/status/{challenge_id}")
    assert status.json() == {"status": "verified"}
    logged_in = browser.post(
        "/office/login/card",
        data={"csrf_token": _csrf(page.text), "challenge_id": challenge_id},
        follow_redirects=False,
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/office"
    cookie = logged_in.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/office" in cookie
    # The session rotated: a new token, and the anonymous one opens nothing.
    token = browser.cookies.get("myna_office")
    assert anonymous and token and token != anonymous
    home = browser.get("/office")
    assert home.status_code == 200
    assert "山本 (yamamoto) ・ 担当者" in home.text
    stale = TestClient(portal.app, base_url=PORTAL, cookies={"myna_office": anonymous})
    assert stale.get("/office", follow_redirects=False).status_code == 303
    # The registration remembers its last use.
    used = admin_browser.get(f"/office/staff/{registered.account.id}/cards").text
    assert "—" not in used.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def test_the_card_login_gives_the_staff_members_own_role(
    portal: TestClient, admin_browser: TestClient, registered: Staff, admin: Staff
) -> None:
    assert registered.card is not None
    clerk_browser = _browser(portal)
    assert _card_login(portal, clerk_browser, registered.card).status_code == 303
    # A clerk: no administrator's pages, whatever the card.
    assert "職員証（マイナンバーカード）" not in clerk_browser.get("/office").text
    refused = clerk_browser.get(f"/office/staff/{registered.account.id}/cards")
    assert refused.status_code == 403
    assert "システム管理者だけ" in refused.text
    forged = clerk_browser.post(
        f"/office/staff/{registered.account.id}/cards/challenge",
        data={"csrf_token": _csrf(clerk_browser.get("/office").text)},
    )
    assert forged.status_code == 403


# --- refusals ---------------------------------------------------------------------------


def test_a_card_registered_to_no_staff_member_is_refused(
    portal: TestClient,
    session: Session,
    settings: Settings,
    cards: card.VirtualCardReader,
    registered: Staff,
) -> None:
    hanako = issue(session, settings, cards, "hanako")
    browser = _browser(portal)
    refused = _card_login(portal, browser, hanako)
    assert refused.status_code == 403
    assert "職員証として登録されていません" in refused.text
    assert not _logged_in(browser)
    english = _browser(portal)
    english.cookies.set("myna_lang", "en")
    page = english.get("/office/login/card?lang=en")
    answer_challenge(_browser(portal), request_uri_of(page.text), hanako)
    refused_en = english.post(
        "/office/login/card",
        data={"csrf_token": _csrf(page.text), "challenge_id": challenge_id_of(page.text)},
        headers={"Accept-Language": "en"},
    )
    assert "not registered to any back-office account" in refused_en.text


def test_a_revoked_certificate_is_refused(
    portal: TestClient, session: Session, settings: Settings, registered: Staff
) -> None:
    assert registered.card is not None
    card.report_lost(session=session, settings=settings, card_id=registered.card.card_id)
    session.commit()
    browser = _browser(portal)
    page = browser.get("/office/login/card")
    # The reader hears it first: JPKI refuses the certificate.
    answered = answer_challenge(_browser(portal), request_uri_of(page.text), registered.card)
    assert answered.json()["error"] == "revoked"
    # The page's status poll sees the refusal and the page says why.
    status = browser.get(f"/office/login/card/status/{challenge_id_of(page.text)}")
    assert status.json() == {"status": "failed"}
    refused = browser.post(
        "/office/login/card",
        data={"csrf_token": _csrf(page.text), "challenge_id": challenge_id_of(page.text)},
    )
    assert refused.status_code == 403
    assert "失効しているため" in refused.text
    assert not _logged_in(browser)


def test_an_expired_certificate_is_refused(
    portal: TestClient,
    session: Session,
    settings: Settings,
    cards: card.VirtualCardReader,
    clerk: Staff,
) -> None:
    # A card issued long ago: its user-authentication certificate has expired since.
    resident = registry.ensure_personas(session=session)["hanako"]
    old = card.issue_card(
        session=session,
        settings=settings,
        resident_id=resident.id,
        pin=PIN,
        password="SIGN2026",
        now=utcnow() - timedelta(days=7 * 366),
    )
    issued = IssuedCard(card_id=old.card_id, resident_id=resident.id, reader=cards)
    certificate = cards.open_session(old.card_id, "auth", PIN).certificate
    assert certificate.not_valid_after_utc < utcnow()
    # Registered while it was valid.
    session.add(
        StaffCard(
            staff_id=clerk.account.id,
            certificate_serial=str(certificate.serial_number),
            certificate_subject=str(
                certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
            ),
            certificate_not_after=certificate.not_valid_after_utc,
            registered_at=utcnow() - timedelta(days=7 * 366),
        )
    )
    session.commit()
    browser = _browser(portal)
    refused = _card_login(portal, browser, issued)
    assert refused.status_code == 403
    assert "有効期限が切れているため" in refused.text
    assert not _logged_in(browser)


def test_a_locked_account_is_refused_even_with_its_card(
    portal: TestClient, registered: Staff
) -> None:
    assert registered.card is not None
    guesser = _browser(portal)
    for _ in range(office.MAX_FAILURES):
        page = guesser.get("/office/login")
        guesser.post(
            "/office/login",
            data={"csrf_token": _csrf(page.text), "login_id": "yamamoto", "password": "x" * 12},
        )
    browser = _browser(portal)
    refused = _card_login(portal, browser, registered.card)
    assert refused.status_code == 423
    assert "ロック" in refused.text
    assert not _logged_in(browser)


def test_a_disabled_account_is_refused_and_its_sessions_end(
    portal: TestClient, container: Container, session: Session, registered: Staff
) -> None:
    assert registered.card is not None
    before = _browser(portal)
    assert _card_login(portal, before, registered.card).status_code == 303
    assert _logged_in(before)
    office.set_disabled(
        session=session, sessions=container.sessions, login_id="yamamoto", disabled=True
    )
    session.commit()
    # The live session has ended.
    assert not _logged_in(before)
    browser = _browser(portal)
    refused = _card_login(portal, browser, registered.card)
    assert refused.status_code == 403
    assert "利用停止" in refused.text
    assert not _logged_in(browser)
    # Nor does the password let it in, once it is right.
    page = browser.get("/office/login")
    password = browser.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": "yamamoto", "password": PASSWORD},
    )
    assert password.status_code == 403
    assert "利用停止" in password.text
    # Enabled again, the card logs in again.
    office.set_disabled(
        session=session, sessions=container.sessions, login_id="yamamoto", disabled=False
    )
    session.commit()
    assert _card_login(portal, browser, registered.card).status_code == 303
    assert _logged_in(browser)


def test_a_staff_card_of_another_municipality_logs_in_to_its_own_office_only(
    portal: TestClient,
    session: Session,
    settings: Settings,
    cards: card.VirtualCardReader,
    admin_browser: TestClient,
    registered: Staff,
) -> None:
    hama = _create(session, settings, YOKOHAMA, "hama", "admin")
    # Chiyoda's administrator can neither see nor register Yokohama's staff.
    assert admin_browser.get(f"/office/staff/{hama.id}/cards").status_code == 404
    stray = admin_browser.post(
        f"/office/staff/{hama.id}/cards/challenge",
        data={"csrf_token": _csrf(admin_browser.get("/office").text)},
    )
    assert stray.status_code == 404
    # Yokohama's administrator registers their own card…
    misaki = issue(session, settings, cards, "misaki")
    yokohama_browser = _browser(portal)
    _password_login(yokohama_browser, session, settings, "hama")
    assert register_staff_card(yokohama_browser, hama.id, misaki).status_code == 303
    # …and cannot touch Chiyoda's registrations.
    chiyoda_card = session.scalars(
        select(StaffCard).where(StaffCard.staff_id == registered.account.id)
    ).first()
    assert chiyoda_card is not None
    removal = yokohama_browser.post(
        f"/office/staff/{registered.account.id}/cards/{chiyoda_card.id}/remove",
        data={"csrf_token": _csrf(yokohama_browser.get("/office").text)},
    )
    assert removal.status_code == 404
    assert session.get(StaffCard, chiyoda_card.id) is not None
    # The Yokohama card lands in Yokohama's office, never Chiyoda's.
    browser = _browser(portal)
    assert _card_login(portal, browser, misaki).status_code == 303
    dashboard = browser.get("/office")
    assert "横浜市" in dashboard.text
    assert "千代田区" not in dashboard.text
    assert browser.get(f"/office/staff/{registered.account.id}/cards").status_code == 404


def test_only_an_administrator_registers_cards(
    portal: TestClient, session: Session, settings: Settings, clerk: Staff, admin: Staff
) -> None:
    browser = _browser(portal)
    _password_login(browser, session, settings, "yamamoto")
    for path in (
        f"/office/staff/{clerk.account.id}/cards",
        f"/office/staff/{admin.account.id}/cards",
    ):
        assert browser.get(path).status_code == 403
    started = browser.post(
        f"/office/staff/{clerk.account.id}/cards/challenge",
        data={"csrf_token": _csrf(browser.get("/office").text)},
    )
    assert started.status_code == 403
    assert session.scalar(select(StaffCard.id)) is None


def test_registration_needs_the_csrf_token_and_the_cardanswer_challenge(
    portal: TestClient, session: Session, admin_browser: TestClient, clerk: Staff
) -> None:
    assert clerk.card is not None
    cards_path = f"/office/staff/{clerk.account.id}/cards"
    csrf = _csrf(admin_browser.get(cards_path).text)
    assert (
        admin_browser.post(f"{cards_path}/challenge", data={"csrf_token": "forged"}).status_code
        == 403
    )
    started = admin_browser.post(
        f"{cards_path}/challenge", data={"csrf_token": csrf}, follow_redirects=False
    )
    present = admin_browser.get(started.headers["location"])
    challenge_id = challenge_id_of(present.text)
    # Before the card has answered: nothing to register.
    early = admin_browser.post(cards_path, data={"csrf_token": csrf, "challenge_id": challenge_id})
    assert early.status_code == 409
    assert "カードからの応答がまだありません" in early.text
    answer_challenge(_browser(portal), request_uri_of(present.text), clerk.card)
    forged = admin_browser.post(
        cards_path, data={"csrf_token": "forged", "challenge_id": challenge_id}
    )
    assert forged.status_code == 403
    assert session.scalar(select(StaffCard.id)) is None
    # Another browser cannot follow or confirm the administrator's challenge.
    other = _browser(portal)
    assert (
        other.get(f"{started.headers['location']}/status", follow_redirects=False).status_code
        == 303
    )
    confirmed = admin_browser.post(
        cards_path, data={"csrf_token": csrf, "challenge_id": challenge_id}
    )
    assert confirmed.status_code == 200
    assert session.scalar(select(StaffCard.staff_id)) == clerk.account.id
    # A challenge registers once.
    again = admin_browser.post(cards_path, data={"csrf_token": csrf, "challenge_id": challenge_id})
    assert again.status_code == 409
    assert len(session.scalars(select(StaffCard)).all()) == 1


def test_a_challenge_proves_the_card_for_its_own_purpose_only(
    portal: TestClient,
    container: Container,
    session: Session,
    settings: Settings,
    registered: Staff,
) -> None:
    """A card shown to register it cannot log in with that answer, nor a resident's."""
    assert registered.card is not None
    token = "a-back-office-session-token"
    for audience in (cardlogin.Audience.STAFF_CARD, cardlogin.Audience.RESIDENT):
        view = cardlogin.start_challenge(
            session=session, settings=settings, session_token=token, audience=audience
        )
        session.commit()
        uri = cardlogin.request_uri(settings.portal_url, view.challenge_id)
        assert answer_challenge(_browser(portal), uri, registered.card).status_code == 200
        with pytest.raises(cardlogin.ChallengeNotFoundError):
            staff_cards.card_login(
                session=session,
                sessions=container.sessions,
                session_token=token,
                challenge_id=view.challenge_id,
            )


def test_a_completed_login_cannot_be_replayed_or_followed_by_another_browser(
    portal: TestClient, registered: Staff
) -> None:
    assert registered.card is not None
    browser = _browser(portal)
    page = browser.get("/office/login/card")
    challenge_id = challenge_id_of(page.text)
    stranger = _browser(portal)
    stranger.get("/office/login")
    assert stranger.get(f"/office/login/card/status/{challenge_id}").status_code == 404
    assert stranger.get(f"/office/login/card/qr/{challenge_id}.svg").status_code == 404
    nobody = _browser(portal)
    refused = nobody.get(
        f"/office/login/card/status/{challenge_id}", headers={"Accept": "application/json"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "challenge_wrong_session"
    answer_challenge(_browser(portal), request_uri_of(page.text), registered.card)
    form = {"csrf_token": _csrf(page.text), "challenge_id": challenge_id}
    assert browser.post("/office/login/card", data=form, follow_redirects=False).status_code == 303
    # Logged out, the same answer does not log in again.
    home = browser.get("/office")
    browser.post("/office/logout", data={"csrf_token": _csrf(home.text)})
    page = browser.get("/office/login/card")
    replay = browser.post(
        "/office/login/card", data={"csrf_token": _csrf(page.text), "challenge_id": challenge_id}
    )
    assert replay.status_code == 404  # the new session's, it is not: as an unknown one
    assert not _logged_in(browser)


def test_a_reissued_card_is_registered_again_and_the_old_registration_removed(
    portal: TestClient,
    session: Session,
    settings: Settings,
    cards: card.VirtualCardReader,
    admin_browser: TestClient,
    registered: Staff,
) -> None:
    assert registered.card is not None
    # After a move or a loss: the old card's certificates are revoked, a new card issued.
    card.report_lost(session=session, settings=settings, card_id=registered.card.card_id)
    new_card = issue(session, settings, cards, "taro")
    browser = _browser(portal)
    assert _card_login(portal, browser, new_card).status_code == 403
    assert register_staff_card(admin_browser, registered.account.id, new_card).status_code == 303
    assert _card_login(portal, browser, new_card).status_code == 303
    rows = session.scalars(
        select(StaffCard).where(StaffCard.staff_id == registered.account.id).order_by(StaffCard.id)
    ).all()
    assert len(rows) == 2
    cards_page = admin_browser.get(f"/office/staff/{registered.account.id}/cards")
    with capture_logs() as logs:
        removed = admin_browser.post(
            f"/office/staff/{registered.account.id}/cards/{rows[0].id}/remove",
            data={"csrf_token": _csrf(cards_page.text)},
            follow_redirects=False,
        )
    assert removed.status_code == 303
    assert [e["card_id"] for e in logs if e["event"] == "office_staff_card_removed"] == [rows[0].id]
    session.expire_all()
    remaining = session.scalars(
        select(StaffCard.certificate_serial).where(StaffCard.staff_id == registered.account.id)
    ).all()
    assert remaining == [rows[1].certificate_serial]
    assert "削除しました" in admin_browser.get(removed.headers["location"]).text


def test_a_certificate_belongs_to_one_account_only(
    admin_browser: TestClient, registered: Staff, admin: Staff
) -> None:
    assert registered.card is not None
    refused = register_staff_card(admin_browser, admin.account.id, registered.card)
    assert refused.status_code == 409
    assert "すでに職員アカウントに登録されています" in refused.text


def test_card_logins_are_rate_limited_like_the_password_login(
    container: Container, clerk: Staff
) -> None:
    container.settings = container.settings.model_copy(update={"login_rate_limit": "3/minute"})
    with TestClient(create_app(container), base_url=PORTAL) as limited:
        # One limit per address for the password, the code and the card alike.
        page = limited.get("/office/login")
        limited.post(
            "/office/login",
            data={"csrf_token": _csrf(page.text), "login_id": "yamamoto", "password": "x" * 12},
        )
        statuses = [limited.get("/office/login/card").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        last = limited.get("/office/login/card")
        assert last.status_code == 429
        assert "試行回数が多すぎます" in last.text
        assert 'id="card-challenge"' not in last.text


def test_an_operator_disables_and_enables_an_account_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYNA_ENVIRONMENT", "development")
    monkeypatch.setenv("MYNA_DATABASE_URL", f"sqlite:///{tmp_path / 'myna.db'}")
    monkeypatch.setenv("MYNA_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(
            office_cli,
            ["add-staff", "--municipality", CHIYODA, "--login", "yamamoto", "--name", "山本"],
            env={"MYNA_OFFICE_PASSWORD": PASSWORD},
        )
        assert created.exit_code == 0, created.output
        disabled = runner.invoke(office_cli, ["disable-staff", "--login", "yamamoto"])
        assert disabled.exit_code == 0, disabled.output
        assert "利用停止" in disabled.stdout
        engine = make_engine(get_settings().effective_database_url)
        with Session(engine) as db, pytest.raises(office.AccountDisabledError):
            office.verify_password(session=db, login_id="yamamoto", password=PASSWORD)
        enabled = runner.invoke(office_cli, ["enable-staff", "--login", "yamamoto"])
        assert enabled.exit_code == 0, enabled.output
        with Session(engine) as db:
            assert office.verify_password(session=db, login_id="yamamoto", password=PASSWORD)
        engine.dispose()
        unknown = runner.invoke(office_cli, ["disable-staff", "--login", "nobody"])
        assert unknown.exit_code != 0
        assert "nobody" in unknown.output
    finally:
        get_settings.cache_clear()


def test_a_card_proven_for_one_staff_member_is_not_registered_to_another(
    reader_app: TestClient,
    admin_browser: TestClient,
    session: Session,
    settings: Settings,
    clerk: Staff,
) -> None:
    """The registration is bound to the member it was started for, not only to the admin."""
    assert clerk.card is not None
    other = _create(session, settings, CHIYODA, "tanaka", "clerk")
    session.commit()
    cards_page = admin_browser.get(f"/office/staff/{clerk.account.id}/cards")
    started = admin_browser.post(
        f"/office/staff/{clerk.account.id}/cards/challenge",
        data={"csrf_token": _csrf(cards_page.text)},
        follow_redirects=False,
    )
    present = admin_browser.get(started.headers["location"])
    _reader(reader_app, request_uri_of(present.text), clerk.card, "職員証として登録します")
    challenge = challenge_id_of(present.text)
    token = _csrf(admin_browser.get(started.headers["location"]).text)
    elsewhere = admin_browser.post(
        f"/office/staff/{other.id}/cards",
        data={"csrf_token": token, "challenge_id": challenge},
        follow_redirects=False,
    )
    assert elsewhere.status_code in (403, 404, 409)
    assert "職員証が登録されていません" in admin_browser.get(f"/office/staff/{other.id}/cards").text
    # The member it was started for can still have it.
    confirmed = admin_browser.post(
        f"/office/staff/{clerk.account.id}/cards",
        data={"csrf_token": token, "challenge_id": challenge},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
