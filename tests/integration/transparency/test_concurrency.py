"""Appends from several threads, each in its own committed transaction, while a sequencer runs."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from myna.network import transparency as tlog
from myna.network.transparency.models import LogEntryRow
from myna.platform.db import unit_of_work
from tests.integration.transparency.conftest import START, exchange

THREADS = 6
TRANSACTIONS = 15
PER_TRANSACTION = 3


def test_concurrent_appends_get_unique_consecutive_indices(
    committing: tuple[sessionmaker[Session], int], signer: tlog.LogSigner
) -> None:
    factory, start = committing
    errors: list[BaseException] = []
    appended = threading.Event()
    barrier = threading.Barrier(THREADS + 1)
    heads: list[tlog.SignedTreeHead] = []

    def appender(number: int) -> None:
        try:
            barrier.wait()
            for transaction in range(TRANSACTIONS):
                with unit_of_work(factory) as session:
                    tlog.append(
                        session=session,
                        entries=exchange(
                            PER_TRANSACTION,
                            subject=f"{number}",
                            start=START + timedelta(hours=transaction),
                        ),
                    )
        except BaseException as error:  # reported below, with the thread's context
            errors.append(error)

    def sequencer() -> None:
        # Sequences and signs while the appends run, as the background publisher does.
        try:
            barrier.wait()
            while not appended.is_set():
                with unit_of_work(factory) as session:
                    tlog.sequence(session=session, limit=7)
                with unit_of_work(factory) as session:
                    heads.append(tlog.publish_tree_head(session=session, signer=signer))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(THREADS)]
    publisher = threading.Thread(target=sequencer)
    for thread in [*threads, publisher]:
        thread.start()
    for thread in threads:
        thread.join()
    appended.set()
    publisher.join()
    assert errors == []
    with unit_of_work(factory) as session:
        last = tlog.publish_tree_head(session=session, signer=signer)
    total = THREADS * TRANSACTIONS * PER_TRANSACTION
    assert last.tree_size == start + total  # the head covers every committed append
    with unit_of_work(factory) as session:
        rows = session.execute(
            select(LogEntryRow.leaf_index, LogEntryRow.subject, LogEntryRow.occurred_at).where(
                LogEntryRow.leaf_index.is_(None) | (LogEntryRow.leaf_index >= start)
            )
        ).all()
        report = tlog.verify_log(session=session, public_key=signer.public_jwk)
    indices = sorted(index for index, _, _ in rows if index is not None)
    assert len(rows) == total
    assert indices == list(range(start, start + total))  # none lost, none twice, no gap
    # Each thread's entries are sequenced in the order it committed them.
    by_thread: dict[str, list[tuple[object, int]]] = defaultdict(list)
    for index, subject, at in rows:
        by_thread[subject].append((at, index))
    for entries in by_thread.values():
        in_time = [index for _, index in sorted(entries)]
        assert in_time == sorted(in_time)
    sizes = [head.tree_size for head in heads]
    assert sizes == sorted(sizes)
    assert report.ok, [str(p) for p in report.problems]
    assert report.tree_size == start + total
