"""The stored log: appends, heads and proofs match RFC 9162 computed naively."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna.network import transparency as tlog
from myna.network.transparency import LogSigner, NewEntry, Outcome
from myna.network.transparency.models import LogNode
from tests.integration.transparency.conftest import START, exchange, logged
from tests.unit.transparency import naive


def _all_leaves(session: Session) -> list[bytes]:
    size = tlog.tree_size(session=session)
    return [tlog.get_entry(session=session, index=i).canonical_bytes() for i in range(size)]


def test_sequenced_entries_get_consecutive_indices_from_zero(log_session: Session) -> None:
    assert tlog.append(session=log_session, entries=exchange(3)) == 3
    assert tlog.append(session=log_session, entries=exchange(1)) == 1
    assert tlog.append(session=log_session, entries=[]) == 0
    assert tlog.tree_size(session=log_session) == 0  # pending until sequenced
    assert list(tlog.sequence(session=log_session)) == [0, 1, 2, 3]
    assert tlog.tree_size(session=log_session) == 4
    assert logged(log_session, exchange(2)) == [4, 5]


def test_an_entry_reads_back_exactly_as_appended(log_session: Session) -> None:
    new = exchange(1, outcome=tlog.Outcome.TIMEOUT)[0]
    [index] = logged(log_session, [new])
    entry = tlog.get_entry(session=log_session, index=index)
    assert (entry.time, entry.subject, entry.outcome) == (new.time, "1001", tlog.Outcome.TIMEOUT)
    assert entry.to_json()["time"] == "2026-11-28T09:00:00.000000Z"


def test_roots_and_proofs_from_storage_match_the_naive_computation(
    log_session: Session,
) -> None:
    for size in (1, 2, 3, 5, 8, 13, 1, 4):
        tlog.append(session=log_session, entries=exchange(size))
    tlog.sequence(session=log_session, limit=10)
    tlog.sequence(session=log_session)
    leaves = _all_leaves(log_session)
    n = len(leaves)
    assert n == 37
    assert log_session.scalar(select(LogNode).limit(1)) is not None
    for size in range(n + 1):
        assert tlog.root_hash(session=log_session, tree_size=size) == naive.mth(leaves[:size])
    for size in (1, 2, 7, 16, 17, 37):
        for index in range(size):
            proof = tlog.inclusion_proof(session=log_session, index=index, tree_size=size)
            assert list(proof.path) == naive.path(index, leaves[:size])
    for second in (5, 16, 31, 37):
        for first in range(1, second):
            proof = tlog.consistency_proof(session=log_session, first=first, second=second)
            assert list(proof.path) == naive.proof(first, leaves[:second])


def test_published_heads_are_signed_and_consistent(log_session: Session, signer: LogSigner) -> None:
    with pytest.raises(tlog.NoTreeHeadError):
        tlog.latest_tree_head(session=log_session)
    tlog.append(session=log_session, entries=exchange(6))
    first = tlog.publish_tree_head(session=log_session, signer=signer)
    assert tlog.publish_tree_head(session=log_session, signer=signer) == first
    tlog.append(session=log_session, entries=exchange(11))
    second = tlog.publish_tree_head(session=log_session, signer=signer)
    assert tlog.latest_tree_head(session=log_session) == second
    assert tlog.tree_head(session=log_session, tree_size=6) == first
    key = tlog.public_key(signer.public_jwk)
    for head in (first, second):
        tlog.verify_tree_head(head, key)
    assert second.root_hash == naive.mth(_all_leaves(log_session))
    proof = tlog.consistency_proof(session=log_session, first=6, second=17)
    tlog.verify_heads_consistent(first=first, second=second, proof=proof)
    bundle = tlog.inclusion_bundle(session=log_session, index=4)
    assert bundle is not None
    assert bundle.head == second
    tlog.verify_entry_inclusion(entry=bundle.entry, proof=bundle.proof, head=bundle.head)


def test_an_entry_newer_than_the_latest_head_has_no_proof_yet(
    log_session: Session, signer: LogSigner
) -> None:
    logged(log_session, exchange(2))
    assert tlog.inclusion_bundle(session=log_session, index=1) is None
    tlog.publish_tree_head(session=log_session, signer=signer)
    logged(log_session, exchange(1))
    assert tlog.inclusion_bundle(session=log_session, index=2) is None
    assert tlog.inclusion_bundle(session=log_session, index=1) is not None


def test_proofs_beyond_the_log_are_refused(log_session: Session) -> None:
    logged(log_session, exchange(4))
    with pytest.raises(tlog.TreeSizeError):
        tlog.inclusion_proof(session=log_session, index=1, tree_size=5)
    with pytest.raises(tlog.LeafIndexOutOfRangeError):
        tlog.inclusion_proof(session=log_session, index=4, tree_size=4)
    with pytest.raises(tlog.TreeSizeError):
        tlog.consistency_proof(session=log_session, first=3, second=9)
    with pytest.raises(tlog.TreeSizeError):
        tlog.consistency_proof(session=log_session, first=4, second=3)
    with pytest.raises(tlog.LeafIndexOutOfRangeError):
        tlog.get_entry(session=log_session, index=99)


def test_a_clean_log_verifies(log_session: Session, signer: LogSigner) -> None:
    for size in (3, 9, 1, 20):
        tlog.append(session=log_session, entries=exchange(size))
        tlog.publish_tree_head(session=log_session, signer=signer)
    report = tlog.verify_log(session=log_session, public_key=signer.public_jwk)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.entries_checked, report.heads_checked, report.consistency_checked) == (
        33,
        4,
        3,
    )
    assert report.nodes_checked == 33 - (33).bit_count()


def test_the_resident_page_is_newest_first_filtered_and_paginated(
    log_session: Session,
) -> None:
    tlog.append(session=log_session, entries=exchange(30, subject="1001"))
    tlog.append(session=log_session, entries=exchange(5, subject="2002"))
    tlog.append(
        session=log_session,
        entries=exchange(7, subject="1001", provider="nta", item="tax.income"),
    )
    tlog.sequence(session=log_session)
    first = tlog.entries_for_subject(session=log_session, subject="1001", page_size=10)
    assert (first.total, first.pages, len(first.items)) == (37, 4, 10)
    times = [entry.time for entry in first.items]
    assert times == sorted(times, reverse=True)
    assert all(entry.subject == "1001" for entry in first.items)
    last = tlog.entries_for_subject(session=log_session, subject="1001", page=4, page_size=10)
    assert len(last.items) == 7
    seen = {
        entry.index
        for page in range(1, 5)
        for entry in tlog.entries_for_subject(
            session=log_session, subject="1001", page=page, page_size=10
        ).items
    }
    assert len(seen) == 37
    tax = tlog.entries_for_subject(session=log_session, subject="1001", provider="nta")
    assert tax.total == 7
    assert {entry.item for entry in tax.items} == {"tax.income"}
    by_item = tlog.entries_for_subject(session=log_session, subject="1001", item="tax.income")
    assert by_item.total == 7
    window = tlog.entries_for_subject(
        session=log_session,
        subject="1001",
        since=START + timedelta(minutes=10),
        until=START + timedelta(minutes=20),
        provider="mhlw",
    )
    assert window.total == 10
    assert min(e.time for e in window.items) == START + timedelta(minutes=10)
    nobody = tlog.entries_for_subject(session=log_session, subject="9999")
    assert (nobody.total, nobody.items, nobody.pages) == (0, [], 1)


def test_exchanges_page_through_the_history_whole_and_in_order(log_session: Session) -> None:
    # Exchanges of 1-4 items; two of them at the very same time from different requesters.
    expected: list[tuple[datetime, str, int]] = []
    for n in range(23):
        at = START + timedelta(minutes=n // 2 * 2)  # pairs share a minute
        requester = "portal" if n % 2 else "131016"
        size = n % 4 + 1
        entries = [
            NewEntry(
                requester=requester,
                provider="mhlw",
                procedure="self-info",
                item=f"item-{i}",
                subject="1001",
                outcome=Outcome.SUCCESS,
                time=at,
            )
            for i in range(size)
        ]
        tlog.append(session=log_session, entries=entries)
        expected.append((at, requester, size))
    seen: list[tuple[datetime, str, int]] = []
    page = 1
    while True:
        found = tlog.exchanges_for_subject(
            session=log_session, subject="1001", page=page, page_size=5
        )
        seen += [(e.time, e.requester, len(e.entries)) for e in found.items]
        if found.page >= found.pages:
            break
        page += 1
    assert page == 5  # 23 exchanges, 5 a page
    assert sorted(seen, reverse=True) == sorted(expected, reverse=True)
    assert len(seen) == len(set(seen)) == 23
    times = [t for t, _, _ in seen]
    assert times == sorted(times, reverse=True)
    # Filtered by item: only exchanges holding it, with only that item.
    third = tlog.exchanges_for_subject(session=log_session, subject="1001", item="item-2")
    assert all([e.item for e in x.entries] == ["item-2"] for x in third.items)
    assert len(third.items) == sum(1 for _, _, size in expected if size >= 3)
