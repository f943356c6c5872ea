"""Back-office pages for notices: compose, target, preview, schedule and send (お知らせ配信).

The preview page carries the whole form, attachments included (base64), in hidden
fields to its confirm button, so nothing is stored before a supervisor sends; the send
checks every field again.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from myna.notices.domain import (
    CATEGORY_LABELS,
    MAX_AGE,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    Category,
    paragraphs,
)
from myna.office import notices as office_notices
from myna.office import service as office
from myna.office.notices import (
    FieldError,
    NoticeForm,
    NoticeFormError,
    NoticePreview,
    NoticeState,
    SentNotice,
    UploadedFile,
)
from myna.office.service import StaffRead
from myna.office.views import templates
from myna.platform.encoding import b64
from myna.platform.errors import N_
from myna.platform.i18n import gettext as _
from myna.platform.params import PageNumber
from myna.platform.sessions import CurrentStaff, StaffSession, check_csrf
from myna.platform.web import transaction

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
# The paths taking this form and the largest body they need: the confirm button sends
# every attachment back in base64 (4/3 of its size), plus the text fields. The app's
# body-size middleware should allow this much on these paths (see BodySizeLimitMiddleware).
NOTICE_FORM_PATH = r"/office/notices(/preview)?"
NOTICE_FORM_MAX_BYTES = MAX_ATTACHMENTS * (MAX_ATTACHMENT_BYTES * 4 // 3 + 1024) + (256 << 10)
# One part may be a whole attachment in base64 (Starlette's default stops at 1 MiB).
_MAX_PART_BYTES = MAX_ATTACHMENT_BYTES * 4 // 3 + 1024
STATE_LABELS = {
    NoticeState.SCHEDULED: N_("Scheduled"),
    NoticeState.PUBLISHED: N_("Published"),
    NoticeState.EXPIRED: N_("Expired"),
}
SEX_LABELS = {1: N_("Men"), 2: N_("Women")}


# --- the form as the browser sends it --------------------------------------------------


_TEXT_FIELDS = (
    "title",
    "body",
    "category",
    "deadline",
    "action_url",
    "publish_at",
    "expires_at",
    "age_from",
    "age_to",
    "sex",
    "child_under",
    "member_aged_at_least",
)


@dataclass(frozen=True, slots=True)
class Submitted:
    """What a compose or confirm form posts: the notice, the CSRF token, which button."""

    form: NoticeForm
    csrf_token: str
    edit: bool


async def notice_form(request: Request) -> Submitted:
    """The compose form's fields: files just chosen plus those kept from a preview.

    Parsed here rather than with ``Form()`` parameters: a browser sends an empty file
    input as a part with an empty file name, which Starlette hands over as text, and a
    kept attachment is a text part larger than Starlette's default part limit. The
    app's body-size middleware bounds the whole request.
    """
    sent = await request.form(max_part_size=_MAX_PART_BYTES)
    try:
        return await _submitted(sent)
    finally:
        # Everything is read into memory; spooled upload files are closed now.
        await sent.close()


async def _submitted(sent: FormData) -> Submitted:
    def text(name: str) -> str:
        value = sent.get(name)
        return value if isinstance(value, str) else ""

    def texts(name: str) -> list[str]:
        return [v for v in sent.getlist(name) if isinstance(v, str)]

    files: list[UploadedFile] = []
    dropped = set(texts("drop_attachment"))
    kept = zip(texts("kept_name"), texts("kept_type"), texts("kept_data"), strict=False)
    for index, (name, media_type, data) in enumerate(kept):
        if str(index) in dropped:
            continue
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raw = b""  # a damaged hidden field fails the attachment check by its bytes
        files.append(UploadedFile(name=name, media_type=media_type, data=raw))
    for upload in sent.getlist("attachments"):
        if isinstance(upload, str) or not upload.filename:
            continue  # an empty file input
        # One byte past the limit is enough to refuse the file as too large.
        content = await upload.read(MAX_ATTACHMENT_BYTES + 1)
        files.append(
            UploadedFile(
                name=upload.filename,
                media_type=upload.content_type or "application/octet-stream",
                data=content,
            )
        )
    values = {name: text(name) for name in _TEXT_FIELDS}
    form = NoticeForm(
        **values, head_only=text("head_only") in ("on", "true", "1"), attachments=files
    )
    # A missing token is refused by the CSRF check (403), like a wrong one.
    return Submitted(form=form, csrf_token=text("csrf_token"), edit=bool(text("edit")))


FormDep = Annotated[Submitted, Depends(notice_form)]


# --- helpers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OnDuty:
    """The logged-in staff member and their session's CSRF token, as the pages need them."""

    staff: StaffRead
    csrf_token: str


def _on_duty(db: Session, current: StaffSession) -> OnDuty:
    return OnDuty(
        staff=office.get_staff(session=db, staff_id=current.staff_id),
        csrf_token=current.csrf_token,
    )


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _category_label(category: str) -> str:
    try:
        return _(CATEGORY_LABELS[Category(category)])
    except ValueError:
        return category


def _municipality_names(db: Session, codes: list[str]) -> dict[str, str]:
    return {code: office.municipality_name(session=db, code=code) for code in codes}


def describe_audience(segment: dict[str, Any] | None, names: dict[str, str]) -> str:
    """A segment's rules as staff read them: 「東京都千代田区 ・ 20歳以上 ・ 女性」."""
    if segment is None:
        return _("One resident (direct notice)")
    parts = [names.get(code, code) for code in segment.get("municipality_codes", [])]
    low, high = segment.get("age_from"), segment.get("age_to")
    if low is not None and high is not None:
        parts.append(_("Aged {low} to {high}").format(low=low, high=high))
    elif low is not None:
        parts.append(_("Aged {low} or over").format(low=low))
    elif high is not None:
        parts.append(_("Aged {high} or under").format(high=high))
    if segment.get("sex") in SEX_LABELS:
        parts.append(_(SEX_LABELS[segment["sex"]]))
    if segment.get("child_under") is not None:
        parts.append(_("Households with a child under {age}").format(age=segment["child_under"]))
    if segment.get("member_aged_at_least") is not None:
        parts.append(
            _("Households with a member aged {age} or over").format(
                age=segment["member_aged_at_least"]
            )
        )
    if segment.get("head_only"):
        parts.append(_("Heads of household only"))
    return " ・ ".join(parts) if parts else _("Everyone")


def _values(form: NoticeForm) -> dict[str, Any]:
    """The typed values, to fill the form again or carry them to the confirm button."""
    return {name: getattr(form, name) for name in _TEXT_FIELDS} | {"head_only": form.head_only}


def _kept(form: NoticeForm | list[UploadedFile]) -> list[dict[str, Any]]:
    files = form.attachments if isinstance(form, NoticeForm) else form
    return [
        {
            "name": f.name,
            "media_type": f.media_type,
            "size": len(f.data),
            "data": b64(f.data),
        }
        for f in files
    ]


def _common(duty: OnDuty, municipality_name: str) -> dict[str, Any]:
    staff = duty.staff
    return {
        "csrf_token": duty.csrf_token,
        "office_notice_staff": staff,
        "office_notice_municipality": municipality_name,
        "office_notice_can_send": office_notices.can_send(staff),
    }


def _compose_page(
    request: Request,
    db: Session,
    duty: OnDuty,
    form: NoticeForm,
    *,
    errors: list[FieldError] | None = None,
    keep_files: bool = False,
) -> Response:
    staff = duty.staff
    municipality = _municipality_names(db, [staff.municipality_code])[staff.municipality_code]
    listed = [
        (error.field, _(error.message).format(**error.params) if error.params else _(error.message))
        for error in errors or []
    ]
    by_field: dict[str, str] = {}
    for name, message in listed:
        by_field[name] = f"{by_field[name]} {message}" if name in by_field else message
    # A browser never sends a chosen file twice: the good ones ride along in hidden
    # fields, the refused ones are named in the errors and must be chosen again.
    kept = _kept(form) if keep_files else _kept(office_notices.acceptable_files(form))
    return templates.page(
        request,
        "office/notices_new.html",
        **_common(duty, municipality),
        office_notice_values=_values(form),
        office_notice_kept=kept,
        office_notice_errors=by_field,
        office_notice_error_list=listed,
        office_notice_categories=[(c.value, _(CATEGORY_LABELS[c])) for c in Category],
        office_notice_limits={
            "title": office_notices.MAX_TITLE,
            "body": office_notices.MAX_BODY,
            "attachments": MAX_ATTACHMENTS,
            "attachment_mib": MAX_ATTACHMENT_BYTES // (1024 * 1024),
            "age": MAX_AGE,
        },
        status_code=422 if errors else 200,
        headers=NO_STORE,
    )


def _preview_page(
    request: Request, db: Session, duty: OnDuty, form: NoticeForm, found: NoticePreview
) -> Response:
    staff = duty.staff
    content = found.notice.content
    segment = found.notice.segment.to_dict()
    names = _municipality_names(db, list(segment.get("municipality_codes", [])))
    municipality = names.get(staff.municipality_code, staff.municipality_code)
    shown = {
        "title": content.title,
        "category": _category_label(content.category.value),
        "sender": municipality,
        "publish_at": content.publish_at,
        "expires_at": content.expires_at,
        "deadline": content.deadline,
        "action_url": content.action_url,
        "body_paragraphs": paragraphs(content.body),
        "attachments": [
            {"name": a.name, "media_type": a.media_type, "size": len(a.data)}
            for a in content.attachments
        ],
        "audience": describe_audience(segment, names),
        "audience_size": found.audience_size,
    }
    return templates.page(
        request,
        "office/notices_preview.html",
        **_common(duty, municipality),
        office_notice_preview=shown,
        office_notice_values=_values(form),
        office_notice_kept=_kept(form),
        headers=NO_STORE,
    )


# --- pages -----------------------------------------------------------------------------


@router.get("/office/notices", response_class=HTMLResponse)
def notices_page(
    request: Request,
    current: CurrentStaff,
    page: Annotated[PageNumber, Query()] = 1,
    sent: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    with transaction(request) as db:
        duty = _on_duty(db, current)
        staff = duty.staff
        found = office_notices.list_notices(session=db, staff=staff, page=page)
        codes = {staff.municipality_code}
        for item in found.items:
            codes.update((item.segment or {}).get("municipality_codes", []))
        names = _municipality_names(db, sorted(codes))
    rows = [_row(item, names) for item in found.items]
    return templates.page(
        request,
        "office/notices.html",
        **_common(duty, names[staff.municipality_code]),
        office_notice_rows=rows,
        office_notice_page=found,
        office_notice_sent=sent in ("now", "scheduled") and sent,
        headers=NO_STORE,
    )


def _row(item: SentNotice, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "category": _category_label(item.category.value),
        "audience": describe_audience(item.segment, names),
        "state": item.state.value,
        "state_label": _(STATE_LABELS[item.state]),
        "published_at": item.published_at,
        "expires_at": item.expires_at,
    }


@router.get("/office/notices/new", response_class=HTMLResponse)
def compose_page(request: Request, current: CurrentStaff) -> Response:
    with transaction(request) as db:
        duty = _on_duty(db, current)
        return _compose_page(request, db, duty, NoticeForm())


@router.post("/office/notices/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    current: CurrentStaff,
    submitted: FormDep,
) -> Response:
    check_csrf(current, submitted.csrf_token)
    form = submitted.form
    with transaction(request) as db:
        duty = _on_duty(db, current)
        if submitted.edit:
            return _compose_page(request, db, duty, form, keep_files=True)
        try:
            found = office_notices.preview_notice(session=db, staff=duty.staff, form=form)
        except NoticeFormError as error:
            return _compose_page(request, db, duty, form, errors=error.errors)
        return _preview_page(request, db, duty, form, found)


@router.post("/office/notices", response_class=HTMLResponse)
def send(request: Request, current: CurrentStaff, submitted: FormDep) -> Response:
    check_csrf(current, submitted.csrf_token)
    form = submitted.form
    with transaction(request) as db:
        duty = _on_duty(db, current)
        try:
            office_notices.send_municipal_notice(session=db, staff=duty.staff, form=form)
        except NoticeFormError as error:
            return _compose_page(request, db, duty, form, errors=error.errors)
    return _redirect(f"/office/notices?sent={'scheduled' if form.publish_at else 'now'}")
