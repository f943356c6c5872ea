"""The back office (申請管理): staff accounts, two-factor login, lockout, municipal scope."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.office import service as office
from myna.office.models import StaffMember
from myna.platform.sessions import STAFF
from myna.platform.settings import Settings

PASSWORD = "correct-horse-2026"
CHIYODA = "131016"
OSAKA = "271004"


@pytest.fixture
def staff(session: Session, settings: Settings) -> office.StaffRead:
    registry.ensure_municipalities(session=session)
    created = office.create_staff(
        session=session,
        settings=settings,
        municipality_code=CHIYODA,
        login_id="yamamoto",
        display_name="山本",
        role=office.StaffRole.CLERK,
        password=PASSWORD,
    )
    assert created.provisioning_uri.startswith("otpauth://totp/")
    session.commit()
    return created.staff


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


def _code(session: Session, settings: Settings, at: float | None = None) -> str:
    return office.current_code(session=session, settings=settings, login_id="yamamoto", at=at)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _password(client: TestClient, password: str = PASSWORD) -> int:
    page = client.get("/office/login")
    response = client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": "yamamoto", "password": password},
        follow_redirects=False,
    )
    status: int = response.status_code
    return status


def _enter_code(client: TestClient, code: str) -> int:
    page = client.get("/office/login/code")
    response = client.post(
        "/office/login/code",
        data={"csrf_token": _csrf(page.text), "code": code},
        follow_redirects=False,
    )
    status: int = response.status_code
    return status


# --- the service -----------------------------------------------------------------------


def test_a_password_and_a_current_code_log_a_staff_member_in(
    session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    assert office.verify_password(session=session, login_id="yamamoto", password=PASSWORD) == staff
    now = time.time()
    checked = office.verify_code(
        session=session,
        settings=settings,
        staff_id=staff.id,
        code=_code(session, settings, now),
        at=now,
    )
    assert checked.municipality_code == CHIYODA


def test_a_new_password_record_takes_the_deployments_work_factor(
    session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    record = session.get(StaffMember, staff.id)
    assert record is not None
    assert record.password_hash.split("$")[1] == str(2**settings.staff_password_work_factor)
    assert settings.staff_password_work_factor != 14  # the default is not what is tested


def test_a_wrong_password_is_refused(session: Session, staff: office.StaffRead) -> None:
    with pytest.raises(office.InvalidCredentialsError):
        office.verify_password(session=session, login_id="yamamoto", password="wrong-password!")
    with pytest.raises(office.InvalidCredentialsError):
        office.verify_password(session=session, login_id="nobody", password=PASSWORD)


def test_a_wrong_code_is_refused(
    session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    now = time.time()
    right = _code(session, settings, now)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(office.InvalidCodeError):
        office.verify_code(
            session=session, settings=settings, staff_id=staff.id, code=wrong, at=now
        )


def test_a_code_accepted_once_cannot_be_used_again(
    session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    now = time.time()
    code = _code(session, settings, now)
    office.verify_code(session=session, settings=settings, staff_id=staff.id, code=code, at=now)
    with pytest.raises(office.InvalidCodeError):
        office.verify_code(session=session, settings=settings, staff_id=staff.id, code=code, at=now)
    # Nor an older code still inside the drift window.
    earlier = _code(session, settings, now - 30)
    with pytest.raises(office.InvalidCodeError):
        office.verify_code(
            session=session, settings=settings, staff_id=staff.id, code=earlier, at=now
        )


def test_five_failures_lock_the_account_even_against_the_right_password(
    session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    for _ in range(office.MAX_FAILURES):
        with pytest.raises(office.InvalidCredentialsError):
            office.verify_password(session=session, login_id="yamamoto", password="wrong-password!")
    with pytest.raises(office.AccountLockedError):
        office.verify_password(session=session, login_id="yamamoto", password=PASSWORD)
    now = time.time()
    with pytest.raises(office.AccountLockedError):
        office.verify_code(
            session=session,
            settings=settings,
            staff_id=staff.id,
            code=_code(session, settings, now),
            at=now,
        )


def test_staff_see_only_their_own_municipality(
    session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    other = office.create_staff(
        session=session,
        settings=settings,
        municipality_code=OSAKA,
        login_id="tanaka",
        display_name="田中",
        role=office.StaffRole.SUPERVISOR,
        password=PASSWORD,
    ).staff
    mine = office.dashboard(session=session, staff=staff)
    assert mine.municipality_code == CHIYODA
    assert mine.applications == ()
    assert [c.login_id for c in mine.colleagues] == ["yamamoto"]
    with pytest.raises(office.OtherMunicipalityError):
        office.dashboard(session=session, staff=staff, municipality_code=OSAKA)
    assert [c.login_id for c in office.dashboard(session=session, staff=other).colleagues] == [
        "tanaka"
    ]


def test_an_account_needs_a_free_login_a_long_password_and_a_known_municipality(
    session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    def create(login: str, password: str, municipality: str = CHIYODA) -> None:
        office.create_staff(
            session=session,
            settings=settings,
            municipality_code=municipality,
            login_id=login,
            display_name="佐藤",
            role=office.StaffRole.ADMIN,
            password=password,
        )

    with pytest.raises(office.StaffExistsError):
        create("yamamoto", PASSWORD)
    with pytest.raises(office.WeakPasswordError):
        create("sato", "short")
    with pytest.raises(office.InvalidStaffError):
        create("a b", PASSWORD)
    with pytest.raises(registry.MunicipalityNotFoundError):
        create("sato", PASSWORD, "999997")


# --- the pages -------------------------------------------------------------------------


def test_a_staff_member_logs_in_with_two_factors_and_sees_the_empty_dashboard(
    client: TestClient, session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    assert client.get("/office", follow_redirects=False).headers["location"] == "/office/login"
    assert _password(client) == 303
    # The password alone does not open the back office.
    assert client.get("/office", follow_redirects=False).status_code == 303
    assert _enter_code(client, _code(session, settings)) == 303
    page = client.get("/office")
    assert page.status_code == 200
    assert "東京都千代田区" in page.text
    assert "まだ申請は届いていません" in page.text
    assert "山本" in page.text


def test_the_session_is_rotated_at_each_factor_and_the_old_one_dies(
    client: TestClient, session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    client.get("/office/login")
    anonymous = client.cookies[STAFF.cookie]
    _password(client)
    pending = client.cookies[STAFF.cookie]
    _enter_code(client, _code(session, settings))
    full = client.cookies[STAFF.cookie]
    assert len({anonymous, pending, full}) == 3
    client.cookies.set(STAFF.cookie, pending, path="/office")
    assert client.get("/office", follow_redirects=False).status_code == 303


def test_the_cookie_is_http_only_and_same_site_strict(
    client: TestClient, staff: office.StaffRead
) -> None:
    header = client.get("/office/login").headers["set-cookie"]
    assert header.startswith(f"{STAFF.cookie}=")
    assert "HttpOnly" in header
    assert "samesite=strict" in header.lower()
    assert "Path=/office" in header


def test_a_replayed_code_is_refused_at_the_next_login(
    client: TestClient, session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    code = _code(session, settings)
    _password(client)
    assert _enter_code(client, code) == 303
    client.cookies.clear()
    _password(client)
    assert _enter_code(client, code) == 401


def test_wrong_passwords_show_a_message_and_lock_after_five(
    client: TestClient, staff: office.StaffRead
) -> None:
    for _ in range(office.MAX_FAILURES):
        assert _password(client, "wrong-password!") == 401
    page = client.get("/office/login")
    response = client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": "yamamoto", "password": PASSWORD},
    )
    assert response.status_code == 423
    assert "15分" in response.text


def test_forms_need_the_sessions_csrf_token(
    client: TestClient, session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    client.get("/office/login")
    forged = client.post(
        "/office/login",
        data={"csrf_token": "forged", "login_id": "yamamoto", "password": PASSWORD},
    )
    assert forged.status_code == 403
    _password(client)
    assert _enter_code(client, _code(session, settings)) == 303
    assert client.post("/office/logout", data={"csrf_token": "forged"}).status_code == 403
    logout = client.post(
        "/office/logout",
        data={"csrf_token": _csrf(client.get("/office").text)},
        follow_redirects=False,
    )
    assert logout.status_code == 303
    assert client.get("/office", follow_redirects=False).status_code == 303


def _try_login(client: TestClient, login_id: str, headers: dict[str, str] | None = None) -> Any:
    page = client.get("/office/login")
    return client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": login_id, "password": "x" * 12},
        headers=headers,
    )


def test_many_logins_from_one_address_are_limited_whatever_the_account(
    container: Container, staff: office.StaffRead
) -> None:
    container.settings = container.settings.model_copy(update={"login_rate_limit": "5/minute"})
    with TestClient(create_app(container), base_url="http://testserver") as client:
        responses = [_try_login(client, f"guess{n}") for n in range(6)]
        assert [r.status_code for r in responses] == [401] * 5 + [429]
        assert "試行回数が多すぎます" in responses[-1].text
        # The right password from the same address waits too; no session is made.
        assert _password(client) == 429
        assert client.get("/office", follow_redirects=False).headers["location"] == "/office/login"


def test_a_forwarded_for_header_does_not_reset_the_limit(
    container: Container, staff: office.StaffRead
) -> None:
    container.settings = container.settings.model_copy(update={"login_rate_limit": "3/minute"})
    with TestClient(create_app(container), base_url="http://testserver") as client:
        statuses = [
            _try_login(client, "guess", {"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(4)
        ]
    assert statuses == [401, 401, 401, 429]


def test_one_time_codes_from_one_address_count_against_the_same_limit(
    container: Container, session: Session, settings: Settings, staff: office.StaffRead
) -> None:
    container.settings = container.settings.model_copy(update={"login_rate_limit": "3/minute"})
    with TestClient(create_app(container), base_url="http://testserver") as client:
        assert _password(client) == 303  # the first of three attempts
        assert _enter_code(client, "000000") == 401
        assert _enter_code(client, "111111") == 401
        # The limit is reached: even the right code waits, and no session is made.
        assert _enter_code(client, _code(session, settings)) == 429
        assert client.get("/office", follow_redirects=False).headers["location"] == "/office/login"
