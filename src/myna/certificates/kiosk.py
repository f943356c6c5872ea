"""コンビニ交付: a kiosk session, the card that opens it, the certificates it issues.

A multifunction copier asks for a session and gets a nonce; the resident puts the card on
the reader and enters the PIN, and the card signs ``card.protocol.kiosk_message`` with its
user-authentication key. The certificate and the signature are checked by ``jpki``
(chain, validity, key usage, revocation; RSASSA-PKCS1-v1_5 over SHA-256), once per
session; from then on the session may issue the holder's own certificates until the card
is taken out or the session expires.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from myna import jpki, network, registry
from myna.card.protocol import kiosk_message
from myna.certificates import service
from myna.certificates.domain import (
    FEES,
    KIOSK_SESSION_MINUTES,
    CertificateKind,
    Door,
    KioskAlreadyIdentifiedError,
    KioskCardRefusedError,
    KioskNotIdentifiedError,
    KioskSessionUnknownError,
    ResidentRecordOptions,
)
from myna.certificates.models import KioskSession
from myna.platform.db import utcnow
from myna.platform.settings import Settings


@dataclass(frozen=True, slots=True)
class Opened:
    """A new kiosk session: what the card signs, and until when it waits."""

    session_id: str
    kiosk_id: str
    nonce: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    """A member of the card holder's household, as the kiosk offers them."""

    id: int
    name: str
    relation: str
    is_holder: bool


@dataclass(frozen=True, slots=True)
class Identified:
    """The card holder's choices: their household and the kiosk's fees."""

    session_id: str
    holder_name: str
    municipality_name: str
    members: tuple[Member, ...]
    fees: dict[CertificateKind, int]
    expires_at: datetime


def open_session(*, session: Session, kiosk_id: str) -> Opened:
    """A new session at kiosk ``kiosk_id``, waiting for a card."""
    now = utcnow()
    row = KioskSession(
        id=secrets.token_urlsafe(18),
        kiosk_id=kiosk_id,
        nonce=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(minutes=KIOSK_SESSION_MINUTES),
    )
    session.add(row)
    session.flush()
    return Opened(row.id, row.kiosk_id, row.nonce, row.expires_at)


def _open(session: Session, session_id: str) -> KioskSession:
    row = session.get(KioskSession, session_id)
    if row is None or row.ended_at is not None or row.expires_at <= utcnow():
        raise KioskSessionUnknownError
    return row


def _identified_view(session: Session, row: KioskSession, holder: int) -> Identified:
    resident = registry.get_resident(session=session, resident_id=holder)
    household = service.household_of(session=session, resident_id=holder)
    return Identified(
        session_id=row.id,
        holder_name=resident.full_name,
        municipality_name=resident.municipality_name,
        members=tuple(
            Member(m.id, m.full_name, m.relation.value, is_holder=m.id == holder) for m in household
        ),
        fees=dict(FEES[Door.KIOSK]),
        expires_at=row.expires_at,
    )


def identify(
    *,
    session: Session,
    settings: Settings,
    session_id: str,
    certificate: bytes,
    signature: bytes,
) -> Identified:
    """The card's answer: a valid user-authentication certificate and its signature."""
    row = _open(session, session_id)
    if row.resident_id is not None:
        raise KioskAlreadyIdentifiedError
    now = utcnow()
    try:
        verified = jpki.verify_certificate(
            session=session,
            settings=settings,
            certificate=certificate,
            kind=jpki.CertificateKind.AUTH,
            at=now,
        )
        jpki.verify_signature(
            certificate=certificate,
            data=kiosk_message(kiosk_id=row.kiosk_id, session_id=row.id, nonce=row.nonce),
            signature=signature,
        )
    except jpki.VerificationError as exc:
        raise KioskCardRefusedError from exc
    resident = registry.get_resident(session=session, resident_id=verified.holder_id)
    if resident.status is not registry.ResidentStatus.ACTIVE:
        raise registry.ResidentNotActiveError
    won = session.execute(
        update(KioskSession)
        .where(KioskSession.id == row.id, KioskSession.resident_id.is_(None))
        .values(
            resident_id=verified.holder_id,
            certificate_serial=f"{verified.serial:040x}",
            identified_at=now,
        )
    )
    if getattr(won, "rowcount", 0) != 1:
        raise KioskAlreadyIdentifiedError
    return _identified_view(session, row, verified.holder_id)


def identified(*, session: Session, session_id: str) -> Identified:
    """The open, identified session ``session_id`` (the menu's choices)."""
    row = _open(session, session_id)
    if row.resident_id is None:
        raise KioskNotIdentifiedError
    return _identified_view(session, row, row.resident_id)


def issue(
    *,
    session: Session,
    settings: Settings,
    hub: network.Hub,
    session_id: str,
    kind: CertificateKind,
    options: ResidentRecordOptions,
) -> service.Issued:
    """Issue the card holder's certificate at the kiosk (the fee is the kiosk's)."""
    row = _open(session, session_id)
    if row.resident_id is None:
        raise KioskNotIdentifiedError
    return service.issue(
        session=session,
        settings=settings,
        hub=hub,
        resident_id=row.resident_id,
        kind=kind,
        door=Door.KIOSK,
        options=options,
    )


def end(*, session: Session, session_id: str) -> None:
    """The card is taken out: the session issues nothing more."""
    row = session.get(KioskSession, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.flush()
