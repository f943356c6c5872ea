"""SQLite's one writer: the process's write lock, and reads that go beside it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Engine, Table, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from myna.network.models import SeenRequest
from myna.platform import db
from myna.platform.db import insert_row, make_engine, make_session_factory, read_only, unit_of_work


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'writer.db'}")
    cast(Table, SeenRequest.__table__).create(engine)
    return engine


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def _seen(session: Session, request_id: str) -> None:
    insert_row(
        session,
        SeenRequest,
        {"request_id": request_id, "requester": "portal", "received_at": datetime.now(UTC)},
    )


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(SeenRequest)) or 0)


def test_the_write_lock_is_held_until_the_commit_has_run(factory: sessionmaker[Session]) -> None:
    # Released before COMMIT, the next writer's BEGIN IMMEDIATE would meet SQLITE_BUSY
    # and sleep in SQLite's busy handler while every other thread queued behind it.
    held_at: dict[str, bool] = {}
    with unit_of_work(factory) as session:
        _seen(session, "r-1")
        raw = session.connection().connection.dbapi_connection
        writer = raw.writer  # type: ignore[union-attr]

        def watch(statement: str) -> None:
            if statement in ("COMMIT", "ROLLBACK"):
                held_at[statement] = writer.locked()

        raw.set_trace_callback(watch)  # type: ignore[union-attr]
    raw.set_trace_callback(None)  # type: ignore[union-attr]
    assert held_at == {"COMMIT": True}
    assert not writer.locked()


def test_a_rolled_back_transaction_lets_go_of_the_lock(factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), unit_of_work(factory) as session:
        _seen(session, "r-1")
        writer = session.connection().connection.dbapi_connection.writer  # type: ignore[union-attr]
        raise RuntimeError
    assert not writer.locked()
    with unit_of_work(factory) as session:
        assert _count(session) == 0


def test_a_read_goes_beside_an_open_write_and_sees_what_was_committed(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        _seen(session, "committed")
    # The writer below holds the process's write lock; a read that took it too would wait
    # for it in this very thread (the busy timeout, then an error).
    with unit_of_work(factory) as writer:
        _seen(writer, "pending")
        with read_only(factory) as reader:
            assert _count(reader) == 1
    with read_only(factory) as reader:
        assert _count(reader) == 2


def test_nothing_written_through_a_read_is_kept(factory: sessionmaker[Session]) -> None:
    with read_only(factory) as reader:
        _seen(reader, "stray")
        assert _count(reader) == 1
    with read_only(factory) as reader:
        assert _count(reader) == 0


def test_transactions_begin_without_connection_events(engine: Engine) -> None:
    # BEGIN IMMEDIATE is the dialect's own step: with a connection event on the engine,
    # SQLAlchemy would run its event dispatch around every statement of every request.
    assert not engine._has_events
    with engine.begin() as connection:
        assert connection.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]


def test_a_begin_that_fails_lets_go_of_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process holds SQLite's own write lock: this process's BEGIN IMMEDIATE
    # waits out the busy timeout and fails, and must not keep the process's lock.
    monkeypatch.setattr(db, "_SQLITE_BUSY_SECONDS", 0.05)
    path = tmp_path / "writer.db"
    engine = make_engine(f"sqlite:///{path}")
    cast(Table, SeenRequest.__table__).create(engine)
    factory = make_session_factory(engine)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="locked"), unit_of_work(factory) as session:
        _seen(session, "while-another-process-writes")
    holder.rollback()
    holder.close()
    with unit_of_work(factory) as session:
        _seen(session, "after-the-failed-begin")
    with read_only(factory) as session:
        assert _count(session) == 1
