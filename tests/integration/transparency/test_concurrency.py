"""Appends from several threads, each in its own committed transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from myna.network import transparency as tlog
from myna.network.transparency import repository
from myna.network.transparency.models import LogEntryRow, LogNode, LogState, LogTreeHead
from myna.platform.db import make_session_factory, unit_of_work
from tests.integration.transparency.conftest import exchange

THREADS = 6
TRANSACTIONS = 15
PER_TRANSACTION = 3


@pytest.fixture
def committing(engine: Engine) -> Iterator[tuple[sessionmaker[Session], int]]:
    """Sessions that really commit; the log is put back as it was afterwards."""
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        start, frontier = repository.read_state(session)
    yield factory, start
    with unit_of_work(factory) as session:
        session.execute(delete(LogTreeHead).where(LogTreeHead.tree_size > start))
        session.execute(
            delete(LogNode).where((LogNode.node_index + 1).op("<<")(LogNode.level) > start)
        )
        session.execute(delete(LogEntryRow).where(LogEntryRow.leaf_index >= start))
        session.execute(update(LogState).values(tree_size=start, frontier=frontier))


def test_concurrent_appends_get_unique_consecutive_indices(
    committing: tuple[sessionmaker[Session], int], signer: tlog.LogSigner
) -> None:
    factory, start = committing
    got: list[list[int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def worker(number: int) -> None:
        try:
            barrier.wait()
            for _ in range(TRANSACTIONS):
                with unit_of_work(factory) as session:
                    indices = tlog.append(
                        session=session,
                        entries=exchange(PER_TRANSACTION, subject=f"{number}"),
                    )
                    if number == 0:
                        tlog.publish_tree_head(session=session, signer=signer)
                with lock:
                    got.append(indices)
        except BaseException as error:  # reported below, with the thread's context
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = THREADS * TRANSACTIONS * PER_TRANSACTION
    flat = sorted(i for indices in got for i in indices)
    assert flat == list(range(start, start + total))
    # Each transaction's entries are contiguous: nothing interleaves inside one append.
    assert all(indices == list(range(indices[0], indices[0] + PER_TRANSACTION)) for indices in got)
    with unit_of_work(factory) as session:
        report = tlog.verify_log(session=session, public_key=signer.public_jwk)
    assert report.ok, [str(p) for p in report.problems]
    assert report.tree_size == start + total
