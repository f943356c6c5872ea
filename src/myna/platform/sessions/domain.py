"""Browser sessions' rules: the two kinds, tokens and their digests, lifetimes, CSRF.

A browser session lives on the server. The cookie carries an opaque random token
(256 bits); the database keeps only the token's SHA-256 digest, so a copy of the table
opens no session. Residents (card login at the portal) and municipal staff (password,
then a one-time code, at the back office) use the same store, each kind with a cookie
of its own, and a token of one kind is never accepted as the other. A session ends when
it has been idle too long, when it has lived too long whatever its use, or at logout;
its token changes at every login step, so a token planted before the login is worth
nothing after it (session fixation; OWASP Session Management Cheat Sheet).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Literal, Protocol, TypeVar

from myna.platform.errors import N_, MynaError

TOKEN_BYTES = 32
# A login in two steps (the back office's password, then its one-time code) must
# finish soon: a session that only passed the first step dies after this.
SECOND_FACTOR_WINDOW = timedelta(minutes=5)


class LoginRequiredError(MynaError, status_code=401):
    """A page needs a login the request does not carry: pages send the visitor to log in."""

    login_path: ClassVar[str] = "/login"
    # Whether the login page takes ``?next=`` to come back to the page afterwards.
    comes_back: ClassVar[bool] = False


class NotLoggedInError(LoginRequiredError, code="not_logged_in"):
    """No logged-in resident: the portal's pages go to the card login."""

    message = N_("Please log in with your MyNumber card.")
    login_path = "/login"
    comes_back = True


class StaffNotLoggedInError(LoginRequiredError, code="staff_not_logged_in"):
    """No staff member past both factors: the back office's pages go to its login."""

    message = N_("Please log in to the back office first.")
    login_path = "/office/login"


class ActingForAnotherError(MynaError, code="acting_for_another", status_code=403):
    """A page of the resident's own, asked for while their session acts for someone else.

    Only the pages a proxy may use for the person they act for (docs/proxy.md) serve an
    acting session; every other page refuses it, so nothing of the proxy's own — and
    nothing beyond the granted scopes — is shown or done in the principal's name.
    """

    message = N_(
        "This page is not available while you act for another person. "
        "Use “Back to my own portal” at the top of the page first."
    )


class CsrfError(MynaError, code="csrf_failed", status_code=403):
    """A form posted without this session's CSRF token."""

    message = N_("The form has expired. Please reload the page and try again.")


@dataclass(frozen=True, slots=True)
class SessionKind:
    """Whose sessions these are, and how their cookie travels."""

    name: str
    cookie: str
    path: str
    same_site: Literal["lax", "strict"]
    # What a page needing this kind of login raises without one.
    login_error: type[LoginRequiredError]


# Lax: a link from a notice or from an organisation's site (a consent request) opens the
# portal logged in; every form that changes something carries the CSRF token.
RESIDENT = SessionKind(
    name="resident", cookie="myna_session", path="/", same_site="lax", login_error=NotLoggedInError
)
# Strict, and sent to /office only: nothing elsewhere ever links into the back office.
STAFF = SessionKind(
    name="staff",
    cookie="myna_office",
    path="/office",
    same_site="strict",
    login_error=StaffNotLoggedInError,
)


def new_token() -> str:
    """A session cookie value (256 bits), or a session's CSRF token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What the database keeps of a bearer token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Lifetime:
    """A session's limits: idle timeout, absolute lifetime, the second factor's window."""

    idle: timedelta
    absolute: timedelta
    second_factor: timedelta = SECOND_FACTOR_WINDOW

    def expired(
        self,
        now: datetime,
        *,
        created_at: datetime,
        last_seen_at: datetime,
        awaiting_second_factor: bool = False,
    ) -> bool:
        """Whether a session has been idle too long, lived too long, or waited too long."""
        return (
            now - last_seen_at > self.idle
            or now - created_at > self.absolute
            or (awaiting_second_factor and now - created_at > self.second_factor)
        )


class CsrfBearer(Protocol):
    """Anything that knows its session's CSRF token."""

    @property
    def csrf_token(self) -> str: ...


Bearer = TypeVar("Bearer", bound=CsrfBearer)


def check_csrf(active: Bearer | None, submitted: str | None) -> Bearer:
    """The synchroniser-token check: the posted token must be this session's.

    Compared in constant time (as bytes, so a token with other characters is refused
    like a wrong one); OWASP CSRF Prevention Cheat Sheet, "Synchronizer Token Pattern".
    Returns the session, which is then known to exist.
    """
    if (
        active is None
        or not submitted
        or not secrets.compare_digest(submitted.encode("utf-8"), active.csrf_token.encode("utf-8"))
    ):
        raise CsrfError
    return active
