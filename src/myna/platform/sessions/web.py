"""The sessions in FastAPI: the caller's session as a dependency, and the cookies.

``CurrentResident`` and ``CurrentStaff`` are what a page that needs a login declares;
``OptionalResident`` serves pages that show a logged-out state, and ``ResidentBrowser``
or ``StaffBrowser`` (any live session, logged in or not) the login pages themselves.

A session is looked up in one worker-thread hop before the route starts, as a read of
its own (``SessionStore.look_up``: no write lock, nothing to commit, unless the row is
due a touch or has expired). The route then opens its own transaction (see
``platform.web.transaction``): no transaction, and so no lock on SQLite's single writer,
is ever held while waiting for another thread. A request without the cookie costs no
thread hop and no query at all. A route that opens a transaction anyway may take the
cookie alone (``ResidentCookie``) and load the session inside it: one hop, one
transaction.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies' annotations
# at definition time.

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import Depends, Form, Request, Response

from myna.platform.attributes import from_attributes
from myna.platform.sessions.domain import (
    RESIDENT,
    STAFF,
    ActingForAnotherError,
    CsrfError,
    SessionKind,
)
from myna.platform.sessions.store import BrowserSession
from myna.platform.web import UploadGate, get_container, remember_resident, secure_cookies

if TYPE_CHECKING:
    from myna.bootstrap import Container

# The posted CSRF token (every form of ours carries it as ``csrf_token``).
CsrfField = Annotated[str, Form(max_length=128)]


@dataclass(frozen=True, slots=True)
class ResidentSession:
    """A logged-in resident's session: what ``CurrentResident`` gives a page."""

    token: str
    csrf_token: str
    resident_id: int
    certificate_not_after: datetime | None
    authenticated_at: datetime | None
    certificate_serial: str | None = None
    # Acting for another resident (代理人, docs/proxy.md). As the session is stored,
    # ``resident_id`` is the card holder and ``acting_for`` whom they act for; a page
    # that serves acting sessions (``myna.proxy.web``) gets ``resident_id`` = the
    # principal and ``proxy_id`` = the card holder, after checking the grant.
    acting_for: int | None = None
    acting_grant: str | None = None
    acting_label: str | None = None
    acting_scopes: str | None = None
    proxy_id: int | None = None


@dataclass(frozen=True, slots=True)
class StaffSession:
    """A staff member's session past both factors: what ``CurrentStaff`` gives a page."""

    token: str
    csrf_token: str
    staff_id: int


def _load(container: "Container", kind: SessionKind, token: str) -> BrowserSession | None:
    return container.sessions.look_up(container.session_factory, kind, token)


async def _browser(request: Request, kind: SessionKind) -> BrowserSession | None:
    token = request.cookies.get(kind.cookie)
    if not token:
        return None
    container = get_container(request)
    return await anyio.to_thread.run_sync(_load, container, kind, token)


async def resident_browser(request: Request) -> BrowserSession | None:
    """The caller's live portal session, logged in or not (None without one)."""
    return await _browser(request, RESIDENT)


async def staff_browser(request: Request) -> BrowserSession | None:
    """The caller's live back-office session, at any step of the login (None without one)."""
    return await _browser(request, STAFF)


ResidentBrowser = Annotated[BrowserSession | None, Depends(resident_browser)]
StaffBrowser = Annotated[BrowserSession | None, Depends(staff_browser)]


async def resident_cookie(request: Request) -> str | None:
    """The portal session cookie's token, not yet looked up (no I/O, no thread hop).

    For a route that opens a transaction anyway: it loads the session inside it
    (``SessionStore.load``), one worker-thread hop and one transaction for the request.
    """
    return request.cookies.get(RESIDENT.cookie) or None


ResidentCookie = Annotated[str | None, Depends(resident_cookie)]


def as_resident(browser: BrowserSession | None) -> ResidentSession | None:
    """The resident's view of a portal session, if a resident is logged in."""
    if browser is None or browser.kind != RESIDENT.name or not browser.logged_in:
        return None
    assert browser.subject_id is not None  # noqa: S101 - logged_in guarantees a subject
    return from_attributes(
        ResidentSession,
        browser,
        resident_id=browser.subject_id,
        acting_for=browser.acting_for_id,
        proxy_id=None,
    )


def as_staff(browser: BrowserSession | None) -> StaffSession | None:
    """The staff member's view of a back-office session, if both factors have passed."""
    if browser is None or browser.kind != STAFF.name or not browser.logged_in:
        return None
    assert browser.subject_id is not None  # noqa: S101 - logged_in guarantees a subject
    return StaffSession(
        token=browser.token, csrf_token=browser.csrf_token, staff_id=browser.subject_id
    )


async def optional_resident(request: Request, browser: ResidentBrowser) -> ResidentSession | None:
    """The logged-in resident's session, or None (the page shows its logged-out state).

    A logged-in resident is noted on the request for the shared layout's menu, so every
    page that knows its resident shows the menu without passing anything.
    """
    resident = as_resident(browser)
    if resident is not None:
        remember_resident(
            request,
            resident_id=resident.resident_id,
            csrf_token=resident.csrf_token,
            acting_label=resident.acting_label if resident.acting_for is not None else None,
            acting_scopes=resident.acting_scopes or "",
        )
    return resident


OptionalResident = Annotated[ResidentSession | None, Depends(optional_resident)]


async def current_resident(resident: OptionalResident) -> ResidentSession:
    """The logged-in resident's own session, or NotLoggedInError (pages go to the login).

    A session acting for someone else is refused (ActingForAnotherError): this is a page
    of the resident's own, and the pages a proxy may use declare so (``myna.proxy.web``).
    """
    if resident is None:
        raise RESIDENT.login_error
    if resident.acting_for is not None:
        raise ActingForAnotherError
    return resident


async def current_staff(browser: StaffBrowser) -> StaffSession:
    """The staff member's session past both factors, or StaffNotLoggedInError."""
    staff = as_staff(browser)
    if staff is None:
        raise STAFF.login_error
    return staff


CurrentResident = Annotated[ResidentSession, Depends(current_resident)]
CurrentStaff = Annotated[StaffSession, Depends(current_staff)]


def set_session_cookie(
    request: Request, response: Response, kind: SessionKind, active: BrowserSession
) -> None:
    """Send the session's cookie: HttpOnly, the kind's SameSite and path, Secure on https."""
    container = get_container(request)
    response.set_cookie(
        kind.cookie,
        active.token,
        httponly=True,
        samesite=kind.same_site,
        secure=_secure(request),
        path=kind.path,
        max_age=int(container.sessions.lifetime.absolute.total_seconds()),
    )


def clear_session_cookie(request: Request, response: Response, kind: SessionKind) -> None:
    """Remove the session's cookie from the browser."""
    response.delete_cookie(
        kind.cookie,
        httponly=True,
        samesite=kind.same_site,
        secure=_secure(request),
        path=kind.path,
    )


def _secure(request: Request) -> bool:
    # https as the client sees it (a trusted proxy's X-Forwarded-Proto counts), or an
    # https portal URL: see platform.web.secure_cookies.
    return secure_cookies(request)


async def same_origin(request: Request) -> None:
    """Refuse a cookie-authenticated API call a page of another site made (CsrfError).

    The JSON API's calls carry no form and so no CSRF token; a browser says where a
    request comes from in ``Sec-Fetch-Site`` (Fetch Metadata) and ``Origin``, which a
    page cannot forge. A client that is no browser sends neither and has no cookies a
    page could borrow. OWASP CSRF Prevention Cheat Sheet, "Verifying Origin With
    Standard Headers" and "Fetch Metadata headers".
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise CsrfError
    origin = request.headers.get("origin")
    if origin is not None:
        portal = urlsplit(get_container(request).settings.portal_url)
        own = {f"{request.url.scheme}://{request.url.netloc}", f"{portal.scheme}://{portal.netloc}"}
        if origin.rstrip("/") not in own:
            raise CsrfError


# For the JSON API's state-changing calls that rest on a browser session.
SameOrigin = Depends(same_origin)


def login_gate(container: "Container", kind: SessionKind) -> UploadGate:
    """An upload gate admitting only a logged-in session of ``kind`` (run in a thread)."""

    def admitted(cookies: dict[str, str]) -> bool:
        token = cookies.get(kind.cookie)
        if not token:
            return False
        active = _load(container, kind, token)
        return active is not None and active.logged_in

    return admitted
