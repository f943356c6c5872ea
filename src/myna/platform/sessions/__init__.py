"""Browser sessions for residents and staff: one server-side store, one CSRF check.

The portal's card login and the back office's two-step login both end here: a
``SessionStore`` (on the composition root's container) keeps every session, and pages
declare what they need as FastAPI dependencies (``CurrentResident``, ``CurrentStaff``,
``OptionalResident``, ``ResidentBrowser``, ``StaffBrowser``; ``ResidentCookie`` for a
route that loads the session inside its own transaction). Forms are checked with
``check_csrf``. The platform knows subjects only by id: what a resident or a staff
member is stays in their contexts.
"""

from myna.platform.sessions.domain import (
    RESIDENT,
    STAFF,
    ActingForAnotherError,
    CsrfError,
    Lifetime,
    LoginRequiredError,
    NotLoggedInError,
    SessionKind,
    StaffNotLoggedInError,
    check_csrf,
    token_digest,
)
from myna.platform.sessions.store import BrowserSession, Clock, SessionStore
from myna.platform.sessions.web import (
    CsrfField,
    CurrentResident,
    CurrentStaff,
    OptionalResident,
    ResidentBrowser,
    ResidentCookie,
    ResidentSession,
    SameOrigin,
    StaffBrowser,
    StaffSession,
    as_resident,
    as_staff,
    clear_session_cookie,
    current_resident,
    current_staff,
    login_gate,
    same_origin,
    set_session_cookie,
)

__all__ = [
    "RESIDENT",
    "STAFF",
    "ActingForAnotherError",
    "BrowserSession",
    "Clock",
    "CsrfError",
    "CsrfField",
    "CurrentResident",
    "CurrentStaff",
    "Lifetime",
    "LoginRequiredError",
    "NotLoggedInError",
    "OptionalResident",
    "ResidentBrowser",
    "ResidentCookie",
    "ResidentSession",
    "SameOrigin",
    "SessionKind",
    "SessionStore",
    "StaffBrowser",
    "StaffNotLoggedInError",
    "StaffSession",
    "as_resident",
    "as_staff",
    "check_csrf",
    "clear_session_cookie",
    "current_resident",
    "current_staff",
    "login_gate",
    "same_origin",
    "set_session_cookie",
    "token_digest",
]
