"""notices tables: a notice once per send, its attachments, per-resident states.

A segment notice is one ``notices`` row whatever the size of its audience; a
``notice_states`` row appears only when a resident reads or archives a notice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime

_ID = BigInteger().with_variant(Integer(), "sqlite")


class Notice(Base):
    """One notice (お知らせ), addressed to one resident or to a segment."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_resident_id_published_at", "resident_id", "published_at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[date | None] = mapped_column(Date)
    action_url: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Exactly one of the two: a direct notice's resident, or a segment's rules.
    resident_id: Mapped[int | None] = mapped_column(Integer)
    segment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NoticeAttachment(Base):
    """A file sent with a notice (PDF, PNG or JPEG, size-limited)."""

    __tablename__ = "notice_attachments"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("notices.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class NoticeState(Base):
    """What one resident did with one notice: read, archived."""

    __tablename__ = "notice_states"

    notice_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    resident_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
