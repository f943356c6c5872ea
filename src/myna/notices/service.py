"""Use cases of notices (お知らせ): send, preview, inbox, read, archive."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from myna import agencies, network, registry
from myna.notices import repository, schemas
from myna.notices.domain import (
    MAX_ATTACHMENTS,
    Audience,
    Category,
    Facts,
    InvalidNoticeError,
    Reach,
    Segment,
    ToResident,
    ToSegment,
    check_action_url,
    check_attachment,
)
from myna.notices.models import Notice, NoticeAttachment, NoticeState
from myna.platform.attributes import from_attributes
from myna.platform.clock import today_in_japan
from myna.platform.db import utcnow
from myna.platform.errors import N_, NotFoundError
from myna.platform.params import EARLIEST_DATE, LATEST_DATE, plausible_date

PAGE_SIZE = 20


class NoticeNotFoundError(NotFoundError):
    """A notice that does not exist or is not addressed to the caller (never told apart)."""

    code = "notice_not_found"
    message = N_("This notice was not found. Please go back to your notices.")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidNoticeError(detail="times must carry a time zone")
    return value


def _read(notice: Notice, attachments: list[NoticeAttachment]) -> schemas.NoticeRead:
    return from_attributes(
        schemas.NoticeRead,
        notice,
        category=Category(notice.category),
        audience="resident" if notice.resident_id is not None else "segment",
        attachments=[schemas.AttachmentRead.model_validate(a) for a in attachments],
    )


def parse_content(data: dict[str, Any]) -> schemas.NoticeCreate:
    """Validate a notice's content from JSON-like data, with one clear error."""
    try:
        return schemas.NoticeCreate.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "notice"
        raise InvalidNoticeError(detail=f"{where}: {first['msg']}") from exc


def reach_of(*, session: Session, sender: str) -> Reach:
    """Which residents agency ``sender`` may address by segment (docs/notices.md).

    National agencies reach everyone; a municipality and its National Health Insurance
    their own residents; a prefecture's 後期高齢者医療広域連合 that prefecture's
    municipalities; other insurers and the police address residents one by one.
    """
    agency = agencies.resolve_agency(session=session, code=sender)
    if agency.kind is agencies.AgencyKind.NATIONAL:
        return Reach(nationwide=True)
    municipality, prefecture = agencies.served_area(agency.code)
    if municipality is not None:
        return Reach(municipalities=frozenset({municipality}))
    return Reach(prefecture=prefecture)


def send_notice(
    *, session: Session, sender: str, audience: Audience, content: schemas.NoticeCreate
) -> schemas.NoticeRead:
    """Send a notice from agency ``sender`` to one resident or to a segment (stored once).

    Every door (the agency API, the back office, the platform's own notices) comes
    here, so a segment is held to the sender's :func:`reach_of` in one place.
    """
    reach = reach_of(session=session, sender=sender)
    now = utcnow()
    for name in ("deadline", "publish_at", "expires_at"):
        value = getattr(content, name)
        day = value.date() if isinstance(value, datetime) else value
        if day is not None and not plausible_date(day):
            earliest, latest = EARLIEST_DATE.isoformat(), LATEST_DATE.isoformat()
            raise InvalidNoticeError(detail=f"{name} must be from {earliest} to {latest}")
    published_at = _aware(content.publish_at) or now
    expires_at = _aware(content.expires_at)
    if expires_at is not None and expires_at <= published_at:
        raise InvalidNoticeError(detail="expires_at must be after the publication time")
    if len(content.attachments) > MAX_ATTACHMENTS:
        raise InvalidNoticeError(detail=f"at most {MAX_ATTACHMENTS} attachments")
    action_url = None if content.action_url is None else check_action_url(content.action_url)
    checked = [
        (check_attachment(a.name, a.media_type, a.data), a.data) for a in content.attachments
    ]
    resident_id: int | None = None
    segment: dict[str, Any] | None = None
    if isinstance(audience, ToResident):
        resident_id = network.resident_of_link_code(
            session=session, agency_code=sender, link_code=audience.link_code
        )
    elif isinstance(audience, ToSegment):
        if audience.segment.is_empty:
            Segment.from_dict({})  # raises EmptySegmentError, the one message for it
        segment = reach.narrow(audience.segment).to_dict()
    notice = Notice(
        sender=sender,
        title=content.title,
        body=content.body,
        category=content.category.value,
        deadline=content.deadline,
        action_url=action_url,
        published_at=published_at,
        expires_at=expires_at,
        resident_id=resident_id,
        segment=segment,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    # The checked metadata are the attachment row's own columns.
    rows = [
        NoticeAttachment(notice_id=notice.id, data=data, **dataclasses.asdict(meta))
        for meta, data in checked
    ]
    session.add_all(rows)
    session.flush()
    return _read(notice, rows)


def facts_of(
    members: list[registry.ResidentRead], resident: registry.ResidentRead, on: date
) -> Facts:
    """What a segment may see of ``resident`` among their household ``members``."""
    return Facts(
        birth_date=resident.birth_date,
        sex=int(resident.sex),
        municipality_code=resident.municipality_code,
        is_head=resident.relation == registry.Relation.HEAD,
        household_birth_dates=tuple(m.birth_date for m in members),
        on=on,
    )


def _resident_facts(session: Session, resident_id: int, now: datetime) -> Facts:
    resident = registry.get_resident(session=session, resident_id=resident_id)
    members = registry.household_members(session=session, household_id=resident.household_id)
    return facts_of(members, resident, today_in_japan(now))


def preview_audience(
    *, session: Session, sender: str, segment: Segment, now: datetime | None = None
) -> int:
    """How many registered residents ``segment`` from ``sender`` reaches today.

    Held to the sender's reach like a sent notice, so a count of another
    municipality's residents is refused, not told.
    """
    if segment.is_empty:
        Segment.from_dict({})
    segment = reach_of(session=session, sender=sender).narrow(segment)
    on = today_in_japan(now or utcnow())
    count = 0
    for batch in registry.iter_households(session=session):
        for members in batch:
            for resident in members:
                if resident.status != registry.ResidentStatus.ACTIVE:
                    continue
                if segment.matches(facts_of(members, resident, on)):
                    count += 1
    return count


def _addressed(session: Session, resident_id: int, now: datetime) -> list[tuple[int, datetime]]:
    """Every visible notice addressed to the resident, directly or by a matching segment."""
    found = repository.direct_notices(session, resident_id, now)
    segments = repository.segment_notices(session, now)
    if segments:
        facts = _resident_facts(session, resident_id, now)
        found += [(i, p) for i, p, rules in segments if _segment(rules).matches(facts)]
    return found


def _segment(rules: dict[str, Any]) -> Segment:
    """A stored segment's rules, parsed once per process (every inbox page needs them)."""
    return _parsed_segment(json.dumps(rules, sort_keys=True, separators=(",", ":")))


@lru_cache(maxsize=4096)
def _parsed_segment(rules: str) -> Segment:
    return Segment.from_dict(json.loads(rules))


def inbox(
    *,
    session: Session,
    resident_id: int,
    page: int = 1,
    include_archived: bool = False,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> schemas.InboxPage:
    """The resident's notices, newest first, paginated, with the unread count."""
    now = now or utcnow()
    states = repository.states_of(session, resident_id)
    addressed = _addressed(session, resident_id, now)
    unread = sum(1 for i, _ in addressed if states.get(i, (None, None))[0] is None)
    listed = [
        (i, p) for i, p in addressed if include_archived or states.get(i, (None, None))[1] is None
    ]
    listed.sort(key=lambda pair: (pair[1], pair[0]), reverse=True)
    pages = max(1, math.ceil(len(listed) / page_size))
    page = min(max(1, page), pages)
    chosen = [i for i, _ in listed[(page - 1) * page_size : page * page_size]]
    notices = repository.notices_by_ids(session, chosen)
    items = [
        schemas.InboxItem(
            id=n.id,
            sender=n.sender,
            title=n.title,
            category=Category(n.category),
            deadline=n.deadline,
            published_at=n.published_at,
            read=states.get(n.id, (None, None))[0] is not None,
            archived=states.get(n.id, (None, None))[1] is not None,
        )
        for n in (notices[i] for i in chosen)
    ]
    return schemas.InboxPage(items=items, page=page, pages=pages, total=len(listed), unread=unread)


def unread_count(*, session: Session, resident_id: int, now: datetime | None = None) -> int:
    """Notices addressed to the resident that they have not opened yet."""
    now = now or utcnow()
    states = repository.states_of(session, resident_id)
    return sum(
        1
        for i, _ in _addressed(session, resident_id, now)
        if states.get(i, (None, None))[0] is None
    )


def _addressed_notice(session: Session, resident_id: int, notice_id: int) -> Notice:
    now = utcnow()
    notice = session.get(Notice, notice_id)
    if notice is None or notice.published_at > now:
        raise NoticeNotFoundError
    if notice.expires_at is not None and notice.expires_at <= now:
        raise NoticeNotFoundError
    if notice.resident_id is not None:
        if notice.resident_id != resident_id:
            raise NoticeNotFoundError
        return notice
    if notice.segment is None or not Segment.from_dict(notice.segment).matches(
        _resident_facts(session, resident_id, now)
    ):
        raise NoticeNotFoundError
    return notice


def _state(session: Session, notice_id: int, resident_id: int) -> NoticeState:
    row = repository.state(session, notice_id, resident_id)
    if row is None:
        row = NoticeState(notice_id=notice_id, resident_id=resident_id)
        session.add(row)
    return row


def get_notice(*, session: Session, resident_id: int, notice_id: int) -> schemas.NoticeView:
    """A notice addressed to the resident (404 for anyone else's), without marking it read."""
    notice = _addressed_notice(session, resident_id, notice_id)
    row = repository.state(session, notice_id, resident_id)
    return schemas.NoticeView(
        notice=_read(notice, repository.attachments_of(session, notice_id)),
        read_at=row.read_at if row else None,
        archived_at=row.archived_at if row else None,
    )


def mark_read(*, session: Session, resident_id: int, notice_id: int) -> None:
    """Record that the resident opened the notice (the first time counts)."""
    _addressed_notice(session, resident_id, notice_id)
    row = _state(session, notice_id, resident_id)
    if row.read_at is None:
        row.read_at = utcnow()
    session.flush()


def archive(*, session: Session, resident_id: int, notice_id: int, archived: bool = True) -> None:
    """Move the notice out of (or back into) the resident's inbox; archiving also reads it."""
    _addressed_notice(session, resident_id, notice_id)
    row = _state(session, notice_id, resident_id)
    now = utcnow()
    row.archived_at = now if archived else None
    if row.read_at is None:
        row.read_at = now
    session.flush()


def get_attachment(
    *, session: Session, resident_id: int, notice_id: int, attachment_id: int
) -> tuple[schemas.AttachmentRead, bytes]:
    """An attachment of a notice addressed to the resident, with its bytes."""
    _addressed_notice(session, resident_id, notice_id)
    row = session.get(NoticeAttachment, attachment_id)
    if row is None or row.notice_id != notice_id:
        raise NoticeNotFoundError
    return schemas.AttachmentRead.model_validate(row), row.data


def count_notices(*, session: Session) -> int:
    """How many notices are stored (a segment notice counts once)."""
    return repository.count_notices(session)


@dataclasses.dataclass(frozen=True, slots=True)
class CategoryCounts:
    """Notices of one category: how many were sent, how many readings they had."""

    sent: int
    read: int


def counts_by_category(*, session: Session) -> dict[Category, CategoryCounts]:
    """Notices sent and read per category, for the usage statistics (counts only).

    A segment notice is sent once whatever its audience; ``read`` counts the residents
    who opened a notice (one per notice and resident).
    """
    sent = repository.sent_by_category(session)
    read = repository.read_by_category(session)
    return {
        Category(category): CategoryCounts(sent=sent.get(category, 0), read=read.get(category, 0))
        for category in sorted(sent.keys() | read.keys())
        if category in {known.value for known in Category}
    }


def count_sent(*, session: Session, sender: str) -> int:
    """How many notices ``sender`` has sent (for its back office)."""
    return repository.count_sent(session, sender)


def sent_notices(
    *, session: Session, sender: str, offset: int, limit: int
) -> list[schemas.SentNoticeRead]:
    """One page of what ``sender`` has sent, newest first (for its back office)."""
    return [
        schemas.SentNoticeRead(
            id=row.id,
            title=row.title,
            category=Category(row.category),
            segment=row.segment,
            direct=row.resident_id is not None,
            published_at=row.published_at,
            expires_at=row.expires_at,
        )
        for row in repository.sent_by(session, sender, offset, limit)
    ]
