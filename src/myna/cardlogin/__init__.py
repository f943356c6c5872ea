"""Card login (docs/card-login.md): the relying party's side of the challenge-response.

Challenges bound to a browser session and to an audience (a resident's login at the
portal, a staff member's at the back office, a staff card's registration), the one
verification of a card's answer (``myna.jpki``), and completion, once, by the session
that asked. The portal serves the reader protocol's API for every audience; each door
decides what a completed challenge means for its people.
"""

from myna.cardlogin.domain import (
    Audience,
    ChallengeBindingError,
    ChallengeExpiredError,
    ChallengeFailedError,
    ChallengeNotFoundError,
    ChallengeNotVerifiedError,
    ChallengeStatus,
    ChallengeUsedError,
    LoginError,
    reader_link,
    request_uri,
)
from myna.cardlogin.service import (
    CardAnswer,
    ChallengeView,
    ProvenCard,
    accept_answer,
    challenge_status,
    fail_challenge,
    forget_expired_challenges,
    get_challenge,
    is_bound,
    peek_verified,
    start_challenge,
    take_verified,
    verify_answer,
)

__all__ = [
    "Audience",
    "CardAnswer",
    "ChallengeBindingError",
    "ChallengeExpiredError",
    "ChallengeFailedError",
    "ChallengeNotFoundError",
    "ChallengeNotVerifiedError",
    "ChallengeStatus",
    "ChallengeUsedError",
    "ChallengeView",
    "LoginError",
    "ProvenCard",
    "accept_answer",
    "challenge_status",
    "fail_challenge",
    "forget_expired_challenges",
    "get_challenge",
    "is_bound",
    "peek_verified",
    "reader_link",
    "request_uri",
    "start_challenge",
    "take_verified",
    "verify_answer",
]
