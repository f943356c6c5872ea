"""A login request opened by two residents at once belongs to the first, whatever the timing.

The second resident's request must wait for the first's transaction (the row is locked
while it is read) and then find the request someone else's. On PostgreSQL the second
runs while the first's transaction is still open, and the first commits only once the
second is waiting for a lock; on SQLite, whose writers queue on one lock, one after the
other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from myna.authapp import oidc
from myna.authapp.domain import AuthorizationNotFoundError, new_id
from myna.authapp.models import AuthAppAuthorization
from myna.platform.db import make_session_factory, unit_of_work, utcnow

FIRST, SECOND = 101, 202


@pytest.fixture
def request_id(engine: Engine) -> Iterator[str]:
    """An open login request, committed, that no resident has opened yet."""
    factory = make_session_factory(engine)
    now = utcnow()
    identifier = new_id()
    with unit_of_work(factory) as session:
        session.add(
            AuthAppAuthorization(
                id=identifier,
                client_id="concurrency-test",
                redirect_uri="https://broker.example/callback",
                scope="openid",
                state="s",
                nonce="n",
                code_challenge="c" * 43,
                created_at=now,
                expires_at=now + timedelta(minutes=5),
            )
        )
    yield identifier
    with unit_of_work(factory) as session:
        session.execute(delete(AuthAppAuthorization).where(AuthAppAuthorization.id == identifier))


def _waiting_for_a_lock(factory: sessionmaker[Session]) -> bool:
    with unit_of_work(factory) as session:
        waiting = session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


def test_two_residents_opening_one_login_request_at_once_bind_it_to_the_first(
    engine: Engine, request_id: str
) -> None:
    factory = make_session_factory(engine)
    postgres = engine.dialect.name == "postgresql"
    first_bound = threading.Event()
    outcome: dict[str, object] = {}

    def open_as(session: Session, resident_id: int, signing_request_id: str) -> None:
        oidc.attach_signing_request(
            session=session,
            authorization_id=request_id,
            resident_id=resident_id,
            signing_request_id=signing_request_id,
        )

    def second() -> None:
        first_bound.wait(timeout=30)
        try:
            with unit_of_work(factory) as session:
                open_as(session, SECOND, "second")
            outcome["second"] = "bound"
        except AuthorizationNotFoundError:
            outcome["second"] = "not found"

    other = threading.Thread(target=second)
    other.start()
    with unit_of_work(factory) as session:
        open_as(session, FIRST, "first")
        if postgres:
            first_bound.set()
            deadline = time.monotonic() + 30
            while not _waiting_for_a_lock(factory):
                assert time.monotonic() < deadline, "the second resident never reached the row"
                time.sleep(0.01)
    first_bound.set()
    other.join(timeout=60)
    assert not other.is_alive()
    assert outcome == {"second": "not found"}
    with unit_of_work(factory) as session:
        row = session.scalars(
            select(AuthAppAuthorization).where(AuthAppAuthorization.id == request_id)
        ).one()
        assert (row.resident_id, row.signing_request_id) == (FIRST, "first")
