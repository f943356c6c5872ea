"""Exchange-log tables: entries (leaves), complete subtree hashes, signed tree heads.

An entry's leaf data is rebuilt exactly from its columns (``LogEntry.canonical_bytes``),
so there is one copy of each fact and any change to a column changes the leaf hash.
An entry is written *pending* (no leaf index, no leaf hash) in the transaction of its
exchange; the sequencer gives it both later (group commit, ADR 0016).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime

# SQLite's INTEGER PRIMARY KEY is its 64-bit rowid; BIGINT elsewhere.
_BigKey = BigInteger().with_variant(Integer(), "sqlite")


class LogState(Base):
    """The single row that serialises sequencing: tree size and the frontier's hashes."""

    __tablename__ = "exchange_log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    # The roots of the perfect subtrees of the current tree, 32 bytes each, left to right.
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class LogEntryRow(Base):
    """One leaf of the log: an exchange (やりとり) between a requester and a provider."""

    __tablename__ = "exchange_log_entries"
    __table_args__ = (
        Index("ix_exchange_log_entries_subject_time", "subject", "occurred_at", "id"),
    )

    # Insertion order: the order the sequencer takes pending entries in.
    id: Mapped[int] = mapped_column(_BigKey, primary_key=True, autoincrement=True)
    # Both None while the entry is pending (appended, not yet sequenced).
    leaf_index: Mapped[int | None] = mapped_column(_BigKey, unique=True, index=True)
    leaf_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requester: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    procedure: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(String(200))
    # Who acted when not the subject: a proxy's resident id (代理人), else empty.
    actor: Mapped[str | None] = mapped_column(String(64))


class LogNode(Base):
    """The hash of a complete perfect subtree (level >= 1), stored when it completes."""

    __tablename__ = "exchange_log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogTreeHead(Base):
    """A signed tree head (RFC 9162 §4.10), at most one per tree size."""

    __tablename__ = "exchange_log_tree_heads"

    tree_size: Mapped[int] = mapped_column(_BigKey, primary_key=True, autoincrement=False)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    pq_signature: Mapped[str | None] = mapped_column(Text)  # ML-DSA-65, when made


class LogCosignature(Base):
    """An independent witness's cosignature of a published tree head (``myna log witness``)."""

    __tablename__ = "exchange_log_cosignatures"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness_key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    witness: Mapped[str] = mapped_column(String(64))
    witnessed_at: Mapped[int] = mapped_column(BigInteger)
    cosignature: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
