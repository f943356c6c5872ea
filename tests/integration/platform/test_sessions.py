"""The session store for residents and staff: rotation, expiry, kinds, tokens, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.office import service as office
from myna.platform.sessions import RESIDENT, STAFF, BrowserSession, SessionStore, token_digest
from myna.platform.sessions.models import StoredSession
from myna.platform.settings import Settings

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand (no sleeping)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def store(container: Container, settings: Settings, clock: FakeClock) -> SessionStore:
    """The container's store, on the test's clock (idle 30 minutes, absolute 8 hours)."""
    container.sessions = SessionStore.from_settings(settings, clock=clock)
    return container.sessions


@pytest.fixture
def client(container: Container, store: SessionStore) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def resident_id(session: Session) -> int:
    registry.ensure_municipalities(session=session)
    taro = registry.ensure_personas(session=session)["taro"]
    session.commit()
    return taro.id


@pytest.fixture
def staff_id(session: Session, settings: Settings) -> int:
    registry.ensure_municipalities(session=session)
    created = office.create_staff(
        session=session,
        settings=settings,
        municipality_code="131016",
        login_id="yamamoto",
        display_name="山本",
        role=office.StaffRole.CLERK,
        password="correct-horse-2026",
    )
    session.commit()
    return created.staff.id


def _logged_in(session: Session, store: SessionStore, resident_id: int) -> BrowserSession:
    active = store.rotate(session, RESIDENT, old_token=None, subject_id=resident_id)
    session.commit()
    return active


def _me(client: TestClient, token: str, cookie: str = RESIDENT.cookie) -> int:
    status: int = client.get("/api/me", headers={"Cookie": f"{cookie}={token}"}).status_code
    return status


def _office(client: TestClient, token: str, cookie: str = STAFF.cookie) -> str:
    response = client.get(
        "/office", headers={"Cookie": f"{cookie}={token}"}, follow_redirects=False
    )
    return "dashboard" if response.status_code == 200 else response.headers["location"]


# --- the store ------------------------------------------------------------------------


def test_only_the_tokens_digest_is_stored(session: Session, store: SessionStore) -> None:
    active = store.open(session, RESIDENT)
    rows = session.scalars(select(StoredSession)).all()
    assert [row.token_digest for row in rows] != [active.token]
    assert all(active.token not in (row.token_digest, row.csrf_token) for row in rows)
    assert store.load(session, RESIDENT, active.token) is not None


def test_logging_in_rotates_the_token_and_the_old_one_dies(
    session: Session, store: SessionStore, resident_id: int
) -> None:
    anonymous = store.open(session, RESIDENT)
    logged_in = store.rotate(session, RESIDENT, old_token=anonymous.token, subject_id=resident_id)
    assert logged_in.token != anonymous.token
    assert logged_in.csrf_token != anonymous.csrf_token
    assert store.load(session, RESIDENT, anonymous.token) is None
    loaded = store.load(session, RESIDENT, logged_in.token)
    assert loaded is not None and loaded.logged_in and loaded.subject_id == resident_id
    assert loaded.authenticated_at == START


def test_a_staff_login_rotates_at_each_factor(
    session: Session, store: SessionStore, staff_id: int
) -> None:
    anonymous = store.open(session, STAFF)
    pending = store.rotate(
        session, STAFF, old_token=anonymous.token, subject_id=staff_id, awaiting_second_factor=True
    )
    assert not pending.logged_in
    full = store.rotate(session, STAFF, old_token=pending.token, subject_id=staff_id)
    assert full.logged_in
    assert store.load(session, STAFF, anonymous.token) is None
    assert store.load(session, STAFF, pending.token) is None
    assert store.load(session, STAFF, full.token) is not None


def test_an_idle_session_expires(
    session: Session, store: SessionStore, clock: FakeClock, resident_id: int
) -> None:
    active = _logged_in(session, store, resident_id)
    clock.advance(minutes=29)
    assert store.load(session, RESIDENT, active.token) is not None
    clock.advance(minutes=29)  # 29 minutes since it was last seen: still alive
    assert store.load(session, RESIDENT, active.token) is not None
    clock.advance(minutes=31)
    assert store.load(session, RESIDENT, active.token) is None
    # The expired row is gone, not just refused.
    session.flush()
    assert session.get(StoredSession, _digest(active)) is None


def test_a_busy_session_still_ends_at_its_absolute_lifetime(
    session: Session, store: SessionStore, clock: FakeClock, resident_id: int
) -> None:
    active = _logged_in(session, store, resident_id)
    for _ in range(8 * 3):  # used every 20 minutes for 8 hours
        clock.advance(minutes=20)
        assert store.load(session, RESIDENT, active.token) is not None
    clock.advance(minutes=1)
    assert store.load(session, RESIDENT, active.token) is None


def test_a_password_checked_staff_session_waits_five_minutes_for_the_code(
    session: Session, store: SessionStore, clock: FakeClock, staff_id: int
) -> None:
    pending = store.rotate(
        session, STAFF, old_token=None, subject_id=staff_id, awaiting_second_factor=True
    )
    clock.advance(minutes=4)
    assert store.load(session, STAFF, pending.token) is not None
    clock.advance(minutes=2)
    assert store.load(session, STAFF, pending.token) is None


def test_a_token_of_one_kind_opens_nothing_of_the_other(
    session: Session, store: SessionStore, resident_id: int, staff_id: int
) -> None:
    resident = _logged_in(session, store, resident_id)
    staff = store.rotate(session, STAFF, old_token=None, subject_id=staff_id)
    assert store.load(session, STAFF, resident.token) is None
    assert store.load(session, RESIDENT, staff.token) is None
    # Nor can one kind's logout end the other's session.
    assert not store.end(session, RESIDENT, staff.token)
    assert store.load(session, RESIDENT, resident.token) is not None
    assert store.load(session, STAFF, staff.token) is not None


def test_a_tampered_or_unknown_token_opens_nothing(
    session: Session, store: SessionStore, resident_id: int
) -> None:
    active = _logged_in(session, store, resident_id)
    flipped = active.token[:-1] + ("A" if active.token[-1] != "A" else "B")
    for token in (flipped, active.token + "x", active.token[:-1], "", None, "トークン", "x" * 4000):
        assert store.load(session, RESIDENT, token) is None
    assert store.load(session, RESIDENT, active.token) is not None


def test_logout_ends_the_session(session: Session, store: SessionStore, resident_id: int) -> None:
    active = _logged_in(session, store, resident_id)
    assert store.end(session, RESIDENT, active.token)
    assert store.load(session, RESIDENT, active.token) is None
    assert not store.end(session, RESIDENT, active.token)


def test_purge_deletes_expired_sessions_of_every_kind(
    session: Session, store: SessionStore, clock: FakeClock, resident_id: int, staff_id: int
) -> None:
    idle = store.open(session, RESIDENT)
    pending = store.rotate(
        session, STAFF, old_token=None, subject_id=staff_id, awaiting_second_factor=True
    )
    busy = _logged_in(session, store, resident_id)
    clock.advance(minutes=20)
    store.load(session, RESIDENT, busy.token)  # seen: not idle
    fresh = store.open(session, STAFF)
    clock.advance(minutes=15)
    assert store.purge_expired(session) == 2
    left = set(session.scalars(select(StoredSession.token_digest)))
    assert left == {_digest(busy), _digest(fresh)}
    assert _digest(idle) not in left and _digest(pending) not in left
    clock.advance(hours=8)
    assert store.purge_expired(session) == 2
    assert session.scalar(select(func.count()).select_from(StoredSession)) == 0


def _digest(active: BrowserSession) -> str:
    return token_digest(active.token)


# --- over HTTP --------------------------------------------------------------------------


def test_a_staff_cookie_is_not_a_resident_session_and_vice_versa(
    client: TestClient, session: Session, store: SessionStore, resident_id: int, staff_id: int
) -> None:
    resident = _logged_in(session, store, resident_id)
    staff = store.rotate(session, STAFF, old_token=None, subject_id=staff_id)
    session.commit()
    assert _me(client, resident.token) == 200
    assert _office(client, staff.token) == "dashboard"
    # The staff token under the resident's cookie name, and the other way round.
    assert _me(client, staff.token) == 401
    assert _office(client, resident.token) == "/office/login"
    # And each under its own name only.
    assert _me(client, resident.token, cookie=STAFF.cookie) == 401
    assert _office(client, staff.token, cookie=RESIDENT.cookie) == "/office/login"


def test_pages_refuse_an_expired_session(
    client: TestClient, session: Session, store: SessionStore, clock: FakeClock, resident_id: int
) -> None:
    active = _logged_in(session, store, resident_id)
    assert _me(client, active.token) == 200
    clock.advance(minutes=31)
    assert _me(client, active.token) == 401
    page = client.get(
        "/home", headers={"Cookie": f"{RESIDENT.cookie}={active.token}"}, follow_redirects=False
    )
    assert page.headers["location"] == "/login?next=%2Fhome"


def test_a_tampered_cookie_is_not_logged_in(
    client: TestClient, session: Session, store: SessionStore, resident_id: int
) -> None:
    active = _logged_in(session, store, resident_id)
    assert _me(client, active.token[:-2]) == 401
    assert _me(client, active.token.upper()) == 401


def test_a_form_posted_with_another_sessions_token_is_refused(
    client: TestClient, session: Session, store: SessionStore, resident_id: int
) -> None:
    mine = _logged_in(session, store, resident_id)
    theirs = _logged_in(session, store, resident_id)
    cookie = {"Cookie": f"{RESIDENT.cookie}={mine.token}"}
    for token in (theirs.csrf_token, "forged"):
        refused = client.post("/account/delete", data={"csrf_token": token}, headers=cookie)
        assert refused.status_code == 403
    # A form without a token at all does not even reach the check.
    assert client.post("/account/delete", data={}, headers=cookie).status_code == 422
    logout = client.post(
        "/logout", data={"csrf_token": mine.csrf_token}, headers=cookie, follow_redirects=False
    )
    assert logout.status_code == 303
    assert _me(client, mine.token) == 401
    assert _me(client, theirs.token) == 200


def test_the_cookie_is_secure_on_https(container: Container, store: SessionStore) -> None:
    with TestClient(create_app(container), base_url="https://testserver") as secure:
        header = secure.get("/office/login").headers["set-cookie"]
    assert "Secure" in header
    assert "HttpOnly" in header
    with TestClient(create_app(container), base_url="http://testserver") as plain:
        header = plain.get("/office/login").headers["set-cookie"]
    assert "Secure" not in header
