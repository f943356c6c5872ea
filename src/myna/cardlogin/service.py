"""Card login use cases: issue a challenge, verify a card's answer, complete it once.

One mechanism for every relying party inside Myna (docs/card-login.md): the portal's
residents and the back office's staff. A challenge is bound to the digest of the
session that asked for it and to its audience; the card reader reads it and answers at
the portal's public API whoever asked; only the asking session, at the door of the
challenge's audience, completes it. What a completed login means (a resident's session,
a staff member's) is the caller's: this module proves the card, nothing more.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from cryptography import x509
from sqlalchemy import (
    CursorResult,
    Executable,
    RowMapping,
    Table,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.orm import Session

from myna import jpki, phone
from myna.card.protocol import login_message
from myna.cardlogin.domain import (
    Audience,
    ChallengeExpiredError,
    ChallengeFailedError,
    ChallengeNotFoundError,
    ChallengeNotVerifiedError,
    ChallengeStatus,
    ChallengeUsedError,
    new_challenge_id,
    new_nonce,
)
from myna.cardlogin.models import LoginChallenge
from myna.platform.attributes import from_attributes
from myna.platform.db import insert_row, utcnow
from myna.platform.sessions import token_digest
from myna.platform.settings import Settings

# The answer's statements, built once: Core statements on the table (an ORM UPDATE
# evaluates its criteria against the session's objects, about twice the statement's own
# cost), each compiled and cached once under the same key.
_CHALLENGES = cast(Table, LoginChallenge.__table__)
_CHALLENGE_BY_ID = select(_CHALLENGES).where(_CHALLENGES.c.id == bindparam("challenge_id"))
# Compare-and-set: the challenge moves on from ``from_status`` only if it is still there.
_MOVE_ON = (
    update(_CHALLENGES)
    .where(
        _CHALLENGES.c.id == bindparam("challenge_id"),
        _CHALLENGES.c.status == bindparam("from_status"),
    )
    .values(status=bindparam("to_status"))
)
_ACCEPT = _MOVE_ON.values(
    resident_id=bindparam("resident_id"),
    certificate_serial=bindparam("certificate_serial"),
    certificate_subject=bindparam("certificate_subject"),
    certificate_not_after=bindparam("certificate_not_after"),
    answered_at=bindparam("answered_at"),
)
_FAIL = _MOVE_ON.values(failure=bindparam("failure"), answered_at=bindparam("answered_at"))


@dataclass(frozen=True, slots=True)
class ChallengeView:
    """What a card reader needs to answer a challenge."""

    challenge_id: str
    nonce: str
    origin: str
    audience: Audience
    status: ChallengeStatus
    expires_at: datetime

    @property
    def to_be_signed(self) -> bytes:
        """The login message the card signs."""
        return login_message(origin=self.origin, challenge_id=self.challenge_id, nonce=self.nonce)


@dataclass(frozen=True, slots=True)
class CardAnswer:
    """An answer whose certificate (JPKI) and signature verified, not yet recorded."""

    challenge_id: str
    audience: Audience
    session_digest: str
    certificate: jpki.VerifiedCertificate

    def answers_session(self, session_token: str | None) -> bool:
        """Whether the answer came with the session the challenge is bound to."""
        return session_token is not None and secrets.compare_digest(
            self.session_digest, token_digest(session_token)
        )


@dataclass(frozen=True, slots=True)
class ProvenCard:
    """The certificate a verified challenge rests on, as the door completing it reads it."""

    challenge_id: str
    serial: str
    subject: str
    not_after: datetime
    resident_id: int | None = None


def start_challenge(
    *,
    session: Session,
    settings: Settings,
    session_token: str,
    audience: Audience = Audience.RESIDENT,
    subject: str | None = None,
) -> ChallengeView:
    """Issue a single-use challenge of ``audience`` bound to the caller's session.

    ``subject`` binds it further to whom it is for (the staff member a card is being
    registered to): only a caller naming the same subject can read or complete it.
    """
    now = utcnow()
    view = ChallengeView(
        challenge_id=new_challenge_id(),
        nonce=new_nonce(),
        origin=settings.portal_url.rstrip("/"),
        audience=Audience(audience),
        status=ChallengeStatus.PENDING,
        expires_at=now + timedelta(seconds=settings.challenge_ttl_seconds),
    )
    # The challenge row is its own record of issuance; audits start at the answer.
    insert_row(
        session,
        LoginChallenge,
        {
            "id": view.challenge_id,
            "nonce": view.nonce,
            "origin": view.origin,
            "session_digest": token_digest(session_token),
            "audience": view.audience.value,
            "subject": subject,
            "status": view.status,
            "created_at": now,
            "expires_at": view.expires_at,
        },
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


def challenge_status(
    *,
    session: Session,
    challenge_id: str,
    session_token: str,
    audience: Audience,
    subject: str | None = None,
) -> ChallengeStatus:
    """The status of a challenge, for the browser that started it only."""
    challenge = _bound_challenge(session, challenge_id, session_token, audience, subject)
    if challenge.status == ChallengeStatus.PENDING and challenge.expires_at <= utcnow():
        raise ChallengeExpiredError
    return ChallengeStatus(challenge.status)


def is_bound(
    *, session: Session, challenge_id: str, session_token: str, audience: Audience
) -> bool:
    """Whether the challenge of ``audience`` was issued to the session holding the token."""
    challenge = session.get(LoginChallenge, challenge_id)
    return (
        challenge is not None
        and challenge.audience == audience
        and secrets.compare_digest(challenge.session_digest, token_digest(session_token))
    )


def verify_answer(
    *,
    session: Session,
    settings: Settings,
    challenge_id: str,
    certificate_der: bytes,
    signature: bytes,
    at: datetime,
    unlock: phone.Assertion | None = None,
) -> CardAnswer:
    """Check a card's answer, in the order of docs/card-login.md; record nothing.

    The challenge must exist (ChallengeNotFoundError), be pending (ChallengeUsedError:
    a replay) and in time (ChallengeExpiredError); the certificate must pass the one
    JPKI verification for a user-authentication certificate (chain, validity, key
    usage, revocation), and the signature must be over the login message rebuilt here
    (both ``jpki.VerificationError``). A phone credential's certificate also needs the
    phone's unlock over the same message (``phone.verify_unlock``, docs/phone-credential.md).
    The caller records the outcome: ``accept_answer`` or ``fail_challenge``.
    """
    challenge = _challenge_row(session, challenge_id)
    if challenge is None:
        raise ChallengeNotFoundError
    if challenge["status"] != ChallengeStatus.PENDING:
        raise ChallengeUsedError
    if challenge["expires_at"] <= at:
        raise ChallengeExpiredError
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
    except ValueError as exc:
        raise jpki.VerificationError("malformed_certificate") from exc
    # The bytes as presented: the JPKI remembers bytes it has checked before.
    verified = jpki.verify_certificate(
        session=session,
        settings=settings,
        certificate=certificate_der,
        kind=jpki.CertificateKind.AUTH,
        at=at,
    )
    message = login_message(
        origin=challenge["origin"], challenge_id=challenge["id"], nonce=challenge["nonce"]
    )
    jpki.verify_signature(certificate=certificate, data=message, signature=signature)
    phone.verify_unlock(
        session=session,
        settings=settings,
        certificate=verified,
        to_be_signed=message,
        assertion=unlock,
    )
    return CardAnswer(
        challenge_id=challenge["id"],
        audience=Audience(challenge["audience"]),
        session_digest=challenge["session_digest"],
        certificate=verified,
    )


def accept_answer(
    *,
    session: Session,
    answer: CardAnswer,
    status: ChallengeStatus,
    at: datetime,
    resident_id: int | None = None,
) -> None:
    """Record a verified answer: the challenge moves on to ``status`` with its certificate.

    Compare-and-set on the pending status: of two concurrent answers only one wins, the
    other gets ChallengeUsedError.
    """
    won = _affected(
        session,
        _ACCEPT,
        {
            "challenge_id": answer.challenge_id,
            "from_status": ChallengeStatus.PENDING.value,
            "to_status": ChallengeStatus(status).value,
            "resident_id": resident_id,
            "certificate_serial": str(answer.certificate.serial),
            "certificate_subject": answer.certificate.subject_cn,
            "certificate_not_after": answer.certificate.not_after,
            "answered_at": at,
        },
    )
    if won != 1:
        raise ChallengeUsedError


def fail_challenge(*, session: Session, challenge_id: str, failure: str) -> None:
    """Consume a pending challenge whose answer was refused, keeping the reason's code."""
    session.execute(
        _FAIL,
        {
            "challenge_id": challenge_id,
            "from_status": ChallengeStatus.PENDING.value,
            "to_status": ChallengeStatus.FAILED.value,
            "failure": failure[:32],
            "answered_at": utcnow(),
        },
    )


def peek_verified(
    *,
    session: Session,
    challenge_id: str,
    session_token: str,
    audience: Audience,
    subject: str | None = None,
) -> ProvenCard:
    """The certificate of a verified challenge, without completing it (to confirm first)."""
    return _proven(_verified(session, challenge_id, session_token, audience, subject))


def take_verified(
    *,
    session: Session,
    challenge_id: str,
    session_token: str,
    audience: Audience,
    subject: str | None = None,
) -> ProvenCard:
    """Complete a verified challenge, once: its certificate, for the asking session only.

    Refused: another session's or another audience's challenge, as an unknown one
    (ChallengeNotFoundError);
    one the card has not answered yet (ChallengeNotVerifiedError) or no longer can
    (ChallengeExpiredError); one whose answer was refused (ChallengeFailedError, with
    the reason); one already completed (ChallengeUsedError).
    """
    challenge = _verified(session, challenge_id, session_token, audience, subject)
    won = _affected(
        session,
        _MOVE_ON,
        {
            "challenge_id": challenge_id,
            "from_status": ChallengeStatus.VERIFIED.value,
            "to_status": ChallengeStatus.COMPLETED.value,
        },
    )
    if won != 1:
        raise ChallengeUsedError
    return _proven(challenge)


def forget_expired_challenges(*, session: Session) -> int:
    """Delete challenges an hour past their expiry; returns how many went."""
    cutoff = utcnow() - timedelta(hours=1)
    return _affected(session, delete(LoginChallenge).where(LoginChallenge.expires_at < cutoff))


def _verified(
    session: Session,
    challenge_id: str,
    session_token: str,
    audience: Audience,
    subject: str | None = None,
) -> LoginChallenge:
    challenge = _bound_challenge(session, challenge_id, session_token, audience, subject)
    if challenge.status == ChallengeStatus.PENDING:
        if challenge.expires_at <= utcnow():
            raise ChallengeExpiredError
        raise ChallengeNotVerifiedError
    if challenge.status == ChallengeStatus.FAILED:
        raise ChallengeFailedError(challenge.failure)
    if challenge.status != ChallengeStatus.VERIFIED or challenge.certificate_serial is None:
        raise ChallengeUsedError
    return challenge


def _proven(challenge: LoginChallenge) -> ProvenCard:
    if challenge.certificate_not_after is None:  # pragma: no cover - set with the serial
        raise ChallengeUsedError
    return ProvenCard(
        challenge_id=challenge.id,
        serial=challenge.certificate_serial or "",
        subject=challenge.certificate_subject or "",
        not_after=challenge.certificate_not_after,
        resident_id=challenge.resident_id,
    )


def _bound_challenge(
    session: Session,
    challenge_id: str,
    session_token: str,
    audience: Audience,
    subject: str | None = None,
) -> LoginChallenge:
    """The challenge, if this session asked for it at this door (for this subject).

    Another session's is "not found", exactly as an unknown id: that it exists is the
    asking browser's to know. Another audience's is treated as another session's: this
    door cannot complete it, whoever holds it.
    """
    challenge = session.get(LoginChallenge, challenge_id)
    if (
        challenge is None
        or challenge.audience != audience
        or challenge.subject != subject
        or not secrets.compare_digest(challenge.session_digest, token_digest(session_token))
    ):
        raise ChallengeNotFoundError
    return challenge


def _challenge_row(session: Session, challenge_id: str) -> RowMapping | None:
    """A challenge's columns, read with a Core statement (nothing enters the session)."""
    return session.execute(_CHALLENGE_BY_ID, {"challenge_id": challenge_id}).mappings().first()


def _affected(
    session: Session, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> int:
    """Rows changed by an UPDATE or DELETE (how compare-and-set knows it won)."""
    result = session.execute(statement, parameters)
    assert isinstance(result, CursorResult)  # noqa: S101 - DML always yields a cursor result
    return int(result.rowcount)


def _view(challenge: LoginChallenge) -> ChallengeView:
    return from_attributes(
        ChallengeView,
        challenge,
        challenge_id=challenge.id,
        audience=Audience(challenge.audience),
        status=ChallengeStatus(challenge.status),
    )
