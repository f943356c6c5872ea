"""Fixtures: an empty log inside the test's transaction, a log key, entry factories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from myna.network.transparency import LogSigner, NewEntry, Outcome
from myna.network.transparency.models import LogEntryRow, LogNode, LogState, LogTreeHead

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
