"""Two of everything, for the attacks the suite refuses: residents, staff, clients.

Resident A (taro, 千代田区) owns what the tests create; resident B (misaki, 横浜市) is
logged in and tries to reach it. Staff X works for 千代田区, staff Y for 横浜市. The
sessions are opened in the store directly (a card login is tested elsewhere), and each
caller has a client of its own, so no cookie leaks from one to the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.office import service as office
from myna.platform.sessions import RESIDENT, STAFF
from myna.platform.settings import Settings

CHIYODA = "131016"
YOKOHAMA = "141003"
PASSWORD = "correct-horse-2026"


@dataclass
class Caller:
    """A logged-in browser: its client, its subject and its session's CSRF token."""

    client: TestClient
    subject_id: int
    csrf_token: str
    kind: str = RESIDENT.name

    def renew(self, container: Container, session: Session) -> None:
        """A new session for the same subject (the last request may have ended the old)."""
        kind = RESIDENT if self.kind == RESIDENT.name else STAFF
        active = container.sessions.rotate(
            session, kind, old_token=None, subject_id=self.subject_id
        )
        session.commit()
        self.client.cookies.set(kind.cookie, active.token)
        self.csrf_token = active.csrf_token


@dataclass
class World:
    """The app and the callers the attacks are made with."""

    app: FastAPI
    container: Container
    resident_a: Caller
    resident_b: Caller
    staff_x: Caller
    staff_y: Caller
    anonymous: TestClient
    opened: list[TestClient] = field(default_factory=list)

    def log_in(self, session: Session, kind: str, subject_id: int) -> Caller:
        """Another logged-in browser (closed with the world)."""
        caller = _caller(self.app, self.container, session, kind, subject_id)
        self.opened.append(caller.client)
        return caller

    def client(self) -> TestClient:
        """Another client without cookies, an API client's (closed with the world)."""
        client = TestClient(self.app, base_url="http://testserver", follow_redirects=False)
        self.opened.append(client)
        return client


def new_staff(
    session: Session,
    settings: Settings,
    code: str,
    login: str,
    role: office.StaffRole = office.StaffRole.ADMIN,
) -> int:
    """A staff account of ``code``'s office (an administrator unless told); its id."""
    created = office.create_staff(
        session=session,
        settings=settings,
        municipality_code=code,
        login_id=login,
        display_name=login,
        role=role,
        password=PASSWORD,
    )
    return created.staff.id


def _caller(
    app: FastAPI, container: Container, session: Session, kind: str, subject: int
) -> Caller:
    session_kind = RESIDENT if kind == RESIDENT.name else STAFF
    active = container.sessions.rotate(session, session_kind, old_token=None, subject_id=subject)
    session.commit()
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    client.cookies.set(session_kind.cookie, active.token)
    return Caller(client=client, subject_id=subject, csrf_token=active.csrf_token, kind=kind)


@pytest.fixture
def world(container: Container, session: Session, settings: Settings) -> Iterator[World]:
    registry.ensure_municipalities(session=session)
    personas = registry.ensure_personas(session=session)
    app = create_app(container)
    x = new_staff(session, settings, CHIYODA, "attack-x")
    y = new_staff(session, settings, YOKOHAMA, "attack-y")
    built = World(
        app=app,
        container=container,
        resident_a=_caller(app, container, session, RESIDENT.name, personas["taro"].id),
        resident_b=_caller(app, container, session, RESIDENT.name, personas["misaki"].id),
        staff_x=_caller(app, container, session, STAFF.name, x),
        staff_y=_caller(app, container, session, STAFF.name, y),
        anonymous=TestClient(app, base_url="http://testserver", follow_redirects=False),
    )
    yield built
    for client in (
        built.resident_a.client,
        built.resident_b.client,
        built.staff_x.client,
        built.staff_y.client,
        built.anonymous,
        *built.opened,
    ):
        client.close()
