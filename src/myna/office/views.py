"""Back-office pages: login (password, then one-time code), dashboard, logout.

The back office has its own cookie (``myna_office``, HttpOnly, SameSite=Strict, path
``/office``), apart from residents' portal sessions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna.office import service as office
from myna.office.service import ROLE_LABELS, OfficeError, OfficeSession
from myna.platform.errors import RateLimitedError
from myna.platform.i18n import gettext as _
from myna.platform.ratelimit import Limit
from myna.platform.settings import Settings
from myna.platform.web import (
    client_address,
    get_container,
    make_templates,
    template_context,
    transaction,
)

OFFICE_COOKIE = "myna_office"
TEMPLATE_DIR = Path(__file__).with_name("templates")
templates = make_templates(TEMPLATE_DIR)
router = APIRouter(include_in_schema=False)


async def office_cookie(request: Request) -> str | None:
    """The back-office cookie's value, if sent (resolved inside the route)."""
    return request.cookies.get(OFFICE_COOKIE)


OfficeCookie = Annotated[str | None, Depends(office_cookie)]
FormText = Annotated[str, Form(max_length=256)]
CsrfField = Annotated[str, Form(max_length=128)]


def _settings(request: Request) -> Settings:
    return get_container(request).settings


def _count_login(request: Request) -> None:
    # MYNA_LOGIN_RATE_LIMIT per address, counted apart from residents' card logins.
    get_container(request).rate_limiter.hit(Limit.OFFICE_LOGIN, client_address(request))


def _set_cookie(response: Response, active: OfficeSession, settings: Settings) -> None:
    response.set_cookie(
        OFFICE_COOKIE,
        active.token,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/office",
        max_age=settings.session_absolute_hours * 3600,
    )


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _login_page(
    request: Request, active: OfficeSession, *, error: str | None = None, status: int = 200
) -> Response:
    response = templates.TemplateResponse(
        request,
        "office/login.html",
        template_context(request, csrf_token=active.csrf_token, error=error),
        status_code=status,
    )
    _set_cookie(response, active, _settings(request))
    return response


def _code_page(
    request: Request, active: OfficeSession, *, error: str | None = None, status: int = 200
) -> Response:
    response = templates.TemplateResponse(
        request,
        "office/code.html",
        template_context(request, csrf_token=active.csrf_token, error=error),
        status_code=status,
    )
    _set_cookie(response, active, _settings(request))
    return response


@router.get("/office/login", response_class=HTMLResponse)
def login_page(request: Request, cookie: OfficeCookie) -> Response:
    settings = _settings(request)
    with transaction(request) as db:
        active = office.load_session(session=db, settings=settings, token=cookie)
        if active is not None and active.mfa_passed:
            return _redirect("/office")
        if active is None or active.staff is not None:
            active = office.open_anonymous_session(session=db)
    return _login_page(request, active)


@router.post("/office/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    cookie: OfficeCookie,
    csrf_token: CsrfField,
    login_id: FormText,
    password: FormText,
) -> Response:
    settings = _settings(request)
    with transaction(request) as db:
        active = office.load_session(session=db, settings=settings, token=cookie)
        office.check_csrf(active, csrf_token)
        assert active is not None  # noqa: S101 - check_csrf refuses None
        try:
            # Per address as well as per account: many logins tried from one place.
            _count_login(request)
        except RateLimitedError as error:
            return _login_page(request, active, error=error.localized(), status=429)
        try:
            pending = office.password_step(
                session=db, session_token=active.token, login_id=login_id, password=password
            )
        except OfficeError as error:
            # The failure count must be committed, so the error is rendered, not raised.
            return _login_page(request, active, error=error.localized(), status=error.status_code)
    response = _redirect("/office/login/code")
    _set_cookie(response, pending, settings)
    return response


@router.get("/office/login/code", response_class=HTMLResponse)
def code_page(request: Request, cookie: OfficeCookie) -> Response:
    with transaction(request) as db:
        active = office.load_session(session=db, settings=_settings(request), token=cookie)
    if active is None or active.staff is None:
        return _redirect("/office/login")
    if active.mfa_passed:
        return _redirect("/office")
    return _code_page(request, active)


@router.post("/office/login/code", response_class=HTMLResponse)
def code_submit(
    request: Request,
    cookie: OfficeCookie,
    csrf_token: CsrfField,
    code: Annotated[str, Form(max_length=16)],
) -> Response:
    settings = _settings(request)
    with transaction(request) as db:
        active = office.load_session(session=db, settings=settings, token=cookie)
        office.check_csrf(active, csrf_token)
        assert active is not None  # noqa: S101 - check_csrf refuses None
        if active.staff is None or active.mfa_passed:
            return _redirect("/office/login")
        try:
            _count_login(request)
        except RateLimitedError as error:
            return _code_page(request, active, error=error.localized(), status=429)
        try:
            full = office.code_step(session=db, settings=settings, active=active, code=code)
        except OfficeError as error:
            return _code_page(request, active, error=error.localized(), status=error.status_code)
    response = _redirect("/office")
    _set_cookie(response, full, settings)
    return response


@router.get("/office", response_class=HTMLResponse)
def dashboard_page(request: Request, cookie: OfficeCookie) -> Response:
    with transaction(request) as db:
        active = office.load_session(session=db, settings=_settings(request), token=cookie)
        if active is None or not active.mfa_passed or active.staff is None:
            return _redirect("/office/login")
        staff = active.staff
        overview = office.dashboard(session=db, staff=staff)
    return templates.TemplateResponse(
        request,
        "office/dashboard.html",
        template_context(
            request,
            staff=staff,
            staff_role=_(ROLE_LABELS[staff.role]),
            dashboard=overview,
            role_labels={role.value: _(label) for role, label in ROLE_LABELS.items()},
            csrf_token=active.csrf_token,
        ),
    )


@router.post("/office/logout")
def logout(request: Request, cookie: OfficeCookie, csrf_token: CsrfField) -> Response:
    settings = _settings(request)
    with transaction(request) as db:
        active = office.load_session(session=db, settings=settings, token=cookie)
        office.check_csrf(active, csrf_token)
        assert active is not None  # noqa: S101 - check_csrf refuses None
        office.logout(session=db, session_token=active.token)
    response = _redirect("/office/login")
    response.delete_cookie(
        OFFICE_COOKIE,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/office",
    )
    return response
