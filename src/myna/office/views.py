"""Back-office pages: login (password, then one-time code), dashboard, logout.

The back office's sessions are the platform's (``myna.platform.sessions``, kind
``STAFF``): their own cookie (``myna_office``, HttpOnly, SameSite=Strict, path
``/office``), apart from residents' portal sessions, and rotated at each factor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from myna.office import service as office
from myna.office.service import ROLE_LABELS, OfficeError
from myna.platform.errors import MynaError, RateLimitedError
from myna.platform.i18n import gettext as _
from myna.platform.ratelimit import Limit
from myna.platform.sessions import (
    STAFF,
    BrowserSession,
    CsrfField,
    CurrentStaff,
    StaffBrowser,
    check_csrf,
    clear_session_cookie,
    set_session_cookie,
)
from myna.platform.web import client_address, get_container, templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form(max_length=256)]


def _count_login(request: Request) -> None:
    # MYNA_LOGIN_RATE_LIMIT per address, counted apart from residents' card logins.
    get_container(request).rate_limiter.hit(Limit.OFFICE_LOGIN, client_address(request))


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _form_page(
    request: Request, template: str, active: BrowserSession, error: MynaError | None = None
) -> Response:
    response = templates.page(
        request,
        template,
        csrf_token=active.csrf_token,
        error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
    )
    set_session_cookie(request, response, STAFF, active)
    return response


def _login_step(
    request: Request,
    template: str,
    active: BrowserSession,
    step: Callable[[Session], BrowserSession],
    next_path: str,
) -> Response:
    """One factor of the login: counted, checked by ``step``, then on to ``next_path``."""
    try:
        # Per address as well as per account: many logins tried from one place.
        _count_login(request)
    except RateLimitedError as error:
        return _form_page(request, template, active, error)
    with transaction(request) as db:
        try:
            done = step(db)
        except OfficeError as error:
            # The failure count must be committed, so the error is rendered, not raised.
            return _form_page(request, template, active, error)
    response = _redirect(next_path)
    set_session_cookie(request, response, STAFF, done)
    return response


@router.get("/office/login", response_class=HTMLResponse)
def login_page(request: Request, browser: StaffBrowser) -> Response:
    if browser is not None and browser.logged_in:
        return _redirect("/office")
    active = browser
    if active is None or active.subject_id is not None:
        with transaction(request) as db:
            active = get_container(request).sessions.open(db, STAFF)
    return _form_page(request, "office/login.html", active)


@router.post("/office/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    browser: StaffBrowser,
    csrf_token: CsrfField,
    login_id: FormText,
    password: FormText,
) -> Response:
    active = check_csrf(browser, csrf_token)

    def password_step(db: Session) -> BrowserSession:
        return office.password_step(
            session=db,
            sessions=get_container(request).sessions,
            session_token=active.token,
            login_id=login_id,
            password=password,
        )

    return _login_step(request, "office/login.html", active, password_step, "/office/login/code")


@router.get("/office/login/code", response_class=HTMLResponse)
def code_page(request: Request, browser: StaffBrowser) -> Response:
    if browser is None or browser.subject_id is None:
        return _redirect("/office/login")
    if browser.logged_in:
        return _redirect("/office")
    return _form_page(request, "office/code.html", browser)


@router.post("/office/login/code", response_class=HTMLResponse)
def code_submit(
    request: Request,
    browser: StaffBrowser,
    csrf_token: CsrfField,
    code: Annotated[str, Form(max_length=16)],
) -> Response:
    active = check_csrf(browser, csrf_token)
    if active.subject_id is None or active.logged_in:
        return _redirect("/office/login")
    container = get_container(request)

    def code_step(db: Session) -> BrowserSession:
        return office.code_step(
            session=db,
            settings=container.settings,
            sessions=container.sessions,
            active=active,
            code=code,
        )

    return _login_step(request, "office/code.html", active, code_step, "/office")


@router.get("/office", response_class=HTMLResponse)
def dashboard_page(request: Request, current: CurrentStaff) -> Response:
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=current.staff_id)
        overview = office.dashboard(session=db, staff=staff)
    return templates.page(
        request,
        "office/dashboard.html",
        staff=staff,
        staff_role=_(ROLE_LABELS[staff.role]),
        dashboard=overview,
        role_labels={role.value: _(label) for role, label in ROLE_LABELS.items()},
        csrf_token=current.csrf_token,
    )


@router.post("/office/logout")
def logout(request: Request, browser: StaffBrowser, csrf_token: CsrfField) -> Response:
    active = check_csrf(browser, csrf_token)
    with transaction(request) as db:
        get_container(request).sessions.end(db, STAFF, active.token)
    response = _redirect("/office/login")
    clear_session_cookie(request, response, STAFF)
    return response
