"""Group commit: appends queue pending entries, the sequencer gives them their leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from myna.network import transparency as tlog
from myna.network.transparency.models import LogEntryRow, LogNode
from myna.platform.db import unit_of_work
from tests.integration.transparency.conftest import START, exchange


def _pending(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(LogEntryRow).where(LogEntryRow.leaf_index.is_(None))
        )
        or 0
    )


def test_an_append_queues_its_entries_without_touching_the_tree(log_session: Session) -> None:
    assert tlog.append(session=log_session, entries=exchange(5)) == 5
    assert _pending(log_session) == 5
    assert tlog.tree_size(session=log_session) == 0
    assert log_session.scalar(select(func.count()).select_from(LogNode)) == 0
    assert log_session.scalar(select(LogEntryRow.leaf_hash).limit(1)) is None


def test_sequencing_takes_pending_entries_in_insertion_order_without_gaps(
    log_session: Session,
) -> None:
    for n, subject in ((3, "1001"), (4, "2002"), (2, "3003")):
        tlog.append(session=log_session, entries=exchange(n, subject=subject))
    assert list(tlog.sequence(session=log_session, limit=5)) == [0, 1, 2, 3, 4]
    assert _pending(log_session) == 4
    assert list(tlog.sequence(session=log_session)) == [5, 6, 7, 8]
    assert list(tlog.sequence(session=log_session)) == []
    subjects = [tlog.get_entry(session=log_session, index=i).subject for i in range(9)]
    assert subjects == ["1001"] * 3 + ["2002"] * 4 + ["3003"] * 2
    minutes = [tlog.get_entry(session=log_session, index=i).time for i in range(3, 7)]
    assert minutes == [START + timedelta(minutes=m) for m in range(4)]


def test_sequencing_in_several_statement_batches_builds_the_same_tree(
    log_session: Session, signer: tlog.LogSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tlog.service, "SEQUENCE_BATCH", 3)
    tlog.append(session=log_session, entries=exchange(11))
    assert list(tlog.sequence(session=log_session)) == list(range(11))
    tlog.publish_tree_head(session=log_session, signer=signer)
    report = tlog.verify_log(session=log_session, public_key=signer.public_jwk)
    assert report.ok, [str(p) for p in report.problems]
    assert report.entries_checked == 11


def test_pending_entries_are_in_the_residents_history_without_an_index(
    log_session: Session, signer: tlog.LogSigner
) -> None:
    tlog.append(session=log_session, entries=exchange(2))
    tlog.publish_tree_head(session=log_session, signer=signer)
    later = START + timedelta(days=1)
    tlog.append(session=log_session, entries=exchange(3, start=later))
    page = tlog.entries_for_subject(session=log_session, subject="1001")
    assert page.total == 5
    assert [e.index for e in page.items] == [None, None, None, 1, 0]
    assert all(e.pending for e in page.items[:3])
    exchanges = tlog.exchanges_for_subject(session=log_session, subject="1001").items
    minute = timedelta(minutes=1)
    assert [(x.time, [e.index for e in x.entries]) for x in exchanges] == [
        (later + 2 * minute, [None]),
        (later + minute, [None]),
        (later, [None]),
        (START + minute, [1]),
        (START, [0]),
    ]
    status = tlog.log_status(session=log_session)
    assert (status.tree_size, status.signed_size, status.pending) == (2, 2, 3)
    assert status.oldest_unsigned_at == later
    with pytest.raises(tlog.InvalidEntryError):
        exchanges[0].entries[0].leaf_hash()


def test_a_proof_is_there_once_the_entry_is_sequenced_and_signed(
    log_session: Session, signer: tlog.LogSigner
) -> None:
    tlog.append(session=log_session, entries=exchange(3))
    with pytest.raises(tlog.LeafIndexOutOfRangeError):
        tlog.inclusion_bundle(session=log_session, index=0)  # no leaf yet
    head = tlog.publish_tree_head(session=log_session, signer=signer)
    assert head.tree_size == 3
    for index in range(3):
        bundle = tlog.inclusion_bundle(session=log_session, index=index)
        assert bundle is not None
        tlog.verify_entry_inclusion(entry=bundle.entry, proof=bundle.proof, head=bundle.head)
    assert tlog.log_status(session=log_session).oldest_unsigned_at is None


def test_a_rolled_back_append_leaves_nothing(
    committing: tuple[sessionmaker[Session], int], signer: tlog.LogSigner
) -> None:
    factory, start = committing
    with unit_of_work(factory) as session:
        tlog.append(session=session, entries=exchange(2, subject="kept"))

    class RefusedError(Exception):
        pass

    with pytest.raises(RefusedError), unit_of_work(factory) as session:
        tlog.append(session=session, entries=exchange(4, subject="gone"))
        raise RefusedError
    with unit_of_work(factory) as session:
        head = tlog.publish_tree_head(session=session, signer=signer)
        gone = tlog.entries_for_subject(session=session, subject="gone")
        subjects = {
            tlog.get_entry(session=session, index=i).subject for i in range(start, start + 2)
        }
    assert head.tree_size == start + 2
    assert gone.total == 0
    assert subjects == {"kept"}


def test_a_head_covers_every_entry_committed_before_it(
    committing: tuple[sessionmaker[Session], int], signer: tlog.LogSigner
) -> None:
    factory, start = committing
    for n in (1, 4, 2):
        with unit_of_work(factory) as session:
            tlog.append(session=session, entries=exchange(n, subject="covered"))
    with unit_of_work(factory) as session:
        head = tlog.publish_tree_head(session=session, signer=signer)
    assert head.tree_size == start + 7
    with unit_of_work(factory) as session:
        assert _pending(session) == 0
        for index in range(start, start + 7):
            bundle = tlog.inclusion_bundle(session=session, index=index)
            assert bundle is not None
            assert bundle.entry.subject == "covered"
            tlog.verify_entry_inclusion(entry=bundle.entry, proof=bundle.proof, head=head)
