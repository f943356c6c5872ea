"""The pages of 最新4情報提供: residents' consents in the portal, the counter's re-issue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.office import service as office
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.jpki.latest import PURPOSE, Latest

PORTAL = "http://testserver"
PIN = "4321"
STAFF_PASSWORD = "correct horse battery staple 42"
NEW_PASSWORD = "COUNTER2027"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _resident(container: Container, latest: Latest, card_id: str) -> TestClient:
    client = TestClient(create_app(container), base_url=PORTAL)
    login_client.login(client, PORTAL, latest.reader.open_session(card_id, "auth", PIN))
    return client


@pytest.fixture
def taro(container: Container, latest: Latest) -> Iterator[TestClient]:
    with _resident(container, latest, latest.taro_card) as client:
        yield client


@pytest.fixture
def hanako(container: Container, latest: Latest) -> Iterator[TestClient]:
    with _resident(container, latest, latest.hanako_card) as client:
        yield client


def _consent_id(latest: Latest) -> int:
    response = latest.consent(latest.taro_card)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


# --- the portal -------------------------------------------------------------------


def test_the_resident_sees_and_withdraws_their_consent(latest: Latest, taro: TestClient) -> None:
    consent_id = _consent_id(latest)
    assert "/latest-info-consents" in taro.get("/home").text
    page = taro.get("/latest-info-consents")
    assert page.status_code == 200
    assert "みらい銀行株式会社" in page.text
    assert PURPOSE in page.text
    confirm = taro.get(f"/latest-info-consents/{consent_id}/withdraw")
    assert confirm.status_code == 200
    assert "同意を取り消す" in confirm.text
    done = taro.post(
        f"/latest-info-consents/{consent_id}/withdraw",
        data={"csrf_token": _csrf(confirm.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    (consent,) = jpki.consents_of(session=latest.session, holder_id=latest.taro.id)
    assert not consent.live
    listed = taro.get(done.headers["location"]).text
    assert "同意を取り消しました" in listed
    # Withdrawn once is withdrawn: no confirmation page for it any more.
    assert taro.get(f"/latest-info-consents/{consent_id}/withdraw").status_code == 404


def test_a_withdrawal_without_the_csrf_token_changes_nothing(
    latest: Latest, taro: TestClient
) -> None:
    consent_id = _consent_id(latest)
    response = taro.post(
        f"/latest-info-consents/{consent_id}/withdraw",
        data={"csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    (consent,) = jpki.consents_of(session=latest.session, holder_id=latest.taro.id)
    assert consent.live


def test_another_resident_neither_sees_nor_withdraws_the_consent(
    latest: Latest, hanako: TestClient
) -> None:
    consent_id = _consent_id(latest)
    page = hanako.get("/latest-info-consents")
    assert page.status_code == 200
    assert "みらい銀行株式会社" not in page.text
    assert hanako.get(f"/latest-info-consents/{consent_id}/withdraw").status_code == 404
    refused = hanako.post(
        f"/latest-info-consents/{consent_id}/withdraw",
        data={"csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    (consent,) = jpki.consents_of(session=latest.session, holder_id=latest.taro.id)
    assert consent.live


@pytest.mark.parametrize("bad", ["0", "-1", "99999999999999999999", "abc"])
def test_a_bad_consent_id_is_a_clear_error(taro: TestClient, bad: str) -> None:
    response = taro.get(f"/latest-info-consents/{bad}/withdraw")
    assert response.status_code in (404, 422)


def test_the_exchange_history_names_the_verifier_that_got_the_new_info(
    latest: Latest, taro: TestClient
) -> None:
    first = latest.sign_cert(latest.taro_card)
    _consent_id(latest)
    latest.move(latest.taro, "永田町一丁目7番1号", latest.taro_card)
    latest.reissue(latest.taro_card)
    assert latest.ask([f"{first.serial_number:x}"]).json()["provided_items"] == 1
    page = taro.get("/exchanges")
    assert page.status_code == 200
    assert "みらい銀行株式会社" in page.text
    assert "最新4情報提供" in page.text


def test_the_consent_pages_need_a_login(latest: Latest, container: Container) -> None:
    with TestClient(create_app(container), base_url=PORTAL) as anonymous:
        response = anonymous.get("/latest-info-consents", follow_redirects=False)
    assert response.status_code in (302, 303, 401)


# --- the counter ------------------------------------------------------------------


def _staff(
    container: Container, session: Session, settings: Settings, login: str, municipality: str
) -> TestClient:
    office.create_staff(
        session=session,
        settings=settings,
        municipality_code=municipality,
        login_id=login,
        display_name=f"職員{login}",
        role=office.StaffRole.CLERK,
        password=STAFF_PASSWORD,
    )
    session.commit()
    client = TestClient(create_app(container), base_url=PORTAL)
    page = client.get("/office/login")
    client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": login, "password": STAFF_PASSWORD},
    )
    page = client.get("/office/login/code")
    code = office.current_code(session=session, settings=settings, login_id=login)
    client.post("/office/login/code", data={"csrf_token": _csrf(page.text), "code": code})
    return client


def _reissue(client: TestClient, card_id: str, password: str = NEW_PASSWORD, **extra: str) -> str:
    page = client.get("/office/signing-reissue")
    assert page.status_code == 200
    data = {
        "csrf_token": _csrf(page.text),
        "card_id": card_id,
        "password": password,
        "password_confirmation": password,
        **extra,
    }
    response = client.post("/office/signing-reissue", data=data)
    return f"{response.status_code} {response.text}"


def _move(latest: Latest) -> None:
    history = registry.address_history(session=latest.session, resident_id=latest.taro.id)
    registry.record_move(
        session=latest.session,
        resident_id=latest.taro.id,
        municipality_code=latest.taro.municipality_code,
        address="永田町一丁目7番1号",
        moved_on=max(entry.valid_from for entry in history) + timedelta(days=1),
    )
    latest.session.commit()


def test_a_clerk_reissues_for_a_resident_of_their_municipality(
    latest: Latest, container: Container, session: Session, settings: Settings
) -> None:
    before = latest.sign_cert(latest.taro_card)
    _move(latest)
    with _staff(container, session, settings, "yamamoto", latest.taro.municipality_code) as clerk:
        assert "/office/signing-reissue" in clerk.get("/office").text
        outcome = _reissue(clerk, latest.taro_card)
    assert outcome.startswith("200 ")
    assert "新しい署名用電子証明書" in outcome
    after = latest.sign_cert(latest.taro_card)
    assert after.serial_number != before.serial_number
    assert latest.signing(latest.taro_card, NEW_PASSWORD).certificate == after


def test_a_clerk_of_another_municipality_is_refused(
    latest: Latest, container: Container, session: Session, settings: Settings
) -> None:
    before = latest.sign_cert(latest.taro_card)
    _move(latest)
    with _staff(container, session, settings, "yokohama1", "141003") as clerk:
        outcome = _reissue(clerk, latest.taro_card)
    assert outcome.startswith("404 ")
    assert "住民ではありません" in outcome
    assert latest.sign_cert(latest.taro_card) == before
    still = jpki.certificate_status(session=session, serial=before.serial_number)
    assert still.status is jpki.CertificateStatus.VALID  # nothing written


@pytest.mark.parametrize(
    ("card_id", "password", "confirmation", "status", "words"),
    [
        ("../../etc/passwd", NEW_PASSWORD, NEW_PASSWORD, 404, "カード"),
        ("", NEW_PASSWORD, NEW_PASSWORD, 422, ""),
        ("TARO", "short", "short", 422, "署名用パスワード"),
        ("TARO", NEW_PASSWORD, "COUNTER2028", 400, "確認"),
    ],
)
def test_bad_counter_input_is_refused_on_the_form(
    latest: Latest,
    container: Container,
    session: Session,
    settings: Settings,
    card_id: str,
    password: str,
    confirmation: str,
    status: int,
    words: str,
) -> None:
    _move(latest)
    before = latest.sign_cert(latest.taro_card)
    with _staff(container, session, settings, "yamamoto", latest.taro.municipality_code) as clerk:
        page = clerk.get("/office/signing-reissue")
        response = clerk.post(
            "/office/signing-reissue",
            data={
                "csrf_token": _csrf(page.text),
                "card_id": latest.taro_card if card_id == "TARO" else card_id,
                "password": password,
                "password_confirmation": confirmation,
            },
        )
    assert response.status_code == status, response.text
    assert words in response.text
    assert "Traceback" not in response.text
    assert latest.sign_cert(latest.taro_card) == before


def test_the_counter_refuses_a_certificate_that_needs_no_reissue(
    latest: Latest, container: Container, session: Session, settings: Settings
) -> None:
    with _staff(container, session, settings, "yamamoto", latest.taro.municipality_code) as clerk:
        outcome = _reissue(clerk, latest.taro_card)
    assert outcome.startswith("409 ")
    assert "再発行の必要はありません" in outcome


def test_the_counter_needs_the_csrf_token(
    latest: Latest, container: Container, session: Session, settings: Settings
) -> None:
    _move(latest)
    before = latest.sign_cert(latest.taro_card)
    with _staff(container, session, settings, "yamamoto", latest.taro.municipality_code) as clerk:
        response = clerk.post(
            "/office/signing-reissue",
            data={
                "csrf_token": "forged",
                "card_id": latest.taro_card,
                "password": NEW_PASSWORD,
                "password_confirmation": NEW_PASSWORD,
            },
        )
    assert response.status_code == 403
    assert latest.sign_cert(latest.taro_card) == before
