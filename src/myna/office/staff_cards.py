"""Staff ID (職員証): a staff member's own MyNumber card as their back-office login.

An administrator (システム管理者) of the municipality registers the card to the staff
member's account: the staff member presents it through the card reader — the card login
of docs/card-login.md, for a challenge of audience ``staff-card`` bound to the
administrator's session — so the certificate is proven by a signature with its key
after the PIN, never pasted; the administrator sees the certificate and confirms. What
is kept is the certificate's serial and subject (``office_staff_cards``); a re-issued
card has a new certificate and is registered again, and a registration can be removed.

The login is the same card login for a challenge of audience ``staff``: JPKI verifies
the certificate (chain, validity, key usage, revocation) when the card answers, and
here the certificate must be registered to an account that is neither disabled nor
locked. Card and PIN are two factors (possession and knowledge), so no one-time code
is asked; the session rotates as after the code. The registration names the account,
and so the municipality: a card logs in to its own municipality's back office only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import cardlogin
from myna.cardlogin import Audience, ChallengeStatus, ChallengeView, ProvenCard
from myna.office.models import StaffCard, StaffMember
from myna.office.roles import StaffRole
from myna.office.service import (
    OfficeError,
    StaffRead,
    check_may_log_in,
    get_staff,
    read_staff,
)
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError
from myna.platform.logging import get_logger
from myna.platform.sessions import STAFF, BrowserSession, SessionStore
from myna.platform.settings import Settings

log = get_logger(__name__)

# Who may register and remove staff cards: the municipality's system administrators.
CARD_ADMINISTRATORS = frozenset({StaffRole.ADMIN})


class NotAdministratorError(OfficeError):
    code = "not_administrator"
    message = N_(
        "Only an administrator of the municipality can register or remove staff cards. "
        "Please ask your administrator."
    )
    status_code = 403


class StaffMemberNotFoundError(OfficeError):
    code = "staff_member_not_found"
    message = N_(
        "This staff member is not one of your municipality's. Please choose one from the "
        "staff list."
    )
    status_code = 404


class StaffCardNotFoundError(OfficeError):
    code = "staff_card_not_found"
    message = N_("This card registration does not exist; it may have been removed already.")
    status_code = 404


class CardAlreadyRegisteredError(OfficeError):
    code = "card_already_registered"
    message = N_(
        "This card's certificate is already registered to a staff account. Remove that "
        "registration first, or present another card."
    )
    status_code = 409


class CardNotRegisteredError(OfficeError):
    code = "card_not_registered"
    message = N_(
        "This MyNumber card is not registered to any back-office account. Ask your "
        "municipality's administrator to register it, or log in with your login ID, "
        "password and one-time code."
    )
    status_code = 403


class CardRevokedError(OfficeError):
    code = "card_revoked"
    message = N_(
        "The card's user-authentication certificate has been revoked, so the card cannot "
        "be used. Log in with your password and one-time code, and ask your administrator "
        "to register your new card."
    )
    status_code = 403


class CardExpiredError(OfficeError):
    code = "card_expired"
    message = N_(
        "The card's user-authentication certificate has expired, so the card cannot be "
        "used. Log in with your password and one-time code, and ask your administrator to "
        "register the card again once its certificate has been renewed."
    )
    status_code = 403


class CardRefusedError(OfficeError):
    code = "card_refused"
    message = N_(
        "The card's answer was not accepted (the certificate or the signature did not "
        "verify). Please start again; if it happens again, log in with your password and "
        "one-time code."
    )
    status_code = 400


@dataclass(frozen=True, slots=True)
class StaffCardRead:
    """A registered staff card as the administrator's page shows it."""

    id: int
    certificate_serial: str
    certificate_subject: str
    certificate_not_after: datetime
    registered_at: datetime
    registered_by: str | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class StaffCards:
    """A staff member and the cards registered as their staff ID."""

    staff: StaffRead
    cards: tuple[StaffCardRead, ...]


# --- the administrator's side: registering and removing ------------------------------


def staff_cards(*, session: Session, admin_id: int, staff_id: int) -> StaffCards:
    """The staff member's registered cards, for an administrator of their municipality."""
    member = _member(session, admin_id, staff_id)
    rows = session.scalars(
        select(StaffCard).where(StaffCard.staff_id == member.id).order_by(StaffCard.registered_at)
    ).all()
    registrars = {r.registered_by for r in rows if r.registered_by is not None}
    names = {
        row.id: row.display_name
        for row in session.execute(
            select(StaffMember.id, StaffMember.display_name).where(StaffMember.id.in_(registrars))
        )
    }
    cards = tuple(
        StaffCardRead(
            id=row.id,
            certificate_serial=row.certificate_serial,
            certificate_subject=row.certificate_subject,
            certificate_not_after=row.certificate_not_after,
            registered_at=row.registered_at,
            registered_by=names.get(row.registered_by) if row.registered_by else None,
            last_used_at=row.last_used_at,
        )
        for row in rows
    )
    return StaffCards(staff=member, cards=cards)


def start_registration(
    *, session: Session, settings: Settings, admin_id: int, staff_id: int, session_token: str
) -> ChallengeView:
    """A challenge for the staff member's card, bound to the administrator's session."""
    _member(session, admin_id, staff_id)
    return cardlogin.start_challenge(
        session=session,
        settings=settings,
        session_token=session_token,
        audience=Audience.STAFF_CARD,
        subject=str(staff_id),
    )


def registration_status(
    *, session: Session, admin_id: int, staff_id: int, challenge_id: str, session_token: str
) -> ChallengeStatus:
    """Whether the presented card has answered yet (for the administrator's page)."""
    _member(session, admin_id, staff_id)
    return cardlogin.challenge_status(
        session=session,
        challenge_id=challenge_id,
        session_token=session_token,
        audience=Audience.STAFF_CARD,
        subject=str(staff_id),
    )


def presented_card(
    *, session: Session, admin_id: int, staff_id: int, challenge_id: str, session_token: str
) -> ProvenCard:
    """The certificate the presented card proved, for the administrator to confirm.

    While the card has not answered: ChallengeNotVerifiedError. A refused answer comes
    back as the reason (a revoked or expired certificate...).
    """
    _member(session, admin_id, staff_id)
    with _refusals():
        return cardlogin.peek_verified(
            session=session,
            challenge_id=challenge_id,
            session_token=session_token,
            audience=Audience.STAFF_CARD,
            subject=str(staff_id),
        )


def register_card(
    *, session: Session, admin_id: int, staff_id: int, challenge_id: str, session_token: str
) -> StaffCardRead:
    """The administrator confirms: the proven certificate becomes the member's staff ID."""
    member = _member(session, admin_id, staff_id)
    with _refusals():
        proven = cardlogin.take_verified(
            session=session,
            challenge_id=challenge_id,
            session_token=session_token,
            audience=Audience.STAFF_CARD,
            subject=str(staff_id),
        )
    taken = session.scalar(
        select(StaffCard.staff_id).where(StaffCard.certificate_serial == proven.serial)
    )
    if taken is not None:
        raise CardAlreadyRegisteredError
    now = utcnow()
    row = StaffCard(
        staff_id=member.id,
        certificate_serial=proven.serial,
        certificate_subject=proven.subject,
        certificate_not_after=proven.not_after,
        registered_by=admin_id,
        registered_at=now,
    )
    session.add(row)
    session.flush()
    # The audit line: who registered which certificate to whom (no personal data).
    log.info(
        "office_staff_card_registered",
        admin_id=admin_id,
        staff_id=member.id,
        card_id=row.id,
        serial=proven.serial,
        challenge=challenge_id,
    )
    admin = get_staff(session=session, staff_id=admin_id)
    return StaffCardRead(
        id=row.id,
        certificate_serial=row.certificate_serial,
        certificate_subject=row.certificate_subject,
        certificate_not_after=row.certificate_not_after,
        registered_at=now,
        registered_by=admin.display_name,
        last_used_at=None,
    )


def remove_card(*, session: Session, admin_id: int, staff_id: int, card_id: int) -> None:
    """Remove a registration: that certificate no longer logs the member in."""
    member = _member(session, admin_id, staff_id)
    row = session.get(StaffCard, card_id)
    if row is None or row.staff_id != member.id:
        raise StaffCardNotFoundError
    serial = row.certificate_serial
    session.delete(row)
    log.info(
        "office_staff_card_removed",
        admin_id=admin_id,
        staff_id=member.id,
        card_id=card_id,
        serial=serial,
    )


def _member(session: Session, admin_id: int, staff_id: int) -> StaffRead:
    """The staff member, if ``admin_id`` administers their municipality.

    Another municipality's staff member is "not found", as its applications are: an
    administrator cannot learn who works elsewhere.
    """
    admin = get_staff(session=session, staff_id=admin_id)
    if admin.role not in CARD_ADMINISTRATORS:
        raise NotAdministratorError
    row = session.get(StaffMember, staff_id)
    if row is None or row.municipality_code != admin.municipality_code:
        raise StaffMemberNotFoundError
    return read_staff(row)


# --- the staff member's side: logging in -------------------------------------------------


def start_login(*, session: Session, settings: Settings, session_token: str) -> ChallengeView:
    """A staff login challenge bound to the (not yet logged-in) back-office session."""
    return cardlogin.start_challenge(
        session=session, settings=settings, session_token=session_token, audience=Audience.STAFF
    )


def login_status(*, session: Session, challenge_id: str, session_token: str) -> ChallengeStatus:
    """Whether the card has answered the staff login challenge yet."""
    return cardlogin.challenge_status(
        session=session,
        challenge_id=challenge_id,
        session_token=session_token,
        audience=Audience.STAFF,
    )


def is_login_challenge(*, session: Session, challenge_id: str, session_token: str) -> bool:
    """Whether the staff login challenge belongs to this session (its QR code is shown)."""
    return cardlogin.is_bound(
        session=session,
        challenge_id=challenge_id,
        session_token=session_token,
        audience=Audience.STAFF,
    )


def is_registration_challenge(*, session: Session, challenge_id: str, session_token: str) -> bool:
    """Whether the card registration challenge belongs to this session."""
    return cardlogin.is_bound(
        session=session,
        challenge_id=challenge_id,
        session_token=session_token,
        audience=Audience.STAFF_CARD,
    )


def card_login(
    *, session: Session, sessions: SessionStore, session_token: str, challenge_id: str
) -> BrowserSession:
    """Log in with a verified card: its staff member's session, with a new token.

    The challenge is consumed whatever the outcome (the caller commits a refusal too).
    Refused: a card whose answer did not verify (revoked, expired...), a certificate
    registered to no account, a disabled or a locked account.
    """
    with _refusals():
        proven = cardlogin.take_verified(
            session=session,
            challenge_id=challenge_id,
            session_token=session_token,
            audience=Audience.STAFF,
        )
    now = utcnow()
    if proven.not_after <= now:
        raise CardExpiredError
    card = session.scalar(select(StaffCard).where(StaffCard.certificate_serial == proven.serial))
    if card is None or card.certificate_subject != proven.subject:
        log.warning("office_card_login_refused", reason="not_registered", serial=proven.serial)
        raise CardNotRegisteredError
    member = session.get(StaffMember, card.staff_id, with_for_update=True)
    if member is None:  # pragma: no cover - the registration goes with the account
        raise CardNotRegisteredError
    try:
        check_may_log_in(member, now)
    except OfficeError as error:
        log.warning("office_card_login_refused", reason=error.code, staff_id=member.id)
        raise
    # A full login, like a right one-time code: earlier password failures are forgiven.
    member.failed_attempts = 0
    member.locked_until = None
    card.last_used_at = now
    log.info("office_login", staff_id=member.id, method="card", serial=proven.serial)
    return sessions.rotate(
        session,
        STAFF,
        old_token=session_token,
        subject_id=member.id,
        certificate_serial=proven.serial,
        certificate_not_after=proven.not_after,
    )


@contextmanager
def _refusals() -> Iterator[None]:
    """Turn a refused card answer into the back office's words for it."""
    try:
        yield
    except cardlogin.ChallengeFailedError as error:
        raise _refusal(error.failure) from error


def _refusal(failure: str) -> MynaError:
    if failure == "revoked":
        return CardRevokedError()
    if failure == "expired":
        return CardExpiredError()
    if failure == "challenge_expired":
        return cardlogin.ChallengeExpiredError()
    return CardRefusedError()
