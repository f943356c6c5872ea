"""Exchange-log use cases: append, sequence, sign tree heads, prove, page, verify (RFC 9162).

Group commit (ADR 0016), as Certificate Transparency logs do it: queue now, sequence
in batches. The hub appends in the caller's transaction, so an exchange and its log
entries commit or roll back together (the log is complete by construction); an append
only inserts its entries, *pending* — no leaf index, nothing locked. The sequencer
(:func:`sequence`) then takes the committed pending entries in insertion order, in one
transaction that locks the single ``exchange_log_state`` row (PostgreSQL
``SELECT ... FOR UPDATE``; on SQLite the transaction's ``BEGIN IMMEDIATE`` already holds
the one write lock): it gives them the next consecutive leaf indices, their leaf hashes
and the subtree hashes they complete, and saves the new size and frontier — one tree
update for many appends. Indices stay consecutive and gapless; a rolled-back append
leaves no row to sequence. :func:`publish_tree_head` sequences first, so every head
covers every entry committed before it began.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import asdict
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from myna.network.transparency import repository, signing
from myna.network.transparency.domain import (
    ConsistencyProof,
    Cosignature,
    CosignatureMismatchError,
    Exchange,
    Frontier,
    InclusionBundle,
    InclusionProof,
    InvalidEntryError,
    LeafIndexOutOfRangeError,
    LogEntry,
    LogStatus,
    NewEntry,
    Node,
    NoTreeHeadError,
    Outcome,
    Page,
    Problem,
    ProofVerificationError,
    SignedTreeHead,
    SubjectFilter,
    TreeSizeError,
    UnknownWitnessError,
    VerificationReport,
    consistency_ranges,
    inclusion_ranges,
    perfect_subtrees,
    range_hash,
    timestamp_ms,
    verify_heads_consistent,
)
from myna.network.transparency.models import LogCosignature, LogEntryRow, LogTreeHead
from myna.network.transparency.signing import LogSigner, public_key, verify_cosignature
from myna.platform.attributes import from_attributes
from myna.platform.db import utcnow
from myna.platform.errors import N_
from myna.platform.logging import get_logger

log = get_logger(__name__)

MAX_PAGE_SIZE = 200
# Pending entries read, hashed and updated per statement while sequencing.
SEQUENCE_BATCH = 2000


def append(*, session: Session, entries: Sequence[NewEntry]) -> int:
    """Queue entries in the caller's transaction (pending until sequenced); return how many.

    Nothing is locked beyond the inserted rows: appends from any number of transactions
    run side by side. The entries get their leaf indices from :func:`sequence`.
    """
    if not entries:
        return 0
    now = utcnow()
    repository.insert_entries(
        session, [repository.pending_row(new, new.time or now) for new in entries]
    )
    return len(entries)


def sequence(*, session: Session, limit: int | None = None) -> range:
    """Integrate pending entries into the tree; return the leaf indices given.

    Locks the log's state row (one sequencer at a time, across processes), then takes
    the entries committed and pending when it began, in insertion order — at most
    ``limit`` of them, all when None — and gives them the next consecutive indices,
    their leaf hashes (RFC 9162 §2.1.1) and the subtree hashes they complete.
    """
    size, blob = repository.lock_state(session)
    frontier = Frontier.from_bytes(size, blob)
    # Rows committed after this point wait for the next run: a run always ends.
    until = repository.last_entry_id(session)
    left = limit
    while left is None or left > 0:
        batch = SEQUENCE_BATCH if left is None else min(left, SEQUENCE_BATCH)
        pending = repository.pending_entries(session, until=until, batch=batch)
        if not pending:
            break
        leaves: list[dict[str, Any]] = []
        nodes: list[dict[str, Any]] = []
        for row in pending:
            entry = _entry(row, index=frontier.size)
            digest = entry.leaf_hash()
            leaves.append({"entry_id": row.id, "new_index": frontier.size, "new_hash": digest})
            for (level, index), value in frontier.append(digest):
                nodes.append({"level": level, "node_index": index, "hash": value})
        repository.assign_leaves(session, leaves)
        repository.insert_nodes(session, nodes)
        if left is not None:
            left -= len(pending)
        if len(pending) < batch:
            break
    if frontier.size > size:
        repository.save_state(session, tree_size=frontier.size, frontier=frontier.to_bytes())
        log.debug("exchange_log.sequenced", first=size, tree_size=frontier.size)
    return range(size, frontier.size)


def tree_size(*, session: Session) -> int:
    """How many entries the tree holds (sequenced, as this transaction sees it)."""
    return repository.read_state(session)[0]


def exchanges_by_procedure(*, session: Session) -> dict[str, int]:
    """Logged exchanges per procedure (事務), whatever their outcome: counts, no subjects."""
    return repository.count_by_procedure(session)


def _head(row: LogTreeHead) -> SignedTreeHead:
    return from_attributes(SignedTreeHead, row)


def publish_tree_head(
    *, session: Session, signer: LogSigner, now: datetime | None = None
) -> SignedTreeHead:
    """Sequence what is pending, then sign the tree (RFC 9162 §4.10).

    The head covers every entry committed before this began; a tree already signed
    keeps its head.
    """
    sequence(session=session)
    size, blob = repository.read_state(session)  # still locked by sequence()
    existing = repository.head_for_size(session, size)
    if existing is not None:
        return _head(existing)
    moment = now or utcnow()
    head = signer.sign_tree_head(
        tree_size=size,
        timestamp=timestamp_ms(moment),
        root_hash=Frontier.from_bytes(size, blob).root(),
    )
    repository.insert_head(session, LogTreeHead(**asdict(head), published_at=moment))
    log.debug("exchange_log.tree_head_published", tree_size=size, key_id=head.key_id)
    return head


def latest_tree_head(*, session: Session) -> SignedTreeHead:
    """The most recent signed tree head, or NoTreeHeadError."""
    row = repository.latest_head(session)
    if row is None:
        raise NoTreeHeadError
    return _head(row)


def tree_head(*, session: Session, tree_size: int) -> SignedTreeHead:
    """The signed head published for ``tree_size``, or NoTreeHeadError."""
    row = repository.head_for_size(session, tree_size)
    if row is None:
        raise NoTreeHeadError
    return _head(row)


def tree_heads(*, session: Session, start: int = 0, limit: int = 100) -> list[SignedTreeHead]:
    """The published heads of tree size ``start`` or more, oldest first (at most ``limit``)."""
    return [_head(row) for row in repository.heads_from(session, start=start, limit=limit)]


def log_status(*, session: Session) -> LogStatus:
    """The log's size, its newest signed head's size and time, its oldest unsigned entry.

    Pending entries are unsigned too: a sequencer or publisher that stopped shows here.
    """
    size = tree_size(session=session)
    row = repository.latest_head(session)
    signed = 0 if row is None else row.tree_size
    signed_at = None if row is None else _head(row).time
    oldest = repository.get_entry(session, signed) if size > signed else None
    pending, oldest_pending = repository.pending_summary(session)
    times = [t for t in (None if oldest is None else oldest.occurred_at, oldest_pending) if t]
    return LogStatus(
        tree_size=size,
        signed_size=signed,
        signed_at=signed_at,
        oldest_unsigned_at=min(times, default=None),
        pending=pending,
    )


def published_consistency_proof(*, session: Session, first: int, second: int) -> ConsistencyProof:
    """PROOF(first, D[second]) for sizes up to the latest *published* head.

    What the public sees: a size the log has reached but not yet signed is not
    revealed (NoTreeHeadError before any head, TreeSizeError beyond the latest).
    """
    published = latest_tree_head(session=session).tree_size
    if second > published or first > second:
        raise TreeSizeError(log_size=published, tree_size=max(first, second))
    return consistency_proof(session=session, first=first, second=second)


def add_cosignature(
    *,
    session: Session,
    witnesses: Mapping[str, Mapping[str, Any]],
    head: SignedTreeHead,
    cosignature: str,
    now: datetime | None = None,
) -> Cosignature:
    """Keep a listed witness's cosignature of a head this log published (idempotent).

    ``witnesses`` maps names to public JWKs. The head must be the one published for its
    size — same root, same time — and the cosignature must verify under the witness's
    key over exactly that head; a second copy of the same cosignature changes nothing.
    """
    by_key = {
        public_key(jwk).thumbprint(): (name, public_key(jwk)) for name, jwk in witnesses.items()
    }
    key_id = _cosigner(cosignature)
    if key_id not in by_key:
        raise UnknownWitnessError(key_id=key_id[:64])
    name, key = by_key[key_id]
    published = repository.head_for_size(session, head.tree_size)
    if published is None:
        raise NoTreeHeadError
    if (published.root_hash, published.timestamp) != (head.root_hash, head.timestamp):
        raise CosignatureMismatchError(tree_size=head.tree_size)
    witnessed_at = verify_cosignature(
        cosignature=cosignature, head=_head(published), witness_key=key
    )
    row = repository.cosignature(session, head.tree_size, key_id)
    if row is None:
        row = LogCosignature(
            tree_size=head.tree_size,
            witness_key_id=key_id,
            witness=name,
            witnessed_at=witnessed_at,
            cosignature=cosignature,
            received_at=now or utcnow(),
        )
        repository.insert_cosignature(session, row)
    return from_attributes(Cosignature, row)


def _cosigner(cosignature: str) -> str:
    """The ``kid`` a cosignature names (checked against the witness list, then verified)."""
    try:
        header = jws.extract_compact(cosignature.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError) as error:
        raise ProofVerificationError(reason=N_("the cosignature is not valid")) from error
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise ProofVerificationError(reason=N_("the cosignature is not valid"))
    return kid


def cosignatures(*, session: Session, tree_size: int) -> list[Cosignature]:
    """The witnesses' cosignatures kept for the head of ``tree_size``."""
    return [
        from_attributes(Cosignature, row) for row in repository.cosignatures_of(session, tree_size)
    ]


def _ranges_hashes(session: Session, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """MTH of each range from stored subtree hashes: one query per kind of node."""
    needed: set[Node] = set()
    for lo, hi in ranges:
        needed.update(perfect_subtrees(lo, hi))
    nodes = repository.fetch_nodes(session, needed)
    if len(nodes) != len(needed):
        raise ProofVerificationError(reason=N_("the log's stored tree is incomplete"))
    return [range_hash(lo, hi, nodes) for lo, hi in ranges]


def _check_size(session: Session, size: int) -> None:
    log_size = tree_size(session=session)
    if size > log_size:
        raise TreeSizeError(log_size=log_size, tree_size=size)


def root_hash(*, session: Session, tree_size: int) -> bytes:
    """MTH of the first ``tree_size`` entries, from at most log2(n) stored hashes."""
    _check_size(session, tree_size)
    return _ranges_hashes(session, [(0, tree_size)])[0]


def inclusion_proof(*, session: Session, index: int, tree_size: int) -> InclusionProof:
    """PATH(index, D[tree_size]) from storage (RFC 9162 §2.1.3.1), O(log n) reads."""
    if not 0 <= index < tree_size:
        raise LeafIndexOutOfRangeError(index=index, tree_size=tree_size)
    _check_size(session, tree_size)
    path = _ranges_hashes(session, inclusion_ranges(index, tree_size))
    return InclusionProof(leaf_index=index, tree_size=tree_size, path=tuple(path))


def consistency_proof(*, session: Session, first: int, second: int) -> ConsistencyProof:
    """PROOF(first, D[second]) from storage (RFC 9162 §2.1.4.1), O(log n) reads."""
    if not 0 <= first <= second:
        raise TreeSizeError(log_size=second, tree_size=first)
    _check_size(session, second)
    path = _ranges_hashes(session, consistency_ranges(first, second))
    return ConsistencyProof(first=first, second=second, path=tuple(path))


def _entry(row: LogEntryRow | Any, *, index: int | None = None) -> LogEntry:
    """The entry a stored row holds (an ORM row, or a Core row of the same columns);
    ``index`` places a pending one."""
    return from_attributes(
        LogEntry,
        row,
        index=row.leaf_index if index is None else index,
        time=row.occurred_at,
        outcome=Outcome(row.outcome),
    )


def get_entry(*, session: Session, index: int) -> LogEntry:
    """One sequenced entry as stored, or LeafIndexOutOfRangeError."""
    row = repository.get_entry(session, index)
    if row is None:
        raise LeafIndexOutOfRangeError(index=index, tree_size=tree_size(session=session))
    return _entry(row)


def inclusion_bundle(*, session: Session, index: int) -> InclusionBundle | None:
    """The entry with its proof against the latest signed head (None until one covers it)."""
    entry = get_entry(session=session, index=index)
    try:
        head = latest_tree_head(session=session)
    except NoTreeHeadError:
        return None
    if index >= head.tree_size:
        return None
    proof = inclusion_proof(session=session, index=index, tree_size=head.tree_size)
    return InclusionBundle(entry=entry, proof=proof, head=head)


def _bounds(page: int, page_size: int) -> tuple[int, int]:
    return max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)


def entries_for_subject(
    *, session: Session, page: int = 1, page_size: int = 50, **which: Any
) -> Page[LogEntry]:
    """A resident's entries, newest first; ``which`` are :class:`SubjectFilter`'s fields."""
    page, page_size = _bounds(page, page_size)
    rows, total = repository.subject_page(
        session, SubjectFilter(**which), offset=(page - 1) * page_size, limit=page_size
    )
    return Page(items=[_entry(row) for row in rows], page=page, page_size=page_size, total=total)


def exchanges_for_subject(
    *, session: Session, page: int = 1, page_size: int = 20, **which: Any
) -> Page[Exchange]:
    """A resident's exchanges (one per request through the hub, with their items), newest first.

    With a provider or item filter, an exchange lists only its matching items. The page's
    ``total`` counts the exchanges up to it, plus one when more follow: enough to page
    forward, without grouping the resident's whole history for a count.
    """
    page, page_size = _bounds(page, page_size)
    offset = (page - 1) * page_size
    rows, more = repository.subject_exchange_page(
        session, SubjectFilter(**which), offset=offset, limit=page_size
    )
    grouped: dict[tuple[Any, ...], list[LogEntry]] = {}
    # Rows come in insertion order; an exchange sorts by its last entry's place in it.
    last: dict[tuple[Any, ...], int] = {}
    for position, row in enumerate(rows):
        entry = _entry(row)
        key = Exchange.key_of(entry)
        grouped.setdefault(key, []).append(entry)
        last[key] = position
    ordered = sorted(grouped, key=lambda key: (key[0], last[key]), reverse=True)
    exchanges = [
        Exchange(
            time=key[0],
            requester=key[1],
            procedure=key[2],
            purpose=key[3],
            entries=tuple(grouped[key]),
        )
        for key in ordered
    ]
    total = offset + len(exchanges) + (1 if more else 0)
    return Page(items=exchanges, page=page, page_size=page_size, total=total)


def _problem(code: str, message: str, **params: Any) -> Problem:
    return Problem(code=code, message=message, params=params)


def _replay(
    report: VerificationReport,
    frontier: Frontier,
    stored_entries: Iterator[LogEntryRow],
    stored_nodes: Iterator[tuple[int, int, bytes]],
    wanted_roots: set[int],
    roots: dict[int, bytes],
) -> None:
    """Rebuild the tree from the entries' contents, comparing with what is stored."""
    for row in stored_entries:
        if row.leaf_index != frontier.size:
            report.add(
                _problem(
                    "entries_missing",
                    N_("Entries {first} to {last} are missing."),
                    first=frontier.size,
                    last=(row.leaf_index or 0) - 1,
                )
            )
            return
        try:
            digest = _entry(row).leaf_hash()
        except (ValueError, InvalidEntryError):
            digest = b""
        if digest != row.leaf_hash:
            report.add(
                _problem(
                    "entry_altered",
                    N_("Entry {index} does not match its leaf hash."),
                    index=row.leaf_index,
                )
            )
        # The tree is rebuilt from what the entries say, not from the stored hashes.
        for (level, index), value in frontier.append(digest or row.leaf_hash or b""):
            report.nodes_checked += 1
            stored = next(stored_nodes, None)
            if stored is None or stored[:2] != (level, index) or stored[2] != value:
                report.add(
                    _problem(
                        "node_mismatch",
                        N_("The stored hash of subtree ({level}, {index}) is wrong or missing."),
                        level=level,
                        index=index,
                    )
                )
        report.entries_checked += 1
        if frontier.size in wanted_roots:
            roots[frontier.size] = frontier.root()
    if next(stored_nodes, None) is not None:
        report.add(_problem("extra_nodes", N_("The log stores subtrees that no entry explains.")))


def verify_log(
    *,
    session: Session,
    public_key: Mapping[str, Any] | ECKey | signing.LogPublicKeys,
    policy: str = "classic",
) -> VerificationReport:
    """Recompute leaves, nodes, frontier and every head's root, signatures and consistency.

    ``policy`` says which of a head's signatures must hold (signing.verify_tree_head).
    """
    if isinstance(public_key, signing.LogPublicKeys):
        keys = public_key
    elif isinstance(public_key, ECKey):
        keys = signing.LogPublicKeys(public_key)
    else:
        keys = signing.LogPublicKeys.from_document(public_key)
    report = VerificationReport()
    heads = repository.all_heads(session)
    wanted_roots = {head.tree_size for head in heads}
    roots: dict[int, bytes] = {}
    if 0 in wanted_roots:
        roots[0] = Frontier().root()
    frontier = Frontier()
    with (
        closing(repository.stream_nodes(session)) as stored_nodes,
        closing(repository.stream_entries(session)) as stored_entries,
    ):
        _replay(report, frontier, stored_entries, stored_nodes, wanted_roots, roots)
    size, blob = repository.read_state(session)
    report.tree_size = size
    if size != frontier.size or blob != frontier.to_bytes():
        report.add(
            _problem(
                "state_mismatch",
                N_(
                    "The log's recorded size ({recorded}) or frontier does not match its "
                    "{counted} entries."
                ),
                recorded=size,
                counted=frontier.size,
            )
        )
    previous: SignedTreeHead | None = None
    for head_row in heads:
        head = _head(head_row)
        report.heads_checked += 1
        try:
            keys.verify(head, policy)
        except ProofVerificationError:
            report.add(
                _problem(
                    "head_signature",
                    N_("The signature of the tree head of size {tree_size} is not valid."),
                    tree_size=head.tree_size,
                )
            )
        if roots.get(head.tree_size) != head.root_hash:
            report.add(
                _problem(
                    "head_root",
                    N_("The tree head of size {tree_size} does not match the entries."),
                    tree_size=head.tree_size,
                )
            )
        if previous is not None and head.tree_size <= size:
            try:
                proof = consistency_proof(
                    session=session, first=previous.tree_size, second=head.tree_size
                )
                verify_heads_consistent(first=previous, second=head, proof=proof)
                report.consistency_checked += 1
            except (ProofVerificationError, TreeSizeError):
                report.add(
                    _problem(
                        "heads_inconsistent",
                        N_("The tree heads of sizes {first} and {second} are not consistent."),
                        first=previous.tree_size,
                        second=head.tree_size,
                    )
                )
        previous = head
    return report
