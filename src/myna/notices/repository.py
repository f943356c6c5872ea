"""select()-based queries of the notices tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from myna.notices.models import Notice, NoticeAttachment, NoticeState


def _visible(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Notice.published_at <= now,
        or_(Notice.expires_at.is_(None), Notice.expires_at > now),
    )


def direct_notices(session: Session, resident_id: int, now: datetime) -> list[tuple[int, datetime]]:
    """Ids and publication times of the visible notices addressed to the resident."""
    rows = session.execute(
        select(Notice.id, Notice.published_at).where(
            Notice.resident_id == resident_id, *_visible(now)
        )
    )
    return [(i, p) for i, p in rows]


def segment_notices(session: Session, now: datetime) -> list[tuple[int, datetime, dict[str, Any]]]:
    """Every visible segment notice with its rules (few, compared to residents)."""
    rows = session.execute(
        select(Notice.id, Notice.published_at, Notice.segment).where(
            Notice.resident_id.is_(None), *_visible(now)
        )
    )
    return [(i, p, s) for i, p, s in rows if s is not None]


def states_of(
    session: Session, resident_id: int
) -> dict[int, tuple[datetime | None, datetime | None]]:
    """The resident's read and archived times, by notice id."""
    rows = session.execute(
        select(NoticeState.notice_id, NoticeState.read_at, NoticeState.archived_at).where(
            NoticeState.resident_id == resident_id
        )
    )
    return {notice_id: (read_at, archived_at) for notice_id, read_at, archived_at in rows}


def notices_by_ids(session: Session, ids: Sequence[int]) -> dict[int, Notice]:
    """The notices with these ids."""
    if not ids:
        return {}
    return {n.id: n for n in session.scalars(select(Notice).where(Notice.id.in_(list(ids))))}


def attachments_of(session: Session, notice_id: int) -> list[NoticeAttachment]:
    """A notice's attachments, in the order sent (their bytes load lazily on access)."""
    return list(
        session.scalars(
            select(NoticeAttachment)
            .where(NoticeAttachment.notice_id == notice_id)
            .order_by(NoticeAttachment.id)
        )
    )


def state(session: Session, notice_id: int, resident_id: int) -> NoticeState | None:
    """One resident's state row for one notice, if they ever acted on it."""
    return session.get(NoticeState, (notice_id, resident_id))


def count_notices(session: Session) -> int:
    """How many notice rows exist (a segment notice is one, whatever its audience)."""
    return session.scalar(select(func.count()).select_from(Notice)) or 0


def count_sent(session: Session, sender: str) -> int:
    """How many notices ``sender`` has sent."""
    return session.scalar(select(func.count()).where(Notice.sender == sender)) or 0


def sent_by(session: Session, sender: str, offset: int, limit: int) -> list[Notice]:
    """One page of the notices ``sender`` has sent, newest first."""
    rows = session.scalars(
        select(Notice)
        .where(Notice.sender == sender)
        .order_by(Notice.published_at.desc(), Notice.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


def sent_by_category(session: Session) -> dict[str, int]:
    """How many notices were sent per category (a segment notice counts once)."""
    rows = session.execute(select(Notice.category, func.count()).group_by(Notice.category))
    return dict(rows.all())


def read_by_category(session: Session) -> dict[str, int]:
    """How many times a notice was opened by a resident it reached, per category."""
    rows = session.execute(
        select(Notice.category, func.count())
        .select_from(NoticeState)
        .join(Notice, Notice.id == NoticeState.notice_id)
        .where(NoticeState.read_at.is_not(None))
        .group_by(Notice.category)
    )
    return dict(rows.all())
