"""Queries of the replica store (select()-based; bulk upserts through Core)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from myna.agencies.models import AgencyRecord

_KEY = ("agency_code", "link_code", "item_code", "record_key")
_UPDATED = ("payload", "source", "valid_from", "updated_at")


def upsert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (column dicts); a row whose key exists replaces its values."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(AgencyRecord)
        statement: Any = pg.on_conflict_do_update(
            index_elements=list(_KEY), set_={c: pg.excluded[c] for c in _UPDATED}
        )
    elif dialect == "sqlite":
        lite = sqlite.insert(AgencyRecord)
        statement = lite.on_conflict_do_update(
            index_elements=list(_KEY), set_={c: lite.excluded[c] for c in _UPDATED}
        )
    else:  # pragma: no cover - Myna runs on SQLite and PostgreSQL
        raise NotImplementedError(dialect)
    session.execute(statement, list(rows))


class StoredRecord(NamedTuple):
    """A record as an answer carries it (no ids, no link code)."""

    item_code: str
    record_key: str
    payload: dict[str, Any]
    source: str
    valid_from: date
    updated_at: datetime


_RECORDS = cast(Table, AgencyRecord.__table__)
# Every answer to the hub runs this: a Core select compiled once, its rows as tuples
# (the ORM would build, and track, an object per record only to be read once).
_ANSWER = (
    select(*(_RECORDS.c[name] for name in StoredRecord._fields))
    .where(
        _RECORDS.c.agency_code == bindparam("agency_code"),
        _RECORDS.c.link_code == bindparam("link_code"),
        _RECORDS.c.item_code.in_(bindparam("items", expanding=True)),
    )
    .order_by(_RECORDS.c.item_code, _RECORDS.c.record_key)
)


def answer_records(
    session: Session, agency_code: str, link_code: str, items: Sequence[str]
) -> list[StoredRecord]:
    """The records ``agency_code`` holds under ``link_code`` for ``items``, by item and key."""
    rows = session.execute(
        _ANSWER, {"agency_code": agency_code, "link_code": link_code, "items": list(items)}
    )
    return [StoredRecord._make(row) for row in rows]


def records_for(
    session: Session, agency_code: str, link_code: str, items: Sequence[str]
) -> Sequence[AgencyRecord]:
    """The records ``agency_code`` holds under ``link_code`` for ``items`` (as rows)."""
    return session.scalars(
        select(AgencyRecord)
        .where(
            AgencyRecord.agency_code == agency_code,
            AgencyRecord.link_code == link_code,
            AgencyRecord.item_code.in_(items),
        )
        .order_by(AgencyRecord.item_code, AgencyRecord.record_key)
    ).all()


def records_by_key(
    session: Session, agency_code: str, item_code: str, record_key: str
) -> Sequence[AgencyRecord]:
    """The records ``agency_code`` holds of ``item_code`` under ``record_key``, anyone's."""
    return session.scalars(
        select(AgencyRecord)
        .where(
            AgencyRecord.agency_code == agency_code,
            AgencyRecord.item_code == item_code,
            AgencyRecord.record_key == record_key,
        )
        .order_by(AgencyRecord.id)
        .limit(2)
    ).all()


def count(session: Session, agency_code: str | None) -> int:
    """How many records the store holds (for one agency, or all)."""
    query = select(func.count()).select_from(AgencyRecord)
    if agency_code is not None:
        query = query.where(AgencyRecord.agency_code == agency_code)
    return session.scalar(query) or 0


def delete_for(session: Session, agency_code: str, link_code: str, items: Sequence[str]) -> int:
    """Remove the records of ``items`` under ``link_code``; how many went."""
    rows = records_for(session, agency_code, link_code, items)
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)
