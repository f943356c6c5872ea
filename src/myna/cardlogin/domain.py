"""The card login protocol's pure rules (see docs/card-login.md).

A login is a challenge-response (チャレンジ・レスポンス) over the user-authentication
certificate (利用者証明用電子証明書): a relying party of Myna issues a single-use random
challenge bound to the browser session that asked for it; the card signs the *login
message* built from it with PKCS#1 v1.5 / SHA-256 after the PIN; the relying party
verifies signature and certificate. The portal's residents and the back office's staff
log in this one way; a challenge says whose login it is (its audience).
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from urllib.parse import quote

from myna.platform.encoding import b64url
from myna.platform.errors import N_, MynaError

NONCE_BYTES = 32


class ChallengeStatus(StrEnum):
    """Where a login challenge is in its single life."""

    PENDING = "pending"
    VERIFIED = "verified"
    COMPLETED = "completed"
    FAILED = "failed"


class Audience(StrEnum):
    """What a challenge is for: whose login, or which act, the card's answer proves.

    ``resident``: a resident's login at the portal. ``staff``: a staff member's login at
    the back office (職員証としての利用). ``staff-card``: a staff member presents the card
    so an administrator can register it to their account. ``counter``: a resident
    presents the card at a municipal counter (市民カード化: a library, a shelter), the
    challenge bound to the staff member's session and answered at the counter's reader.
    A challenge is completed only by the door of its own audience.
    """

    RESIDENT = "resident"
    STAFF = "staff"
    STAFF_CARD = "staff-card"
    COUNTER = "counter"


def new_challenge_id() -> str:
    """An unguessable challenge identifier (128 bits)."""
    return secrets.token_urlsafe(16)


def new_nonce() -> str:
    """The challenge's random part (256 bits), base64url."""
    return b64url(secrets.token_bytes(NONCE_BYTES))


class LoginError(MynaError):
    """A login attempt that cannot go on."""

    code = "login_failed"
    message = N_("The login could not be completed. Please start again from the login page.")
    status_code = 400


class ChallengeNotFoundError(LoginError):
    code = "challenge_not_found"
    message = N_("This login request does not exist. Please start again from the login page.")
    status_code = 404


class ChallengeExpiredError(LoginError):
    code = "challenge_expired"
    message = N_(
        "This login request has expired. Please reload the login page and scan the new code."
    )
    status_code = 410


class ChallengeUsedError(LoginError):
    code = "challenge_used"
    message = N_(
        "This login request has already been answered. Please reload the login page "
        "to get a new one."
    )
    status_code = 409


class ChallengeFailedError(ChallengeUsedError):
    """The card's answer to this challenge was refused; ``failure`` says why (its code)."""

    def __init__(self, failure: str | None) -> None:
        super().__init__()
        self.failure = failure or ""


class ChallengeNotVerifiedError(LoginError):
    code = "challenge_not_verified"
    message = N_("The card has not answered yet. Please finish the steps in the card reader.")
    status_code = 409


class ChallengeBindingError(LoginError):
    """A challenge's status or completion asked with no session at all (nothing is looked
    up: another session's challenge is ChallengeNotFoundError, as an unknown one)."""

    code = "challenge_wrong_session"
    message = N_("This login request was started in another browser. Please start again here.")
    status_code = 403


def request_uri(portal_url: str, challenge_id: str) -> str:
    """Where a card reader reads the challenge and posts its answer (the reader protocol)."""
    return f"{portal_url.rstrip('/')}/api/login/challenges/{challenge_id}"


def reader_link(reader_url: str, portal_url: str, challenge_id: str) -> str:
    """The link (and QR content) that opens the card reader on this challenge."""
    target = quote(request_uri(portal_url, challenge_id), safe="")
    return f"{reader_url.rstrip('/')}/authorize?request_uri={target}"
