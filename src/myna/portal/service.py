"""Portal use cases: sessions and card login (see docs/card-login.md)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from sqlalchemy import CursorResult, Executable, delete, insert, select, update
from sqlalchemy.orm import Session

from myna import jpki, registry
from myna.card.protocol import login_message
from myna.platform.db import utcnow
from myna.platform.errors import MynaError
from myna.platform.logging import get_logger
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
    SessionTimes,
    new_challenge_id,
    new_nonce,
    new_session_token,
    token_digest,
)
from myna.portal.models import AuthEvent, LoginChallenge, PortalSession

log = get_logger(__name__)

# Refreshing last_seen on every request would turn every page view into a write.
_TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A live browser session as the web layer sees it."""

    token: str
    csrf_token: str
    resident_id: int | None
    certificate_not_after: datetime | None
    is_new: bool = False
    # When the card login that this session rests on happened (OIDC ``auth_time``).
    authenticated_at: datetime | None = None


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


def load_session(
    *, session: Session, settings: Settings, token: str | None
) -> ActiveSession | None:
    """The live session for a cookie ``token``, or None if unknown or expired."""
    if not token:
        return None
    row = session.get(PortalSession, token_digest(token))
    if row is None:
        return None
    now = utcnow()
    times = SessionTimes(
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )
    if times.expired(now):
        session.delete(row)
        return None
    if now - row.last_seen_at > _TOUCH_INTERVAL:
        row.last_seen_at = now
    return ActiveSession(
        token=token,
        csrf_token=row.csrf_token,
        resident_id=row.resident_id,
        certificate_not_after=row.certificate_not_after,
        authenticated_at=row.authenticated_at,
    )


def open_anonymous_session(*, session: Session) -> ActiveSession:
    """A new session for a visitor who has not logged in yet."""
    return _new_session(session, resident_id=None, serial=None, not_after=None)


def _new_session(
    session: Session, *, resident_id: int | None, serial: str | None, not_after: datetime | None
) -> ActiveSession:
    """Insert a session row (only the token's digest) and hand back the token."""
    token = new_session_token()
    now = utcnow()
    csrf_token = secrets.token_urlsafe(32)
    # Core insert on the hot path: the ORM's unit of work costs more than the INSERT.
    session.execute(
        insert(PortalSession).values(
            token_digest=token_digest(token),
            csrf_token=csrf_token,
            resident_id=resident_id,
            certificate_serial=serial,
            certificate_not_after=not_after,
            created_at=now,
            last_seen_at=now,
            authenticated_at=now if resident_id is not None else None,
        )
    )
    return ActiveSession(
        token=token,
        csrf_token=csrf_token,
        resident_id=resident_id,
        certificate_not_after=not_after,
        is_new=True,
    )


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
    logged_in: ActiveSession | None


def answer_challenge(
    *,
    session: Session,
    settings: Settings,
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
    *, session: Session, challenge_id: str, session_token: str, client_ip: str | None
) -> ActiveSession:
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
        old_token=session_token,
        resident_id=challenge.resident_id,
        serial=challenge.certificate_serial,
        not_after=challenge.certificate_not_after,
        challenge_id=challenge_id,
        client_ip=client_ip,
    )


def _rotate(
    session: Session,
    *,
    old_token: str,
    resident_id: int,
    serial: str | None,
    not_after: datetime | None,
    challenge_id: str,
    client_ip: str | None,
) -> ActiveSession:
    """Log in: the pre-login token dies and a fresh one is issued (no session fixation)."""
    old = session.get(PortalSession, token_digest(old_token))
    if old is not None:
        session.delete(old)
    active = _new_session(session, resident_id=resident_id, serial=serial, not_after=not_after)
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


def logout(*, session: Session, session_token: str, client_ip: str | None) -> None:
    """End the session: the row goes, so the cookie is worthless everywhere."""
    row = session.get(PortalSession, token_digest(session_token))
    if row is None:
        return
    _audit(session, "logout", "ok", client_ip=client_ip, resident_id=row.resident_id)
    session.delete(row)


def purge_expired(*, session: Session, settings: Settings) -> int:
    """Delete expired challenges and sessions; returns how many rows went."""
    now = utcnow()
    gone = _affected(
        session, delete(LoginChallenge).where(LoginChallenge.expires_at < now - timedelta(hours=1))
    )
    return gone + _affected(
        session,
        delete(PortalSession).where(
            PortalSession.last_seen_at < now - timedelta(minutes=settings.session_idle_minutes)
        ),
    )


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
    return ChallengeView(
        challenge_id=challenge.id,
        nonce=challenge.nonce,
        origin=challenge.origin,
        status=ChallengeStatus(challenge.status),
        expires_at=challenge.expires_at,
    )


__all__ = [
    "ActiveSession",
    "AnswerOutcome",
    "ChallengeView",
    "LoginError",
    "answer_challenge",
    "challenge_status",
    "complete_login",
    "get_challenge",
    "is_bound",
    "load_session",
    "logout",
    "open_anonymous_session",
    "purge_expired",
    "recent_auth_events",
    "start_login",
]
