"""FastAPI dependencies for the portal: the browser session, CSRF, rate limits."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from myna.platform.settings import Settings
from myna.platform.web import SessionDep, get_container
from myna.portal import service
from myna.portal.domain import CsrfError, NotLoggedInError
from myna.portal.ratelimit import RateLimiter

SESSION_COOKIE = "myna_session"


def get_settings_dep(request: Request) -> Settings:
    """The deployment's settings."""
    return get_container(request).settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_login_limiter(request: Request) -> RateLimiter:
    """The login rate limiter, built once per app."""
    limiter: RateLimiter = request.app.state.login_limiter
    return limiter


LoginLimiterDep = Annotated[RateLimiter, Depends(get_login_limiter)]


def client_ip(request: Request) -> str:
    """The peer address (a proxy in front must be trusted explicitly to change it)."""
    return request.client.host if request.client else "unknown"


def optional_session(
    request: Request, db: SessionDep, settings: SettingsDep
) -> service.ActiveSession | None:
    """The caller's live session, if any."""
    return service.load_session(
        session=db, settings=settings, token=request.cookies.get(SESSION_COOKIE)
    )


OptionalSession = Annotated[service.ActiveSession | None, Depends(optional_session)]


def session_or_new(db: SessionDep, current: OptionalSession) -> service.ActiveSession:
    """The caller's session, or a fresh anonymous one (the caller must set the cookie)."""
    return current or service.open_anonymous_session(session=db)


BrowserSession = Annotated[service.ActiveSession, Depends(session_or_new)]


def resident_session(current: OptionalSession) -> service.ActiveSession:
    """A logged-in session, or NotLoggedInError."""
    if current is None or current.resident_id is None:
        raise NotLoggedInError
    return current


ResidentSession = Annotated[service.ActiveSession, Depends(resident_session)]


def check_csrf(active: service.ActiveSession | None, submitted: str | None) -> None:
    """Synchroniser-token check: the form's token must be this session's."""
    if active is None or not submitted or not secrets.compare_digest(submitted, active.csrf_token):
        raise CsrfError


def set_session_cookie(
    response: Response, active: service.ActiveSession, settings: Settings
) -> None:
    """Send the session cookie: HttpOnly, SameSite=Lax, Secure when configured."""
    response.set_cookie(
        SESSION_COOKIE,
        active.token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
        max_age=settings.session_absolute_hours * 3600,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    """Remove the session cookie."""
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=settings.cookie_secure, path="/"
    )
