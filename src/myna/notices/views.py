"""The resident's notice pages: the inbox, one notice, archive, attachments.

Every page needs the resident's login (the platform's sessions), or a proxy's acting
for them with the notices scope (``proxy.ActingForNotices``, docs/proxy.md); each query
is scoped to that resident, so one never sees another's notices. A proxy's opening or
archiving a notice is recorded for the resident to see.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from myna import agencies, proxy
from myna.notices import service
from myna.notices.domain import CATEGORY_LABELS, Category, paragraphs
from myna.platform.i18n import gettext as _
from myna.platform.params import BigRowId, PageNumber
from myna.platform.sessions import CsrfField, ResidentSession, check_csrf
from myna.platform.web import templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
NoticeId = Annotated[BigRowId, Path()]
NO_STORE = {"Cache-Control": "no-store"}


def category_label(category: Category) -> str:
    """The category's name in the reader's language."""
    return _(CATEGORY_LABELS[category])


def _sender_names(db: Session, codes: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for code in codes:
        try:
            names[code] = agencies.resolve_agency(session=db, code=code).name_ja
        except agencies.UnknownAgencyError:
            names[code] = code
    return names


def _by_proxy(db: Session, current: ResidentSession, action: str, detail: str | None) -> None:
    """Record what a proxy did with the resident's notices (nothing for the resident's own)."""
    if current.proxy_id is not None and current.acting_grant is not None:
        proxy.record(
            session=db,
            principal_id=current.resident_id,
            proxy_id=current.proxy_id,
            grant=current.acting_grant,
            action=action,
            detail=detail,
        )


@router.get("/notices", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    current: proxy.ActingForNotices,
    page: Annotated[PageNumber, Query()] = 1,
    archived: Annotated[bool, Query()] = False,
) -> Response:
    with transaction(request) as db:
        found = service.inbox(
            session=db, resident_id=current.resident_id, page=page, include_archived=archived
        )
        senders = _sender_names(db, {item.sender for item in found.items})
    return templates.page(
        request,
        "notices/inbox.html",
        inbox=found,
        senders=senders,
        category_label=category_label,
        show_archived=archived,
        headers=NO_STORE,
    )


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(request: Request, current: proxy.ActingForNotices, notice_id: NoticeId) -> Response:
    with transaction(request) as db:
        service.mark_read(session=db, resident_id=current.resident_id, notice_id=notice_id)
        view = service.get_notice(session=db, resident_id=current.resident_id, notice_id=notice_id)
        senders = _sender_names(db, {view.notice.sender})
        _by_proxy(db, current, "notice_opened", view.notice.title)
    return templates.page(
        request,
        "notices/notice.html",
        notice_view=view,
        body_paragraphs=paragraphs(view.notice.body),
        senders=senders,
        category_label=category_label,
        csrf_token=current.csrf_token,
        headers=NO_STORE,
    )


@router.post("/notices/{notice_id}/archive")
def archive_notice(
    request: Request,
    current: proxy.ActingForNotices,
    notice_id: NoticeId,
    csrf_token: CsrfField,
    restore: Annotated[bool, Form()] = False,
) -> Response:
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        service.archive(
            session=db, resident_id=current.resident_id, notice_id=notice_id, archived=not restore
        )
        _by_proxy(db, current, "notice_restored" if restore else "notice_archived", None)
    return RedirectResponse("/notices", status_code=303)


@router.get("/notices/{notice_id}/attachments/{attachment_id}")
def attachment(
    request: Request, current: proxy.ActingForNotices, notice_id: NoticeId, attachment_id: NoticeId
) -> Response:
    with transaction(request) as db:
        meta, data = service.get_attachment(
            session=db,
            resident_id=current.resident_id,
            notice_id=notice_id,
            attachment_id=attachment_id,
        )
    disposition = f"attachment; filename*=UTF-8''{quote(meta.name, safe='')}"
    return Response(
        data,
        media_type=meta.media_type,
        headers={**NO_STORE, "Content-Disposition": disposition},
    )
