"""Engine, sessions and the declarative base shared by every context's models."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import DateTime, MetaData, Table, create_engine, event, insert, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so Alembic migrations match on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Every context that owns tables, by name: the platform registers them on the shared
# metadata (for Alembic and the composition root) without importing the contexts.
MODEL_MODULES = (
    "myna.reference.models",
    "myna.platform.sessions.models",
    "myna.registry.models",
    "myna.jpki.models",
    "myna.cardlogin.models",
    "myna.phone.models",
    "myna.portal.models",
    "myna.network.transparency.models",
    "myna.agencies.models",
    "myna.network.models",
    "myna.notices.models",
    "myna.applications.models",
    "myna.moves.models",
    "myna.corrections.models",
    "myna.office.models",
    "myna.office.filing_models",
    "myna.partners.models",
    "myna.medical.models",
    "myna.delivery.models",
    "myna.tax.models",
    "myna.authapp.models",
    "myna.counters.models",
    "myna.proxy.models",
    "myna.vaccination.models",
    "myna.certificates.models",
)


def import_all_models() -> None:
    """Register every context's tables on the shared metadata."""
    for module in MODEL_MODULES:
        importlib.import_module(module)


class Base(DeclarativeBase):
    """Declarative base for all Myna tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetimes are not stored; use an aware UTC datetime"
            raise ValueError(msg)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


_SQLITE_BUSY_SECONDS = 30


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault(
            "connect_args", {"check_same_thread": False, "timeout": _SQLITE_BUSY_SECONDS}
        )
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented
    # recipe hands BEGIN to SQLAlchemy instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # SQLite has one writer. IMMEDIATE takes the write lock up front: a deferred
    # transaction that reads and then writes fails at once with SQLITE_BUSY when another
    # writer got in between. Within this process, transactions queue on a lock instead
    # of SQLite's busy handler, which sleeps in steps of up to 100 ms; other processes
    # still wait through the busy timeout.
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not writer.acquire(timeout=_SQLITE_BUSY_SECONDS):
            msg = "the database stayed locked by another transaction"
            raise TimeoutError(msg)
        conn.info["myna_writer"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn)
            raise

    def _release(conn: Any) -> None:
        if conn.info.pop("myna_writer", False):
            writer.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


def make_session_factory(
    engine: Engine, *, info: dict[str, object] | None = None
) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit.

    ``info`` goes to every session's ``Session.info`` (the same objects, shared): the
    composition root hands its caches to the code that works with a session this way.
    """
    return sessionmaker(bind=engine, expire_on_commit=False, info=info or {})


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def add_once(session: Session, row: Base) -> bool:
    """Add ``row`` unless a row with its primary key exists: False if one does.

    For "accept once" tables (used ``jti`` values): the insert is made in a savepoint, so
    when two requests race with the same key the loser fails alone and gets False.
    """
    key = inspect(type(row)).primary_key_from_instance(row)
    if session.get(type(row), tuple(key)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def insert_once(session: Session, model: type[Base], values: Mapping[str, object]) -> bool:
    """INSERT one row of ``model``'s table unless its key is taken: False if it was.

    ``INSERT … ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL alike): the database tells
    which of two racing requests came first, without the savepoint (two more statements)
    that catching an IntegrityError needs on PostgreSQL, nor a read before the write.
    """
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - Myna runs on SQLite and PostgreSQL
        raise NotImplementedError(dialect)
    # The row count of an INSERT is kept only when asked (PostgreSQL's driver gives -1).
    result = session.execute(statement.execution_options(preserve_rowcount=True), dict(values))
    return int(getattr(result, "rowcount", 0)) == 1


def insert_row(session: Session, model: type[Base], values: Mapping[str, object]) -> None:
    """INSERT one row of ``model``'s table, no unit-of-work flush, nothing loaded back.

    A Core insert of the table with the values as parameters: the statement is compiled
    once and cached. ``insert(model).values(...)`` goes through the ORM's bulk path and
    keys its cache on the values' structure each time, about four times the CPU of the
    INSERT itself — it showed in every card login (challenge, audit row, session).
    """
    session.execute(insert(cast(Table, model.__table__)), dict(values))
