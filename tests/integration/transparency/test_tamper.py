"""Altering, deleting or reordering stored entries is detected, online and offline."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from myna.network import transparency as tlog
from myna.network.transparency import LogSigner
from myna.network.transparency.domain import Frontier
from myna.network.transparency.models import LogEntryRow, LogNode, LogState
from tests.integration.transparency.conftest import exchange


@pytest.fixture
def signed_log(log_session: Session, signer: LogSigner) -> Session:
    """20 entries under a signed head, then 5 more under a second head."""
    tlog.append(session=log_session, entries=exchange(20))
    tlog.publish_tree_head(session=log_session, signer=signer)
    tlog.append(session=log_session, entries=exchange(5, subject="2002"))
    tlog.publish_tree_head(session=log_session, signer=signer)
    return log_session


def _codes(session: Session, signer: LogSigner) -> set[str]:
    session.expire_all()
    report = tlog.verify_log(session=session, public_key=signer.public_jwk)
    return {problem.code for problem in report.problems}


def _offline_check_fails(session: Session, index: int, head: tlog.SignedTreeHead) -> bool:
    """What a resident's verifier says about the entry as the log now shows it."""
    try:
        entry = tlog.get_entry(session=session, index=index)
        proof = tlog.inclusion_proof(session=session, index=index, tree_size=head.tree_size)
        tlog.verify_entry_inclusion(entry=entry, proof=proof, head=head)
    except (tlog.ProofVerificationError, tlog.LeafIndexOutOfRangeError):
        return True
    return False


def test_an_untouched_log_passes_both_checks(signed_log: Session, signer: LogSigner) -> None:
    head = tlog.latest_tree_head(session=signed_log)
    assert _codes(signed_log, signer) == set()
    assert not _offline_check_fails(signed_log, 7, head)


def test_altering_an_entry_is_detected(signed_log: Session, signer: LogSigner) -> None:
    head = tlog.latest_tree_head(session=signed_log)
    signed_log.execute(
        update(LogEntryRow).where(LogEntryRow.leaf_index == 7).values(outcome="denied")
    )
    assert "entry_altered" in _codes(signed_log, signer)
    assert _offline_check_fails(signed_log, 7, head)


def test_deleting_an_entry_is_detected(signed_log: Session, signer: LogSigner) -> None:
    head = tlog.latest_tree_head(session=signed_log)
    signed_log.execute(delete(LogEntryRow).where(LogEntryRow.leaf_index == 12))
    assert "entries_missing" in _codes(signed_log, signer)
    assert _offline_check_fails(signed_log, 12, head)
    assert _offline_check_fails(signed_log, 13, head)


def _swap(session: Session, a: int, b: int) -> None:
    """Exchange the stored contents (hash included) of two entries."""
    rows = {
        row.leaf_index: row
        for row in session.scalars(select(LogEntryRow).where(LogEntryRow.leaf_index.in_([a, b])))
    }
    columns = ["leaf_hash", "occurred_at", "requester", "provider", "item", "subject", "outcome"]
    values = {i: {c: getattr(rows[i], c) for c in columns} for i in (a, b)}
    for i, j in ((a, b), (b, a)):
        session.execute(update(LogEntryRow).where(LogEntryRow.leaf_index == i).values(values[j]))


def test_reordering_two_entries_is_detected(signed_log: Session, signer: LogSigner) -> None:
    head = tlog.latest_tree_head(session=signed_log)
    _swap(signed_log, 3, 21)
    assert "entry_altered" in _codes(signed_log, signer)
    assert _offline_check_fails(signed_log, 3, head)
    assert _offline_check_fails(signed_log, 21, head)


def test_a_rewritten_history_with_recomputed_hashes_fails_against_the_signed_heads(
    signed_log: Session, signer: LogSigner
) -> None:
    """An attacker with database access but not the log key rebuilds the whole tree."""
    head = tlog.latest_tree_head(session=signed_log)
    _swap(signed_log, 3, 21)
    signed_log.execute(delete(LogNode))
    frontier = Frontier()
    for row in signed_log.scalars(select(LogEntryRow).order_by(LogEntryRow.leaf_index)):
        signed_log.expire(row)
        row_hash = tlog.get_entry(session=signed_log, index=row.leaf_index).leaf_hash()
        signed_log.execute(
            update(LogEntryRow)
            .where(LogEntryRow.leaf_index == row.leaf_index)
            .values(leaf_hash=row_hash)
        )
        for (level, index), value in frontier.append(row_hash):
            signed_log.add(LogNode(level=level, node_index=index, hash=value))
    signed_log.flush()
    signed_log.execute(
        update(LogState).values(tree_size=frontier.size, frontier=frontier.to_bytes())
    )
    codes = _codes(signed_log, signer)
    assert "head_root" in codes
    assert "entry_altered" not in codes
    assert _offline_check_fails(signed_log, 3, head)


def test_a_head_signed_with_another_key_is_reported(signed_log: Session, signer: LogSigner) -> None:
    tlog.append(session=signed_log, entries=exchange(1))
    tlog.publish_tree_head(session=signed_log, signer=LogSigner.generate())
    assert _codes(signed_log, signer) == {"head_signature"}
