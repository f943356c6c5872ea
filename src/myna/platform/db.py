"""Engine, sessions and the declarative base shared by every context's models."""

from __future__ import annotations

import importlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import DateTime, Insert, MetaData, Table, create_engine, event, insert, inspect
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
# Set while a ``read_only`` session begins its transaction (see there).
_READING: ContextVar[bool] = ContextVar("myna_read_only", default=False)


class _SqliteConnection(sqlite3.Connection):
    """A pysqlite connection that lets go of the process's write lock once it has ended.

    SQLAlchemy announces a commit (its ``commit`` event) before it sends COMMIT: a lock
    released there let the next transaction's BEGIN IMMEDIATE meet the one still
    committing, and wait out SQLite's busy handler (sleeps of 1 ms and more) while every
    other thread queued behind it. Released here, after COMMIT or ROLLBACK has run, the
    next writer finds the database free.
    """

    writer: threading.Lock | None = None
    holds_writer = False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.let_go()

    def let_go(self) -> None:
        """Release the process's write lock if this connection holds it."""
        if self.holds_writer and self.writer is not None:
            self.holds_writer = False
            self.writer.release()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault(
            "connect_args",
            {
                "check_same_thread": False,
                "timeout": _SQLITE_BUSY_SECONDS,
                "factory": _SqliteConnection,
            },
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
    # SQLite has one writer. IMMEDIATE takes the write lock up front: a deferred
    # transaction that reads and then writes fails at once with SQLITE_BUSY when another
    # writer got in between. Within this process, transactions queue on a lock instead
    # of SQLite's busy handler, which sleeps in steps of up to 100 ms; other processes
    # still wait through the busy timeout. A ``read_only`` session writes nothing: it
    # begins a deferred transaction, beside the writer (WAL), without the lock.
    writer = threading.Lock()

    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented
    # recipe hands BEGIN to SQLAlchemy instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        if isinstance(dbapi_connection, _SqliteConnection):
            dbapi_connection.writer = writer
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # BEGIN is the dialect's (``do_begin``), not a "begin" event: any connection event on
    # the engine makes every statement run SQLAlchemy's event dispatch, and a BEGIN sent
    # as a statement of its own goes through the whole execution path; here it is one
    # call on the driver's connection.
    def do_begin(connection: Any) -> None:
        dbapi_connection = connection.dbapi_connection
        if _READING.get():
            dbapi_connection.execute("BEGIN")
            return
        if not isinstance(dbapi_connection, _SqliteConnection):
            # Connections made by another factory (a caller's connect_args) lock alone.
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        if not writer.acquire(timeout=_SQLITE_BUSY_SECONDS):
            msg = "the database stayed locked by another transaction"
            raise TimeoutError(msg)
        dbapi_connection.holds_writer = True
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_connection.let_go()
            raise

    engine.dialect.do_begin = do_begin  # type: ignore[method-assign,assignment]


def make_session_factory(
    engine: Engine, *, info: dict[str, object] | None = None
) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit.

    ``info`` goes to every session's ``Session.info`` (the same objects, shared): the
    composition root hands its caches to the code that works with a session this way.
    """
    return sessionmaker(bind=engine, expire_on_commit=False, info=info or {})


@contextmanager
def read_only(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads alone: rolled back at the end, whatever it did.

    On SQLite it begins a deferred transaction without the process's write lock, so a
    read (a session's look-up at every request) neither waits for a writer nor makes one
    wait; elsewhere it is an ordinary transaction. Nothing written through it is kept.
    """
    reading = _READING.set(True)
    session = factory()
    try:
        # Begin now, while the flag is set: the transaction is the read's whatever
        # happens inside the block.
        session.connection()
    finally:
        _READING.reset(reading)
    try:
        yield session
    finally:
        session.close()


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
    session.execute(_insert_of(cast(Table, model.__table__)), dict(values))


@cache
def _insert_of(table: Table) -> Insert:
    """The table's INSERT, built once: its cache key is then computed once too."""
    return insert(table)
