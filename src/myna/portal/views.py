"""The resident's web pages: landing, card login, home, logout, language."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import segno
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from myna import registry
from myna.platform.web import make_templates, template_context, transaction
from myna.portal import service
from myna.portal.dependencies import (
    LoginLimiterDep,
    SessionCookie,
    SettingsDep,
    browser_session,
    check_csrf,
    clear_session_cookie,
    client_ip,
    current_session,
    resident_session,
    set_session_cookie,
)
from myna.portal.schemas import ChallengeIdForm, ChallengeIdPath

TEMPLATE_DIR = Path(__file__).with_name("templates")
templates = make_templates(TEMPLATE_DIR)
router = APIRouter(include_in_schema=False)


def reader_link(reader_url: str, portal_url: str, challenge_id: str) -> str:
    """The link (and QR content) that opens the card reader on this challenge."""
    request_uri = f"{portal_url.rstrip('/')}/api/login/challenges/{challenge_id}"
    return f"{reader_url.rstrip('/')}/authorize?request_uri={quote(request_uri, safe='')}"


@router.get("/", response_class=HTMLResponse)
def index(request: Request, settings: SettingsDep, cookie: SessionCookie) -> Response:
    with transaction(request) as db:
        current = current_session(db, settings, cookie)
        if current is not None and current.resident_id is not None:
            return RedirectResponse("/home", status_code=303)
        return templates.TemplateResponse(
            request,
            "portal/index.html",
            template_context(request, logged_out=request.query_params.get("logged_out") == "1"),
        )


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    settings: SettingsDep,
    limiter: LoginLimiterDep,
    cookie: SessionCookie,
) -> Response:
    with transaction(request) as db:
        browser = browser_session(db, settings, cookie)
        if browser.resident_id is not None:
            return RedirectResponse("/home", status_code=303)
        limiter.hit("login", client_ip(request))
        view = service.start_login(session=db, settings=settings, session_token=browser.token)
        response = templates.TemplateResponse(
            request,
            "portal/login.html",
            template_context(
                request,
                challenge=view,
                reader_link=reader_link(
                    settings.reader_url, settings.portal_url, view.challenge_id
                ),
                csrf_token=browser.csrf_token,
                ttl_minutes=max(1, settings.challenge_ttl_seconds // 60),
            ),
            headers={"Cache-Control": "no-store"},
        )
        if browser.is_new:
            set_session_cookie(response, browser, settings)
        return response


@router.get("/login/qr/{challenge_id}.svg")
def login_qr(
    challenge_id: ChallengeIdPath, request: Request, settings: SettingsDep, cookie: SessionCookie
) -> Response:
    with transaction(request) as db:
        current = current_session(db, settings, cookie)
        if current is None or not service.is_bound(
            session=db, challenge_id=challenge_id, session_token=current.token
        ):
            return Response(status_code=404)
        qr = segno.make(
            reader_link(settings.reader_url, settings.portal_url, challenge_id), error="m"
        )
        buffer = io.BytesIO()
        # A standalone SVG document (with its XML namespace), as <img> requires.
        qr.save(buffer, kind="svg", scale=6, border=2, dark="#111", light="#fff", xmldecl=True)
        return Response(
            buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
        )


@router.get("/login/status/{challenge_id}")
def login_status(
    challenge_id: ChallengeIdPath, request: Request, settings: SettingsDep, cookie: SessionCookie
) -> Response:
    with transaction(request) as db:
        current = current_session(db, settings, cookie)
        if current is None:
            return JSONResponse({"status": "unknown"}, status_code=403)
        status = service.challenge_status(
            session=db, challenge_id=challenge_id, session_token=current.token
        )
        return JSONResponse({"status": status}, headers={"Cache-Control": "no-store"})


@router.post("/login/complete")
def login_complete(
    request: Request,
    settings: SettingsDep,
    cookie: SessionCookie,
    challenge_id: ChallengeIdForm,
    csrf_token: Annotated[str, Form(max_length=128)],
) -> Response:
    with transaction(request) as db:
        current = current_session(db, settings, cookie)
        check_csrf(current, csrf_token)
        assert current is not None  # noqa: S101 - check_csrf refuses a missing session
        active = service.complete_login(
            session=db,
            challenge_id=challenge_id,
            session_token=current.token,
            client_ip=client_ip(request),
        )
        response = RedirectResponse("/home", status_code=303)
        set_session_cookie(response, active, settings)
        return response


@router.get("/home", response_class=HTMLResponse)
def home(request: Request, settings: SettingsDep, cookie: SessionCookie) -> Response:
    with transaction(request) as db:
        active = resident_session(db, settings, cookie)
        assert active.resident_id is not None  # noqa: S101 - guaranteed by resident_session
        resident = registry.get_resident(session=db, resident_id=active.resident_id)
        events = service.recent_auth_events(session=db, resident_id=active.resident_id, limit=5)
        return templates.TemplateResponse(
            request,
            "portal/home.html",
            template_context(
                request,
                resident=resident,
                certificate_not_after=active.certificate_not_after,
                events=events,
                csrf_token=active.csrf_token,
            ),
            headers={"Cache-Control": "no-store"},
        )


@router.post("/logout")
def logout(
    request: Request,
    settings: SettingsDep,
    cookie: SessionCookie,
    csrf_token: Annotated[str, Form(max_length=128)],
) -> Response:
    with transaction(request) as db:
        current = current_session(db, settings, cookie)
        check_csrf(current, csrf_token)
        assert current is not None  # noqa: S101 - check_csrf refuses a missing session
        service.logout(session=db, session_token=current.token, client_ip=client_ip(request))
        response = RedirectResponse("/?logged_out=1", status_code=303)
        clear_session_cookie(response, settings)
        return response
