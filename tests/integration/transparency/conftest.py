"""Fixtures: an empty log inside the test's transaction, a log key, entry factories."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from myna.network import transparency as tlog
from myna.network.transparency import LogSigner, NewEntry, Outcome, repository
from myna.network.transparency.models import LogEntryRow, LogNode, LogState, LogTreeHead
from myna.platform.db import make_session_factory, unit_of_work

START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def signer() -> LogSigner:
    return LogSigner.generate()


@pytest.fixture
def log_session(session: Session) -> Session:
    """The test's session over an empty log (rolled back with the test)."""
    session.execute(delete(LogTreeHead))
    session.execute(delete(LogNode))
    session.execute(delete(LogEntryRow))
    session.execute(update(LogState).values(tree_size=0, frontier=b""))
    return session


@pytest.fixture
def committing(engine: Engine) -> Iterator[tuple[sessionmaker[Session], int]]:
    """Sessions that really commit; the log is put back as it was afterwards."""
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        tlog.sequence(session=session)  # nothing of another test's left pending
    with unit_of_work(factory) as session:
        start, frontier = repository.read_state(session)
    yield factory, start
    with unit_of_work(factory) as session:
        session.execute(delete(LogTreeHead).where(LogTreeHead.tree_size > start))
        session.execute(
            delete(LogNode).where((LogNode.node_index + 1).op("<<")(LogNode.level) > start)
        )
        session.execute(
            delete(LogEntryRow).where(
                or_(LogEntryRow.leaf_index.is_(None), LogEntryRow.leaf_index >= start)
            )
        )
        session.execute(update(LogState).values(tree_size=start, frontier=frontier))


def logged(session: Session, entries: Sequence[NewEntry]) -> list[int]:
    """Append ``entries`` and sequence them at once: their leaf indices."""
    tlog.append(session=session, entries=entries)
    return list(tlog.sequence(session=session))


def exchange(
    n: int,
    *,
    subject: str = "1001",
    provider: str = "mhlw",
    item: str = "health.insurance",
    start: datetime = START,
    outcome: Outcome = Outcome.SUCCESS,
) -> list[NewEntry]:
    """``n`` entries of one subject, a minute apart from ``start``."""
    return [
        NewEntry(
            requester="portal",
            provider=provider,
            procedure="self-info",
            item=item,
            subject=subject,
            outcome=outcome,
            time=start + timedelta(minutes=i),
        )
        for i in range(n)
    ]
