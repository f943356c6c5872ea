"""Back-office notices (お知らせ配信): staff compose, preview and send their municipality's notices.

The staff member's municipality is the sender (its agency code, ``muni-131016``) and
always the first audience rule: the form never chooses it, so no page can address
another municipality's residents. Everything a form sends is checked here, field by
field, before anything is written; ``myna.notices`` checks it again when it stores.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from myna import agencies, notices
from myna.notices.domain import (
    ATTACHMENT_SIGNATURES,
    MAX_AGE,
    MAX_ATTACHMENTS,
    check_action_url,
    check_attachment,
)

# ``myna.notices`` has no read function for a sender's notices yet; this module reads
# its table read-only (see list_notices).
from myna.office.roles import StaffRole
from myna.office.service import OfficeError, StaffRead
from myna.platform.attributes import from_attributes
from myna.platform.clock import JST
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError
from myna.platform.logging import get_logger
from myna.platform.params import EARLIEST_DATE, LATEST_DATE, plausible_date

log = get_logger(__name__)

PAGE_SIZE = 20
# The limits of notices.NoticeCreate, repeated so the form can say them next to the field.
MAX_TITLE = 200
MAX_BODY = 10_000
SENDING_ROLES = frozenset({StaffRole.SUPERVISOR, StaffRole.ADMIN})
_AGE_RULES = ("age_from", "age_to", "child_under", "member_aged_at_least")


class NoticeSendForbiddenError(OfficeError):
    """A clerk (担当者) may compose and preview a notice, not send it."""

    code = "notice_send_forbidden"
    message = N_(
        "Only a supervisor or an administrator can send a notice. Please ask a supervisor "
        "of your municipality to check the preview and send it."
    )
    status_code = 403


class NoticeFormError(MynaError):
    """The compose form has mistakes; ``errors`` says which fields and why."""

    code = "invalid_notice_form"
    message = N_("Please correct the notice before going on.")
    status_code = 422

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__()
        self.errors = errors


@dataclass(frozen=True, slots=True)
class FieldError:
    """A mistake on one field: an English message id and its fields (localized on display)."""

    field: str
    message: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """An attachment as the form sent it (the declared type is checked against the bytes)."""

    name: str
    media_type: str
    data: bytes = dataclass_field(repr=False)


@dataclass(slots=True)
class NoticeForm:
    """The compose form's raw values, exactly as typed (strings; empty means absent)."""

    title: str = ""
    body: str = ""
    category: str = ""
    deadline: str = ""
    action_url: str = ""
    publish_at: str = ""
    expires_at: str = ""
    age_from: str = ""
    age_to: str = ""
    sex: str = ""
    child_under: str = ""
    member_aged_at_least: str = ""
    head_only: bool = False
    attachments: list[UploadedFile] = dataclass_field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CheckedNotice:
    """A form that passed every check: the content and the municipality-bound segment."""

    content: notices.NoticeCreate
    segment: notices.Segment


@dataclass(frozen=True, slots=True)
class NoticePreview:
    """What the preview page shows: the checked notice and how many residents it reaches."""

    notice: CheckedNotice
    audience_size: int
    sender: str


class NoticeState(enum.StrEnum):
    """Where a sent notice stands for residents now."""

    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class SentNotice:
    """One line of the municipality's sent notices."""

    id: int
    title: str
    category: notices.Category
    segment: dict[str, Any] | None
    direct: bool
    published_at: datetime
    expires_at: datetime | None
    state: NoticeState


@dataclass(frozen=True, slots=True)
class SentNoticePage:
    """A page of sent notices, newest publication first."""

    items: list[SentNotice]
    page: int
    pages: int
    total: int


# --- checking the form ---------------------------------------------------------------


_DATE_RANGE = N_("Enter a date from {earliest} to {latest}.")


def _out_of_range(field: str) -> FieldError:
    return FieldError(
        field,
        _DATE_RANGE,
        {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
    )


def _local_time(value: str) -> datetime:
    """A ``datetime-local`` value (no zone), taken as Japan time."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        raise ValueError(value)
    return parsed.replace(tzinfo=JST)


def _age(value: str) -> int:
    number = int(value)
    if not 0 <= number <= MAX_AGE:
        raise ValueError(value)
    return number


def _media_type(upload: UploadedFile) -> str:
    """The declared type when it is one notices take, else what the first bytes say."""
    if upload.media_type in ATTACHMENT_SIGNATURES:
        return upload.media_type
    for media_type, signatures in ATTACHMENT_SIGNATURES.items():
        if upload.data.startswith(signatures):
            return media_type
    return upload.media_type


def _check_attachments(form: NoticeForm, errors: list[FieldError]) -> list[dict[str, Any]]:
    if len(form.attachments) > MAX_ATTACHMENTS:
        errors.append(
            FieldError(
                "attachments",
                N_("Attach at most {count} files."),
                {"count": MAX_ATTACHMENTS},
            )
        )
        return []
    checked: list[dict[str, Any]] = []
    for upload in form.attachments:
        media_type = _media_type(upload)
        try:
            check_attachment(upload.name, media_type, upload.data)
        except MynaError as error:
            errors.append(FieldError("attachments", error.message, dict(error.params)))
            continue
        checked.append({"name": upload.name, "media_type": media_type, "data": upload.data})
    return checked


def acceptable_files(form: NoticeForm) -> list[UploadedFile]:
    """The form's attachments that pass the checks on their own (kept after a mistake)."""
    kept: list[UploadedFile] = []
    for upload in form.attachments[:MAX_ATTACHMENTS]:
        try:
            check_attachment(upload.name, _media_type(upload), upload.data)
        except MynaError:
            continue
        kept.append(upload)
    return kept


def _check_deadline(form: NoticeForm, errors: list[FieldError]) -> date | None:
    if not form.deadline.strip():
        return None
    try:
        deadline = date.fromisoformat(form.deadline.strip())
    except ValueError:
        errors.append(FieldError("deadline", N_("Enter the deadline as a date.")))
        return None
    if not plausible_date(deadline):
        errors.append(_out_of_range("deadline"))
        return None
    return deadline


def _check_times(
    form: NoticeForm, now: datetime, errors: list[FieldError]
) -> tuple[datetime | None, datetime | None]:
    publish_at: datetime | None = None
    expires_at: datetime | None = None
    if form.publish_at.strip():
        try:
            publish_at = _local_time(form.publish_at.strip())
        except ValueError:
            errors.append(
                FieldError("publish_at", N_("Enter the publication time as a date and time."))
            )
        else:
            if not plausible_date(publish_at.date()):
                errors.append(_out_of_range("publish_at"))
                publish_at = None
            # The form has minutes only: the minute that is running now is not past.
            elif publish_at < now.replace(second=0, microsecond=0):
                errors.append(
                    FieldError(
                        "publish_at",
                        N_("The publication time is in the past. Leave it empty to publish now."),
                    )
                )
    if form.expires_at.strip():
        try:
            expires_at = _local_time(form.expires_at.strip())
        except ValueError:
            errors.append(FieldError("expires_at", N_("Enter the expiry time as a date and time.")))
        else:
            if not plausible_date(expires_at.date()):
                errors.append(_out_of_range("expires_at"))
            elif expires_at <= (publish_at or now):
                errors.append(
                    FieldError(
                        "expires_at",
                        N_("The expiry time must be after the publication time."),
                    )
                )
    return publish_at, expires_at


def _check_segment(
    form: NoticeForm, municipality_code: str, errors: list[FieldError]
) -> dict[str, Any]:
    # The municipality comes from the staff member's account, never from the form.
    rules: dict[str, Any] = {"municipality_codes": [municipality_code]}
    for name in _AGE_RULES:
        raw = getattr(form, name).strip()
        if not raw:
            continue
        try:
            rules[name] = _age(raw)
        except ValueError:
            errors.append(
                FieldError(name, N_("Enter a whole number from 0 to {max}."), {"max": MAX_AGE})
            )
    if "age_from" in rules and "age_to" in rules and rules["age_from"] > rules["age_to"]:
        errors.append(FieldError("age_to", N_("The upper age must not be below the lower age.")))
    if form.sex.strip():
        if form.sex.strip() in ("1", "2"):
            rules["sex"] = int(form.sex.strip())
        else:
            errors.append(FieldError("sex", N_("Choose men, women or everyone.")))
    if form.head_only:
        rules["head_only"] = True
    return rules


def check_form(form: NoticeForm, *, municipality_code: str, now: datetime) -> CheckedNotice:
    """Check every field of the compose form; NoticeFormError lists each mistake."""
    errors: list[FieldError] = []
    title = form.title.strip()
    body = form.body.replace("\r\n", "\n").strip()
    texts = (
        (
            "title",
            title,
            MAX_TITLE,
            N_("Enter a title."),
            N_("The title must be at most {max} characters (it has {length})."),
        ),
        (
            "body",
            body,
            MAX_BODY,
            N_("Enter the text of the notice."),
            N_("The text must be at most {max} characters (it has {length})."),
        ),
    )
    for field, text, limit, missing, too_long in texts:
        if not text:
            errors.append(FieldError(field, missing))
        elif len(text) > limit:
            errors.append(FieldError(field, too_long, {"max": limit, "length": len(text)}))
    if form.category not in {c.value for c in notices.Category}:
        errors.append(FieldError("category", N_("Choose a category.")))
    deadline = _check_deadline(form, errors)
    action_url = form.action_url.strip() or None
    if action_url is not None:
        try:
            check_action_url(action_url)
        except notices.InvalidNoticeError:
            errors.append(
                FieldError(
                    "action_url",
                    N_(
                        "The link must be a page of this site starting with / (for example "
                        "/services) or an address starting with https:// on a government site "
                        "(go.jp or lg.jp), without spaces or backslashes."
                    ),
                )
            )
    publish_at, expires_at = _check_times(form, now, errors)
    rules = _check_segment(form, municipality_code, errors)
    attachments = _check_attachments(form, errors)
    if errors:
        raise NoticeFormError(errors)
    try:
        content = notices.NoticeCreate.model_validate(
            {
                "title": title,
                "body": body,
                "category": form.category,
                "deadline": deadline,
                "action_url": action_url,
                "publish_at": publish_at,
                "expires_at": expires_at,
                "attachments": attachments,
            }
        )
        segment = notices.Segment.from_dict(rules)
    except (ValidationError, MynaError) as exc:
        # Every rule was checked above; this is a safety net, not a path users take.
        raise NoticeFormError([FieldError("form", N_("Please check the notice again."))]) from exc
    return CheckedNotice(content=content, segment=segment)


# --- use cases -------------------------------------------------------------------------


def can_send(staff: StaffRead) -> bool:
    """Whether the staff member's role may send notices (管理職 and システム管理者)."""
    return staff.role in SENDING_ROLES


def sender_of(staff: StaffRead) -> str:
    """The agency code a staff member sends as: their municipality's (``muni-131016``)."""
    return agencies.municipality_agency_code(staff.municipality_code)


def preview_notice(
    *, session: Session, staff: StaffRead, form: NoticeForm, now: datetime | None = None
) -> NoticePreview:
    """Check the form and count the residents it would reach today; nothing is written."""
    checked = check_form(form, municipality_code=staff.municipality_code, now=now or utcnow())
    size = notices.preview_audience(
        session=session, sender=sender_of(staff), segment=checked.segment, now=now
    )
    return NoticePreview(notice=checked, audience_size=size, sender=sender_of(staff))


def send_municipal_notice(
    *, session: Session, staff: StaffRead, form: NoticeForm, now: datetime | None = None
) -> notices.NoticeRead:
    """Send the form's notice from the staff member's municipality (supervisors and admins)."""
    if not can_send(staff):
        raise NoticeSendForbiddenError
    checked = check_form(form, municipality_code=staff.municipality_code, now=now or utcnow())
    sent = notices.send_notice(
        session=session,
        sender=sender_of(staff),
        audience=notices.ToSegment(checked.segment),
        content=checked.content,
    )
    # Who sent what kind of notice, never its text or its audience's people.
    log.info(
        "office_notice_sent",
        notice_id=sent.id,
        staff_id=staff.id,
        sender=sent.sender,
        category=sent.category.value,
        scheduled=checked.content.publish_at is not None,
        attachments=len(sent.attachments),
        rules=sorted(checked.segment.to_dict()),
    )
    return sent


def _state(notice: notices.SentNoticeRead, now: datetime) -> NoticeState:
    if notice.published_at > now:
        return NoticeState.SCHEDULED
    if notice.expires_at is not None and notice.expires_at <= now:
        return NoticeState.EXPIRED
    return NoticeState.PUBLISHED


def list_notices(
    *,
    session: Session,
    staff: StaffRead,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> SentNoticePage:
    """The notices the staff member's municipality has sent, newest first, paginated."""
    now = now or utcnow()
    sender = sender_of(staff)
    total = notices.count_sent(session=session, sender=sender)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    rows = notices.sent_notices(
        session=session, sender=sender, offset=(page - 1) * page_size, limit=page_size
    )
    items = [from_attributes(SentNotice, row, state=_state(row, now)) for row in rows]
    return SentNoticePage(items=items, page=page, pages=pages, total=total)


def jst(moment: datetime) -> datetime:
    """A moment in Japan time (what the form's ``datetime-local`` fields show)."""
    return moment.astimezone(JST)
