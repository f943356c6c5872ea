"""Portal use cases: card login and logout (see docs/card-login.md).

The sessions themselves are the platform's (``myna.platform.sessions``); a login here
rotates the caller's session into a resident's and writes the audit beside it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from sqlalchemy import CursorResult, Executable, delete, insert, select, update
from sqlalchemy.orm import Session

from myna import jpki, registry
from myna.card.protocol import login_message
from myna.platform.attributes import from_attributes
from myna.platform.db import utcnow
from myna.platform.errors import MynaError
from myna.platform.logging import get_logger
from myna.platform.sessions import RESIDENT, BrowserSession, SessionStore, token_digest
from myna.platform.settings import Settings
from myna.portal.domain import (
    ChallengeBindingError,
    ChallengeExpiredError,
    ChallengeNotFoundError,
    ChallengeNotVerifiedError,
    ChallengeStatus,
    ChallengeUsedError,
    LoginError,
    ResidentUnavailableError,
    new_challenge_id,
    new_nonce,
)
from myna.portal.models import AuthEvent, LoginChallenge

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ChallengeView:
    """What a card reader needs to answer a challenge."""

    challenge_id: str
    nonce: str
    origin: str
    status: ChallengeStatus
    expires_at: datetime

    @property
    def to_be_signed(self) -> bytes:
        """The login message the card signs."""
        return login_message(origin=self.origin, challenge_id=self.challenge_id, nonce=self.nonce)


def start_login(*, session: Session, settings: Settings, session_token: str) -> ChallengeView:
    """Issue a single-use challenge bound to the caller's session."""
    now = utcnow()
    view = ChallengeView(
        challenge_id=new_challenge_id(),
        nonce=new_nonce(),
        origin=settings.portal_url.rstrip("/"),
        status=ChallengeStatus.PENDING,
        expires_at=now + timedelta(seconds=settings.challenge_ttl_seconds),
    )
    # The challenge row is its own record of issuance; the audit starts at the answer.
    session.execute(
        insert(LoginChallenge).values(
            id=view.challenge_id,
            nonce=view.nonce,
            origin=view.origin,
            session_digest=token_digest(session_token),
            status=view.status,
            created_at=now,
            expires_at=view.expires_at,
        )
    )
    return view


def get_challenge(*, session: Session, challenge_id: str) -> ChallengeView:
    """The public part of a challenge, for the card reader."""
    challenge = session.get(LoginChallenge, challenge_id)
    if challenge is None:
        raise ChallengeNotFoundError
    if challenge.expires_at <= utcnow() and challenge.status == ChallengeStatus.PENDING:
        raise ChallengeExpiredError
    return _view(challenge)


def challenge_status(*, session: Session, challenge_id: str, session_token: str) -> ChallengeStatus:
    """The status of a challenge, for the browser that started it only."""
    challenge = _bound_challenge(session, challenge_id, session_token)
    if challenge.status == ChallengeStatus.PENDING and challenge.expires_at <= utcnow():
        raise ChallengeExpiredError
    return ChallengeStatus(challenge.status)


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """A verified answer: the holder, and the new session when it logged in at once."""

    resident: registry.ResidentRead
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
) -> AnswerOutcome:
    """Verify a card's answer to a challenge.

    When the answer comes with the session the challenge is bound to (same device),
    the login completes at once and the session rotates. Otherwise the challenge
    becomes VERIFIED and the browser that started it completes the login. Any answer
    consumes the challenge, right or wrong; a failed attempt is committed to the audit
    before the error propagates.
    """
    now = utcnow()
    challenge = session.get(LoginChallenge, challenge_id)
    if challenge is None:
        raise ChallengeNotFoundError
    if challenge.status != ChallengeStatus.PENDING:
        _fail(session, challenge_id, "replayed", client_ip, consume=False)
        raise ChallengeUsedError
    if challenge.expires_at <= now:
        _fail(session, challenge_id, "expired", client_ip)
        raise ChallengeExpiredError
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
        verified = jpki.verify_certificate(
            session=session,
            settings=settings,
            certificate=certificate,
            kind=jpki.CertificateKind.AUTH,
            at=now,
        )
        message = login_message(
            origin=challenge.origin, challenge_id=challenge.id, nonce=challenge.nonce
        )
        jpki.verify_signature(certificate=certificate, data=message, signature=signature)
        resident = registry.get_resident(session=session, resident_id=verified.holder_id)
        if resident.status != "active":
            raise ResidentUnavailableError
    except ValueError as exc:
        _fail(session, challenge_id, "malformed_certificate", client_ip)
        raise jpki.VerificationError("malformed_certificate") from exc
    except MynaError as exc:
        _fail(session, challenge_id, exc.code, client_ip)
        raise
    same_device = session_token is not None and secrets.compare_digest(
        challenge.session_digest, token_digest(session_token)
    )
    next_status = ChallengeStatus.COMPLETED if same_device else ChallengeStatus.VERIFIED
    # Compare-and-set: of two concurrent answers only one can win.
    won = _affected(
        session,
        update(LoginChallenge)
        .where(LoginChallenge.id == challenge_id, LoginChallenge.status == ChallengeStatus.PENDING)
        .values(
            status=next_status,
            resident_id=verified.holder_id,
            certificate_serial=str(verified.serial),
            certificate_not_after=verified.not_after,
            answered_at=now,
        ),
    )
    if won != 1:
        raise ChallengeUsedError
    serial = str(verified.serial)
    if same_device and session_token is not None:
        active = _rotate(
            session,
            sessions,
            old_token=session_token,
            resident_id=verified.holder_id,
            serial=serial,
            not_after=verified.not_after,
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
        resident_id=verified.holder_id,
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
    challenge = _bound_challenge(session, challenge_id, session_token)
    if challenge.status == ChallengeStatus.PENDING:
        raise ChallengeNotVerifiedError
    if challenge.status != ChallengeStatus.VERIFIED or challenge.resident_id is None:
        raise ChallengeUsedError
    won = _affected(
        session,
        update(LoginChallenge)
        .where(LoginChallenge.id == challenge_id, LoginChallenge.status == ChallengeStatus.VERIFIED)
        .values(status=ChallengeStatus.COMPLETED),
    )
    if won != 1:
        raise ChallengeUsedError
    return _rotate(
        session,
        sessions,
        old_token=session_token,
        resident_id=challenge.resident_id,
        serial=challenge.certificate_serial,
        not_after=challenge.certificate_not_after,
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
    """Whether the challenge was issued to the session holding ``session_token``."""
    challenge = session.get(LoginChallenge, challenge_id)
    return challenge is not None and secrets.compare_digest(
        challenge.session_digest, token_digest(session_token)
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
    cutoff = utcnow() - timedelta(hours=1)
    return _affected(session, delete(LoginChallenge).where(LoginChallenge.expires_at < cutoff))


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


def _affected(session: Session, statement: Executable) -> int:
    """Rows changed by an UPDATE or DELETE (how compare-and-set knows it won)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)  # noqa: S101 - DML always yields a cursor result
    return int(result.rowcount)


def _bound_challenge(session: Session, challenge_id: str, session_token: str) -> LoginChallenge:
    challenge = session.get(LoginChallenge, challenge_id)
    if challenge is None:
        raise ChallengeNotFoundError
    if not secrets.compare_digest(challenge.session_digest, token_digest(session_token)):
        raise ChallengeBindingError
    return challenge


def _fail(
    session: Session, challenge_id: str, reason: str, client_ip: str | None, *, consume: bool = True
) -> None:
    if consume:
        session.execute(
            update(LoginChallenge)
            .where(
                LoginChallenge.id == challenge_id, LoginChallenge.status == ChallengeStatus.PENDING
            )
            .values(status=ChallengeStatus.FAILED, answered_at=utcnow())
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
    session.execute(
        insert(AuthEvent).values(
            occurred_at=utcnow(),
            event=event,
            outcome=outcome,
            challenge_id=challenge_id,
            client_ip=client_ip,
            resident_id=resident_id,
            certificate_serial=serial,
        )
    )


def _view(challenge: LoginChallenge) -> ChallengeView:
    status = ChallengeStatus(challenge.status)
    return from_attributes(ChallengeView, challenge, challenge_id=challenge.id, status=status)


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
    "logout",
    "recent_auth_events",
    "start_login",
]
