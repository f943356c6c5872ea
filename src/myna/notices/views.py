"""The resident's notice pages: the inbox, one notice, archive, attachments.

The portal owns the login session and sits above this context (import contracts), so
the pages are built by :func:`make_router` with the portal's session functions handed
in by the application factory: ``make_router(resident_session=..., check_csrf=...,
cookie_name=...)``.
"""

# No `from __future__ import annotations`: FastAPI reads the closures' annotations at
# definition time, and they name local dependencies.

from pathlib import Path as PathLib
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from myna import agencies
from myna.notices import service
from myna.notices.domain import CATEGORY_LABELS, Category, paragraphs
from myna.platform.forms import CsrfCheck, ResidentSession, SettingsDep
from myna.platform.forms import resident_of as _resident
from myna.platform.i18n import gettext as _
from myna.platform.params import BigRowId, PageNumber
from myna.platform.web import make_templates, template_context, transaction

TEMPLATE_DIR = PathLib(__file__).with_name("templates")
templates = make_templates(TEMPLATE_DIR)
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


def make_router(
    *, resident_session: ResidentSession, check_csrf: CsrfCheck, cookie_name: str
) -> APIRouter:
    """The notice pages, over the portal's login session."""
    router = APIRouter(include_in_schema=False)

    async def session_cookie(request: Request) -> str | None:
        return request.cookies.get(cookie_name)

    SessionCookie = Annotated[str | None, Depends(session_cookie)]  # noqa: N806 - a type alias

    @router.get("/notices", response_class=HTMLResponse)
    def inbox_page(
        request: Request,
        settings: SettingsDep,
        cookie: SessionCookie,
        page: Annotated[PageNumber, Query()] = 1,
        archived: Annotated[bool, Query()] = False,
    ) -> Response:
        with transaction(request) as db:
            active = resident_session(db, settings, cookie)
            found = service.inbox(
                session=db, resident_id=_resident(active), page=page, include_archived=archived
            )
            senders = _sender_names(db, {item.sender for item in found.items})
        return templates.TemplateResponse(
            request,
            "notices/inbox.html",
            template_context(
                request,
                inbox=found,
                senders=senders,
                category_label=category_label,
                show_archived=archived,
            ),
            headers=NO_STORE,
        )

    @router.get("/notices/{notice_id}", response_class=HTMLResponse)
    def notice_page(
        request: Request, settings: SettingsDep, cookie: SessionCookie, notice_id: NoticeId
    ) -> Response:
        with transaction(request) as db:
            active = resident_session(db, settings, cookie)
            service.mark_read(session=db, resident_id=_resident(active), notice_id=notice_id)
            view = service.get_notice(
                session=db, resident_id=_resident(active), notice_id=notice_id
            )
            senders = _sender_names(db, {view.notice.sender})
        return templates.TemplateResponse(
            request,
            "notices/notice.html",
            template_context(
                request,
                notice_view=view,
                body_paragraphs=paragraphs(view.notice.body),
                senders=senders,
                category_label=category_label,
                csrf_token=active.csrf_token,
            ),
            headers=NO_STORE,
        )

    @router.post("/notices/{notice_id}/archive")
    def archive_notice(
        request: Request,
        settings: SettingsDep,
        cookie: SessionCookie,
        notice_id: NoticeId,
        csrf_token: Annotated[str, Form(max_length=128)],
        restore: Annotated[bool, Form()] = False,
    ) -> Response:
        with transaction(request) as db:
            active = resident_session(db, settings, cookie)
            check_csrf(active, csrf_token)
            service.archive(
                session=db,
                resident_id=_resident(active),
                notice_id=notice_id,
                archived=not restore,
            )
        return RedirectResponse("/notices", status_code=303)

    @router.get("/notices/{notice_id}/attachments/{attachment_id}")
    def attachment(
        request: Request,
        settings: SettingsDep,
        cookie: SessionCookie,
        notice_id: NoticeId,
        attachment_id: NoticeId,
    ) -> Response:
        with transaction(request) as db:
            active = resident_session(db, settings, cookie)
            meta, data = service.get_attachment(
                session=db,
                resident_id=_resident(active),
                notice_id=notice_id,
                attachment_id=attachment_id,
            )
        disposition = f"attachment; filename*=UTF-8''{quote(meta.name, safe='')}"
        return Response(
            data,
            media_type=meta.media_type,
            headers={**NO_STORE, "Content-Disposition": disposition},
        )

    return router
