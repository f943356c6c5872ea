"""FastAPI dependencies for the portal: the browser session, CSRF, rate limits."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from myna.platform.ratelimit import RateLimiter
from myna.platform.settings import Settings
from myna.platform.web import get_container
from myna.portal import service
from myna.portal.domain import CsrfError, NotLoggedInError

SESSION_COOKIE = "myna_session"


# Dependencies that do no I/O are ``async``: FastAPI runs every plain ``def``
# dependency in the thread pool, a hop that costs more than the work itself.


async def get_settings_dep(request: Request) -> Settings:
    """The deployment's settings."""
    return get_container(request).settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_login_limiter(request: Request) -> RateLimiter:
    """The process's rate limiter (the card login counts against ``Limit.LOGIN``)."""
    return get_container(request).rate_limiter


LoginLimiterDep = Annotated[RateLimiter, Depends(get_login_limiter)]


# The session cookie as a parameter; it is resolved inside the route, not here: a
# dependency that queried the database would open the transaction in one thread hop
# and the route would continue it in another, and with every pool thread waiting for
# SQLite's single writer the route could never get one (a deadlock).
async def session_cookie(request: Request) -> str | None:
    """The session cookie's value, if sent."""
    return request.cookies.get(SESSION_COOKIE)


SessionCookie = Annotated[str | None, Depends(session_cookie)]


def current_session(
    db: Session, settings: Settings, token: str | None
) -> service.ActiveSession | None:
    """The caller's live session, if any (call inside the route)."""
    return service.load_session(session=db, settings=settings, token=token)


def browser_session(db: Session, settings: Settings, token: str | None) -> service.ActiveSession:
    """The caller's session, or a fresh anonymous one (the caller must set the cookie)."""
    return current_session(db, settings, token) or service.open_anonymous_session(session=db)


def resident_session(db: Session, settings: Settings, token: str | None) -> service.ActiveSession:
    """A logged-in session, or NotLoggedInError."""
    active = current_session(db, settings, token)
    if active is None or active.resident_id is None:
        raise NotLoggedInError
    return active


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
