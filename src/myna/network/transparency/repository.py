"""Queries of the exchange log (select()-based; the service decides what they mean)."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from myna.network.transparency.domain import LogEntry, NewEntry, Node, SubjectFilter
from myna.network.transparency.models import (
    LogCosignature,
    LogEntryRow,
    LogNode,
    LogState,
    LogTreeHead,
)

STATE_ID = 1
_ENTRIES = cast(Table, LogEntryRow.__table__)
_NODES = cast(Table, LogNode.__table__)
_STATE = cast(Table, LogState.__table__)
# Keep IN lists well below every driver's parameter limit.
_CHUNK = 500

_READ_STATE = select(_STATE.c.tree_size, _STATE.c.frontier).where(_STATE.c.id == STATE_ID)
_LOCK_STATE = _READ_STATE.with_for_update()
_SAVE_STATE = (
    update(_STATE)
    .where(_STATE.c.id == STATE_ID)
    .values(tree_size=bindparam("new_size"), frontier=bindparam("new_frontier"))
)
_INSERT_ENTRY = insert(_ENTRIES)
_INSERT_NODE = insert(_NODES)
_PENDING = _ENTRIES.c.leaf_index.is_(None)
# What the sequencer needs of a pending entry: its key and the columns of its leaf data.
_SELECT_PENDING = (
    select(
        _ENTRIES.c.id,
        _ENTRIES.c.occurred_at,
        _ENTRIES.c.requester,
        _ENTRIES.c.provider,
        _ENTRIES.c.procedure,
        _ENTRIES.c.item,
        _ENTRIES.c.subject,
        _ENTRIES.c.outcome,
        _ENTRIES.c.purpose,
        _ENTRIES.c.detail,
        _ENTRIES.c.actor,
    )
    .where(_PENDING, _ENTRIES.c.id <= bindparam("until"))
    .order_by(_ENTRIES.c.id)
    .limit(bindparam("batch"))
)
_ASSIGN_LEAF = (
    update(_ENTRIES)
    .where(_ENTRIES.c.id == bindparam("entry_id"))
    .values(leaf_index=bindparam("new_index"), leaf_hash=bindparam("new_hash"))
)


def lock_state(session: Session) -> tuple[int, bytes]:
    """Tree size and frontier, locking the row until the transaction ends.

    PostgreSQL takes a row lock (``SELECT ... FOR UPDATE``); SQLite has one writer and
    Myna begins every transaction with ``BEGIN IMMEDIATE``, so the lock is implied.
    Only the sequencer takes it: one sequencer at a time, in any number of processes.
    """
    row = session.connection().execute(_LOCK_STATE).one()
    return row.tree_size, row.frontier


def read_state(session: Session) -> tuple[int, bytes]:
    """Tree size and frontier as this transaction sees them (no lock)."""
    row = session.connection().execute(_READ_STATE).one()
    return row.tree_size, row.frontier


def save_state(session: Session, *, tree_size: int, frontier: bytes) -> None:
    """Record the new tree size and frontier."""
    session.connection().execute(_SAVE_STATE, {"new_size": tree_size, "new_frontier": frontier})


def pending_row(entry: NewEntry | LogEntry, time: datetime) -> dict[str, Any]:
    """The column values that store ``entry`` pending: no leaf index or hash yet."""
    return {
        "occurred_at": time,
        "requester": entry.requester,
        "provider": entry.provider,
        "procedure": entry.procedure,
        "item": entry.item,
        "subject": entry.subject,
        "outcome": entry.outcome.value,
        "purpose": entry.purpose,
        "detail": entry.detail,
        "actor": entry.actor,
    }


def entry_row(entry: LogEntry, leaf_hash: bytes) -> dict[str, Any]:
    """The column values that store ``entry`` sequenced (index and leaf hash given)."""
    return {"leaf_index": entry.index, "leaf_hash": leaf_hash, **pending_row(entry, entry.time)}


def insert_entries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert entry rows (one executemany)."""
    session.connection().execute(_INSERT_ENTRY, list(rows))


def last_entry_id(session: Session) -> int:
    """The largest entry key this transaction sees (0 for none): where a sequencing run ends."""
    found = session.connection().execute(select(func.max(_ENTRIES.c.id))).scalar_one()
    return int(found or 0)


def pending_entries(session: Session, *, until: int, batch: int) -> Sequence[Any]:
    """Up to ``batch`` pending entries with keys up to ``until``, in insertion order."""
    return session.connection().execute(_SELECT_PENDING, {"until": until, "batch": batch}).all()


def assign_leaves(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Give pending entries their leaf index and hash (``entry_id``, ``new_index``,
    ``new_hash``; one executemany)."""
    if rows:
        session.connection().execute(_ASSIGN_LEAF, list(rows))


def pending_summary(session: Session) -> tuple[int, datetime | None]:
    """How many entries are pending, and the earliest time among them."""
    row = session.execute(
        select(func.count(), func.min(_ENTRIES.c.occurred_at)).where(_PENDING)
    ).one()
    return int(row[0]), row[1]


def insert_nodes(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert completed subtree hashes."""
    if rows:
        session.connection().execute(_INSERT_NODE, list(rows))


def fetch_nodes(session: Session, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """Hashes of perfect subtrees; level 0 is the entries' leaf hashes."""
    wanted = set(nodes)
    leaves = sorted(index for level, index in wanted if level == 0)
    inner = sorted(node for node in wanted if node[0] > 0)
    found: dict[Node, bytes] = {}
    for start in range(0, len(leaves), _CHUNK):
        chunk = leaves[start : start + _CHUNK]
        for leaf_index, value in session.execute(
            select(LogEntryRow.leaf_index, LogEntryRow.leaf_hash).where(
                LogEntryRow.leaf_index.in_(chunk)
            )
        ):
            if leaf_index is not None and value is not None:
                found[(0, leaf_index)] = value
    for start in range(0, len(inner), _CHUNK):
        chunk_nodes = inner[start : start + _CHUNK]
        for level, node_index, value in session.execute(
            select(LogNode.level, LogNode.node_index, LogNode.hash).where(
                tuple_(LogNode.level, LogNode.node_index).in_(chunk_nodes)
            )
        ):
            found[(level, node_index)] = value
    return found


def get_entry(session: Session, index: int) -> LogEntryRow | None:
    """One sequenced entry by its leaf index."""
    return session.scalars(select(LogEntryRow).where(LogEntryRow.leaf_index == index)).first()


def stream_entries(session: Session, *, batch: int = 5000) -> Generator[LogEntryRow, None, None]:
    """Every sequenced entry in leaf order, fetched in batches (pending ones have no place)."""
    result = session.scalars(
        select(LogEntryRow)
        .where(LogEntryRow.leaf_index.is_not(None))
        .order_by(LogEntryRow.leaf_index)
        .execution_options(yield_per=batch)
    )
    try:
        yield from result
    finally:
        # A caller that stops early must not leave PostgreSQL's server-side cursor open.
        result.close()


def stream_nodes(
    session: Session, *, batch: int = 5000
) -> Generator[tuple[int, int, bytes], None, None]:
    """Every stored node in the order appends complete them: by right edge, then level."""
    right_edge = (LogNode.node_index + 1).op("<<")(LogNode.level)
    result = session.execute(
        select(LogNode.level, LogNode.node_index, LogNode.hash)
        .order_by(right_edge, LogNode.level)
        .execution_options(yield_per=batch)
    )
    try:
        for row in result:
            yield row.level, row.node_index, row.hash
    finally:
        result.close()


def insert_head(session: Session, head: LogTreeHead) -> None:
    """Store a signed tree head."""
    session.add(head)
    session.flush()


def head_for_size(session: Session, tree_size: int) -> LogTreeHead | None:
    """The head published for ``tree_size``, if any."""
    return session.get(LogTreeHead, tree_size)


def latest_head(session: Session) -> LogTreeHead | None:
    """The head with the largest tree size."""
    return session.scalars(
        select(LogTreeHead).order_by(LogTreeHead.tree_size.desc()).limit(1)
    ).first()


def heads_from(session: Session, *, start: int, limit: int) -> list[LogTreeHead]:
    """Up to ``limit`` heads of tree size ``start`` or more, smallest tree first."""
    return list(
        session.scalars(
            select(LogTreeHead)
            .where(LogTreeHead.tree_size >= start)
            .order_by(LogTreeHead.tree_size)
            .limit(limit)
        )
    )


def all_heads(session: Session) -> list[LogTreeHead]:
    """Every head, smallest tree first."""
    return list(session.scalars(select(LogTreeHead).order_by(LogTreeHead.tree_size)))


def _subject_conditions(which: SubjectFilter) -> list[ColumnElement[bool]]:
    conditions = [LogEntryRow.subject == which.subject]
    if which.since is not None:
        conditions.append(LogEntryRow.occurred_at >= which.since)
    if which.until is not None:
        conditions.append(LogEntryRow.occurred_at < which.until)
    if which.provider is not None:
        conditions.append(LogEntryRow.provider == which.provider)
    if which.item is not None:
        conditions.append(LogEntryRow.item == which.item)
    if which.by_proxy:
        conditions.append(LogEntryRow.actor.is_not(None))
    return conditions


def subject_page(
    session: Session, which: SubjectFilter, *, offset: int, limit: int
) -> tuple[list[LogEntryRow], int]:
    """One page of a subject's entries, newest first, and how many match in all."""
    conditions = _subject_conditions(which)
    rows = list(
        session.scalars(
            select(LogEntryRow)
            .where(*conditions)
            .order_by(LogEntryRow.occurred_at.desc(), LogEntryRow.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    total = session.execute(select(func.count()).select_from(_ENTRIES).where(*conditions))
    return rows, int(total.scalar_one())


def subject_exchange_page(
    session: Session, which: SubjectFilter, *, offset: int, limit: int
) -> tuple[list[LogEntryRow], bool]:
    """The entries of one page of a subject's exchanges (newest first), and whether more follow.

    An exchange is the entries sharing time, requester, procedure and purpose (the hub
    appends one request's items at once, with one time). The subject's entries are read
    newest first along the ``(subject, occurred_at, id)`` index and grouped as they
    come, until the page's exchanges are complete — a page costs the rows up to it, not a
    grouping of the subject's whole history.
    """
    wanted = offset + limit
    found: dict[tuple[object, ...], list[LogEntryRow]] = {}
    more = False
    result = session.scalars(
        select(LogEntryRow)
        .where(*_subject_conditions(which))
        .order_by(LogEntryRow.occurred_at.desc(), LogEntryRow.id.desc())
        .execution_options(yield_per=200)
    )
    try:
        for row in result:
            key = (row.occurred_at, row.requester, row.procedure, row.purpose)
            if key not in found and len(found) >= wanted:
                # Every exchange at or after the page's last time is complete: entries of
                # one exchange share its time, and the rows come newest time first.
                boundary = list(found)[wanted - 1][0]
                if row.occurred_at != boundary:
                    more = True
                    break
            found.setdefault(key, []).append(row)
    finally:
        result.close()
    keys = list(found)
    more = more or len(keys) > wanted
    page = [row for key in keys[offset:wanted] for row in found[key]]
    return sorted(page, key=lambda row: row.id), more


def cosignature(session: Session, tree_size: int, witness_key_id: str) -> LogCosignature | None:
    """A witness's cosignature of the head of ``tree_size``, if kept."""
    return session.get(LogCosignature, (tree_size, witness_key_id))


def insert_cosignature(session: Session, row: LogCosignature) -> None:
    """Keep a verified cosignature."""
    session.add(row)
    session.flush()


def cosignatures_of(session: Session, tree_size: int) -> list[LogCosignature]:
    """Every cosignature of the head of ``tree_size``, by witness name."""
    return list(
        session.scalars(
            select(LogCosignature)
            .where(LogCosignature.tree_size == tree_size)
            .order_by(LogCosignature.witness)
        )
    )


def count_by_procedure(session: Session) -> dict[str, int]:
    """How many entries the log holds per procedure (事務)."""
    rows = session.execute(
        select(LogEntryRow.procedure, func.count()).group_by(LogEntryRow.procedure)
    )
    return dict(rows.all())
