"""``insert_row``: one row written as a Core insert, types and constraints as the ORM's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest
from sqlalchemy import Engine, Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna.network.models import SeenRequest
from myna.platform.db import insert_once, insert_row, make_engine


def _engine() -> Engine:
    engine = make_engine("sqlite://")
    cast(Table, SeenRequest.__table__).create(engine)
    return engine


def test_a_row_is_written_with_its_column_types_and_nothing_is_loaded() -> None:
    engine = _engine()
    received = datetime(2026, 1, 2, 12, 0, tzinfo=timezone(timedelta(hours=9)))
    with Session(engine) as session:
        insert_row(
            session,
            SeenRequest,
            {"request_id": "r-1", "requester": "portal", "received_at": received},
        )
        assert list(session.identity_map.values()) == []
        session.commit()
        row = session.scalars(select(SeenRequest)).one()
    assert (row.request_id, row.requester) == ("r-1", "portal")
    # UTCDateTime stored the instant in UTC and reads it back aware.
    assert row.received_at == received
    assert row.received_at.tzinfo == UTC


def test_the_tables_constraints_still_refuse_a_duplicate() -> None:
    engine = _engine()
    values = {"request_id": "r-1", "requester": "portal", "received_at": datetime.now(UTC)}
    with Session(engine) as session:
        insert_row(session, SeenRequest, values)
        with pytest.raises(IntegrityError):
            insert_row(session, SeenRequest, values)


def test_insert_once_writes_a_row_once_and_says_whether_it_did(session: Session) -> None:
    # The suite's database (SQLite, or PostgreSQL in its pass): each reports the count its
    # own way, and a taken key must read as "not written" on both.
    first = {"request_id": "once-1", "requester": "portal", "received_at": datetime.now(UTC)}
    assert insert_once(session, SeenRequest, first) is True
    assert insert_once(session, SeenRequest, {**first, "requester": "nta"}) is False
    assert insert_once(session, SeenRequest, {**first, "request_id": "once-2"}) is True
    rows = session.execute(
        select(SeenRequest.request_id, SeenRequest.requester)
        .where(SeenRequest.request_id.in_(["once-1", "once-2"]))
        .order_by(SeenRequest.request_id)
    ).all()
    assert [tuple(row) for row in rows] == [("once-1", "portal"), ("once-2", "portal")]
