"""Back-office pages: login (password, then one-time code; or the staff card), dashboard, logout.

The back office's sessions are the platform's (``myna.platform.sessions``, kind
``STAFF``): their own cookie (``myna_office``, HttpOnly, SameSite=Strict, path
``/office``), apart from residents' portal sessions, and rotated at each factor. The
card login (職員証) is the card login of docs/card-login.md for a challenge of audience
``staff``: the reader answers at the portal's API, this page polls and completes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from myna import cardlogin
from myna.cardlogin.web import ChallengeIdForm, ChallengeIdPath, qr_svg
from myna.office import service as office
from myna.office import staff_cards
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
NO_STORE = {"Cache-Control": "no-store"}
# What the card login refuses with and its page shows: the office's own errors and the
# card login's (a challenge not answered yet, used, expired, another session's).
CardRefusal = (OfficeError, cardlogin.LoginError)


def _count_login(request: Request) -> None:
    # MYNA_LOGIN_RATE_LIMIT per address, counted apart from residents' card logins.
    get_container(request).rate_limiter.hit(Limit.OFFICE_LOGIN, client_address(request))


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _form_page(
    request: Request,
    template: str,
    active: BrowserSession,
    error: MynaError | None = None,
    **values: Any,
) -> Response:
    response = templates.page(
        request,
        template,
        csrf_token=active.csrf_token,
        error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        **values,
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


def _anonymous(db: Session, request: Request, browser: BrowserSession | None) -> BrowserSession:
    """The visitor's session before any login step, a new one if theirs has passed one."""
    if browser is None or browser.subject_id is not None:
        return get_container(request).sessions.open(db, STAFF)
    return browser


@router.get("/office/login", response_class=HTMLResponse)
def login_page(request: Request, browser: StaffBrowser) -> Response:
    if browser is not None and browser.logged_in:
        return _redirect("/office")
    active = browser
    if active is None or active.subject_id is not None:
        with transaction(request) as db:
            active = get_container(request).sessions.open(db, STAFF)
    return _form_page(request, "office/login.html", active)


# --- the staff card (職員証) -------------------------------------------------------------


def _card_page(
    request: Request,
    active: BrowserSession,
    challenge_id: str | None,
    error: MynaError | None = None,
) -> Response:
    """The card login: the challenge's QR code and reader link, or the error and a restart."""
    settings = get_container(request).settings
    link = None
    if challenge_id is not None:
        link = cardlogin.reader_link(settings.reader_url, settings.portal_url, challenge_id)
    return _form_page(
        request,
        "office/card_login.html",
        active,
        error,
        challenge_id=challenge_id,
        reader_link=link,
        ttl_minutes=max(1, settings.challenge_ttl_seconds // 60),
    )


@router.get("/office/login/card", response_class=HTMLResponse)
def card_login_page(request: Request, browser: StaffBrowser) -> Response:
    if browser is not None and browser.logged_in:
        return _redirect("/office")
    limited: RateLimitedError | None = None
    try:
        # A challenge is a login attempt: counted like the password step.
        _count_login(request)
    except RateLimitedError as error:
        limited = error
    with transaction(request) as db:
        active = _anonymous(db, request, browser)
        if limited is not None:
            return _card_page(request, active, None, limited)
        view = staff_cards.start_login(
            session=db, settings=get_container(request).settings, session_token=active.token
        )
    return _card_page(request, active, view.challenge_id)


@router.get("/office/login/card/qr/{challenge_id}.svg")
def card_login_qr(
    challenge_id: ChallengeIdPath, request: Request, browser: StaffBrowser
) -> Response:
    if browser is None:
        return Response(status_code=404)
    with transaction(request) as db:
        bound = staff_cards.is_login_challenge(
            session=db, challenge_id=challenge_id, session_token=browser.token
        )
    if not bound:
        return Response(status_code=404)
    settings = get_container(request).settings
    svg = qr_svg(cardlogin.reader_link(settings.reader_url, settings.portal_url, challenge_id))
    return Response(svg, media_type="image/svg+xml", headers=NO_STORE)


@router.get("/office/login/card/status/{challenge_id}")
def card_login_status(
    challenge_id: ChallengeIdPath, request: Request, browser: StaffBrowser
) -> Response:
    if browser is None:
        raise cardlogin.ChallengeBindingError
    with transaction(request) as db:
        status = staff_cards.login_status(
            session=db, challenge_id=challenge_id, session_token=browser.token
        )
    return JSONResponse({"status": status}, headers=NO_STORE)


@router.post("/office/login/card", response_class=HTMLResponse)
def card_login_submit(
    request: Request, browser: StaffBrowser, csrf_token: CsrfField, challenge_id: ChallengeIdForm
) -> Response:
    active = check_csrf(browser, csrf_token)
    if active.logged_in:
        return _redirect("/office")
    sessions = get_container(request).sessions
    try:
        _count_login(request)
    except RateLimitedError as error:
        return _card_page(request, active, None, error)
    with transaction(request) as db:
        try:
            done = staff_cards.card_login(
                session=db, sessions=sessions, session_token=active.token, challenge_id=challenge_id
            )
        except cardlogin.ChallengeNotVerifiedError as error:
            # Sent before the card answered: the same challenge stays on the page.
            return _card_page(request, active, challenge_id, error)
        except CardRefusal as error:
            # The challenge is consumed: committed with the refusal, a new one to start.
            return _card_page(request, active, None, error)
    response = _redirect("/office")
    set_session_cookie(request, response, STAFF, done)
    return response


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
        container = get_container(request)
        return office.password_step(
            session=db,
            sessions=container.sessions,
            session_token=active.token,
            login_id=login_id,
            password=password,
            work_factor=container.settings.staff_password_work_factor,
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
