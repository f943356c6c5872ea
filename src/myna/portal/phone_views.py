"""The stand-in phone app's pages (docs/phone-credential.md): static JS does the work.

The keys, the unlock and the CMS signature are the browser's (``phone-app.js``,
``phone-cms.js``); these pages only say which step runs and, for a logged-in resident,
show the phone credential in force with a way to report the phone lost.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna import phone
from myna.cardlogin.web import CHALLENGE_ID_PATTERN
from myna.platform.forms import SettingsDep
from myna.platform.sessions import CsrfField, CurrentResident, OptionalResident, check_csrf
from myna.platform.web import templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
ChallengeQuery = Annotated[str, Query(max_length=64, pattern=CHALLENGE_ID_PATTERN)]
RequestQuery = Annotated[str, Query(alias="request", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")]


@router.get("/phone/", response_class=HTMLResponse)
def phone_home(request: Request, current: OptionalResident) -> Response:
    view = None
    if current is not None:
        with transaction(request) as db:
            view = phone.current(session=db, resident_id=current.resident_id)
    return templates.page(
        request,
        "portal/phone/index.html",
        phone_resident=current is not None,
        phone_view=view,
        csrf_token=current.csrf_token if current is not None else "",
        headers=NO_STORE,
    )


@router.get("/phone/issue", response_class=HTMLResponse)
def phone_issue(request: Request, current: OptionalResident) -> Response:
    return templates.page(
        request, "portal/phone/issue.html", phone_resident=current is not None, headers=NO_STORE
    )


@router.get("/phone/authorize", response_class=HTMLResponse)
def phone_authorize(
    request: Request, settings: SettingsDep, challenge: ChallengeQuery = ""
) -> Response:
    uri = f"/api/login/challenges/{challenge}" if challenge else ""
    return templates.page(
        request,
        "portal/phone/authorize.html",
        phone_request_uri=uri,
        phone_origin=settings.portal_url.rstrip("/"),
        headers=NO_STORE,
    )


@router.get("/phone/sign", response_class=HTMLResponse)
def phone_sign(request: Request, settings: SettingsDep, request_id: RequestQuery = "") -> Response:
    return templates.page(
        request,
        "portal/phone/sign.html",
        phone_request_uri=f"/api/signing-requests/{request_id}" if request_id else "",
        phone_origin=settings.portal_url.rstrip("/"),
        headers=NO_STORE,
    )


@router.post("/phone/lost")
def phone_lost(request: Request, current: CurrentResident, csrf_token: CsrfField) -> Response:
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        phone.report_lost(session=db, resident_id=current.resident_id)
    return RedirectResponse("/phone/?lost=1", status_code=303)
