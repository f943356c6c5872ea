"""Portal use cases: card login and logout (see docs/card-login.md).

The challenge-response is ``myna.cardlogin``'s, shared with the back office; the
sessions are the platform's (``myna.platform.sessions``). The portal serves the card
readers' API for every audience and adds the resident's side: the holder must be a
current resident, a login rotates the caller's session into a resident's, and the
authentication audit (``auth_events``) is written beside each step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import cardlogin, phone, registry
from myna.cardlogin import Audience, ChallengeStatus, ChallengeView, LoginError
from myna.platform.clock import today_in_japan
from myna.platform.db import insert_row, utcnow
from myna.platform.errors import MynaError
from myna.platform.logging import get_logger
from myna.platform.sessions import RESIDENT, BrowserSession, SessionStore
from myna.platform.settings import Settings
from myna.portal.domain import ResidentUnavailableError
from myna.portal.models import AuthEvent

log = get_logger(__name__)


def start_login(*, session: Session, settings: Settings, session_token: str) -> ChallengeView:
    """Issue a single-use resident login challenge bound to the caller's session."""
    return cardlogin.start_challenge(
        session=session, settings=settings, session_token=session_token, audience=Audience.RESIDENT
    )


def get_challenge(*, session: Session, challenge_id: str) -> ChallengeView:
    """The public part of a challenge of any audience, for the card reader."""
    return cardlogin.get_challenge(session=session, challenge_id=challenge_id)


def challenge_status(*, session: Session, challenge_id: str, session_token: str) -> ChallengeStatus:
    """The status of a resident's challenge, for the browser that started it only."""
    return cardlogin.challenge_status(
        session=session,
        challenge_id=challenge_id,
        session_token=session_token,
        audience=Audience.RESIDENT,
    )


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """A verified answer: the resident and the new session when it logged in at once.

    ``resident`` is None for another audience's challenge (a staff member's card at the
    back office): the portal proved the card, the back office decides the rest.
    """

    resident: registry.ResidentRead | None
    logged_in: BrowserSession | None


def answer_challenge(
    *,
    session: Session,
    settings: Settings,
    sessions: SessionStore,
    challenge_id: str,
    certificate_der: bytes,
    signature: bytes,
    client_ip: str | None,
    session_token: str | None = None,
    unlock: phone.Assertion | None = None,
) -> AnswerOutcome:
    """Verify a card's answer to a challenge of any audience.

    For a resident's challenge the holder must be a current resident. When the answer
    comes with the session the challenge is bound to (same device), the login
    completes at once and the session rotates. Otherwise the challenge becomes
    VERIFIED and the browser that started it completes the login (always so for the
    back office's challenges, whose cookie never reaches this API). Any answer consumes
    the challenge, right or wrong; a failed attempt is committed to the audit before
    the error propagates.
    """
    now = utcnow()
    try:
        answer = cardlogin.verify_answer(
            session=session,
            settings=settings,
            challenge_id=challenge_id,
            certificate_der=certificate_der,
            signature=signature,
            at=now,
            unlock=unlock,
        )
        resident = None
        if answer.audience is Audience.RESIDENT:
            resident = registry.get_resident(
                session=session, resident_id=answer.certificate.holder_id
            )
            if resident.status != "active":
                raise ResidentUnavailableError
    except cardlogin.ChallengeNotFoundError:
        raise
    except cardlogin.ChallengeUsedError:
        _fail(session, challenge_id, "replayed", client_ip, consume=False)
        raise
    except cardlogin.ChallengeExpiredError as exc:
        _fail(session, challenge_id, "expired", client_ip, failure=exc.code)
        raise
    except MynaError as exc:
        _fail(session, challenge_id, exc.code, client_ip)
        raise
    holder = answer.certificate
    serial = str(holder.serial)
    same_device = answer.audience is Audience.RESIDENT and answer.answers_session(session_token)
    cardlogin.accept_answer(
        session=session,
        answer=answer,
        status=ChallengeStatus.COMPLETED if same_device else ChallengeStatus.VERIFIED,
        at=now,
        resident_id=holder.holder_id if resident is not None else None,
    )
    if same_device and session_token is not None:
        active = _rotate(
            session,
            sessions,
            old_token=session_token,
            resident_id=holder.holder_id,
            serial=serial,
            not_after=holder.not_after,
            challenge_id=challenge_id,
            client_ip=client_ip,
        )
        return AnswerOutcome(resident=resident, logged_in=active)
    _audit(
        session,
        "card_verified",
        "ok",
        challenge_id=challenge_id,
        client_ip=client_ip,
        # Only a resident's login names the resident: the holder of a staff card is the
        # back office's business, which knows its staff by their certificate.
        resident_id=holder.holder_id if resident is not None else None,
        serial=serial,
    )
    return AnswerOutcome(resident=resident, logged_in=None)


def complete_login(
    *,
    session: Session,
    sessions: SessionStore,
    challenge_id: str,
    session_token: str,
    client_ip: str | None,
) -> BrowserSession:
    """Turn a verified challenge into a logged-in session with a new token (rotation)."""
    proven = cardlogin.take_verified(
        session=session,
        challenge_id=challenge_id,
        session_token=session_token,
        audience=Audience.RESIDENT,
    )
    if proven.resident_id is None:  # pragma: no cover - a resident's answer names them
        raise cardlogin.ChallengeUsedError
    return _rotate(
        session,
        sessions,
        old_token=session_token,
        resident_id=proven.resident_id,
        serial=proven.serial,
        not_after=proven.not_after,
        challenge_id=challenge_id,
        client_ip=client_ip,
    )


def _rotate(
    session: Session,
    sessions: SessionStore,
    *,
    old_token: str,
    resident_id: int,
    serial: str | None,
    not_after: datetime | None,
    challenge_id: str,
    client_ip: str | None,
) -> BrowserSession:
    """Log in: the pre-login token dies and a fresh one is issued (no session fixation)."""
    active = sessions.rotate(
        session,
        RESIDENT,
        old_token=old_token,
        subject_id=resident_id,
        certificate_serial=serial,
        certificate_not_after=not_after,
    )
    _audit(
        session,
        "login",
        "ok",
        challenge_id=challenge_id,
        client_ip=client_ip,
        resident_id=resident_id,
        serial=serial,
    )
    log.info("login", challenge=challenge_id)
    return active


def is_bound(*, session: Session, challenge_id: str, session_token: str) -> bool:
    """Whether the resident's challenge was issued to the session holding the token."""
    return cardlogin.is_bound(
        session=session,
        challenge_id=challenge_id,
        session_token=session_token,
        audience=Audience.RESIDENT,
    )


def logout(
    *,
    session: Session,
    sessions: SessionStore,
    session_token: str,
    resident_id: int | None,
    client_ip: str | None,
) -> None:
    """End the session: the row goes, so the cookie is worthless everywhere."""
    if sessions.end(session, RESIDENT, session_token):
        _audit(session, "logout", "ok", client_ip=client_ip, resident_id=resident_id)


def forget_expired_challenges(*, session: Session) -> int:
    """Delete challenges an hour past their expiry; returns how many went."""
    return cardlogin.forget_expired_challenges(session=session)


def recent_auth_events(*, session: Session, resident_id: int, limit: int = 10) -> list[AuthEvent]:
    """The resident's latest logins and logouts, newest first."""
    return list(
        session.scalars(
            select(AuthEvent)
            .where(AuthEvent.resident_id == resident_id, AuthEvent.event.in_(("login", "logout")))
            .order_by(AuthEvent.occurred_at.desc(), AuthEvent.id.desc())
            .limit(limit)
        )
    )


def logins_per_day(*, session: Session, since: datetime, until: datetime) -> dict[date, int]:
    """Residents' completed logins per calendar day in Japan, ``since`` ≤ time < ``until``.

    Read from the authentication audit (``login`` with outcome ``ok``); days without a
    login are absent.
    """
    counts: dict[date, int] = {}
    moments = session.scalars(
        select(AuthEvent.occurred_at).where(
            AuthEvent.event == "login",
            AuthEvent.outcome == "ok",
            AuthEvent.occurred_at >= since,
            AuthEvent.occurred_at < until,
        )
    )
    for moment in moments:
        day = today_in_japan(moment)
        counts[day] = counts.get(day, 0) + 1
    return counts


def _fail(
    session: Session,
    challenge_id: str,
    reason: str,
    client_ip: str | None,
    *,
    consume: bool = True,
    failure: str | None = None,
) -> None:
    """Record a refused answer; consume the challenge, keeping ``failure`` (the reason)."""
    if consume:
        cardlogin.fail_challenge(
            session=session, challenge_id=challenge_id, failure=failure or reason
        )
    _audit(session, "card_verified", reason, challenge_id=challenge_id, client_ip=client_ip)
    # The failed attempt is evidence: keep it even though the request fails.
    session.commit()
    log.warning("login_failed", reason=reason, challenge=challenge_id)


def _audit(
    session: Session,
    event: str,
    outcome: str,
    *,
    challenge_id: str | None = None,
    client_ip: str | None = None,
    resident_id: int | None = None,
    serial: str | None = None,
) -> None:
    insert_row(
        session,
        AuthEvent,
        {
            "occurred_at": utcnow(),
            "event": event,
            "outcome": outcome,
            "challenge_id": challenge_id,
            "client_ip": client_ip,
            "resident_id": resident_id,
            "certificate_serial": serial,
        },
    )


__all__ = [
    "AnswerOutcome",
    "ChallengeView",
    "LoginError",
    "answer_challenge",
    "challenge_status",
    "complete_login",
    "forget_expired_challenges",
    "get_challenge",
    "is_bound",
    "logins_per_day",
    "logout",
    "recent_auth_events",
    "start_login",
]
