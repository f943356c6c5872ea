"""The card login protocol's pure rules (see docs/card-login.md).

A login is a challenge-response (チャレンジ・レスポンス) over the user-authentication
certificate (利用者証明用電子証明書): the portal issues a single-use random challenge
bound to the browser session; the card signs the *login message* built from it with
PKCS#1 v1.5 / SHA-256 after the PIN; the portal verifies signature and certificate.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from myna.platform.encoding import b64url
from myna.platform.errors import N_, MynaError

NONCE_BYTES = 32


class ChallengeStatus(StrEnum):
    """Where a login challenge is in its single life."""

    PENDING = "pending"
    VERIFIED = "verified"
    COMPLETED = "completed"
    FAILED = "failed"


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


class ChallengeNotVerifiedError(LoginError):
    code = "challenge_not_verified"
    message = N_("The card has not answered yet. Please finish the steps in the card reader.")
    status_code = 409


class ChallengeBindingError(LoginError):
    code = "challenge_wrong_session"
    message = N_("This login request was started in another browser. Please start again here.")
    status_code = 403


class ResidentUnavailableError(LoginError):
    code = "resident_unavailable"
    message = N_(
        "This card's holder is not registered as a current resident. "
        "Please contact your municipality."
    )
    status_code = 403


class NoCategoryChosenError(MynaError):
    code = "no_category"
    message = N_("Choose at least one category to retrieve.")
    status_code = 400


class NoTreeHeadYetError(MynaError):
    code = "no_tree_head"
    message = N_(
        "The log has not signed a tree head covering this entry yet. Try again in a minute."
    )
    status_code = 404
