"""Card use cases: issuance (交付), the municipality's PIN reset, and a loss report."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.orm import Session

from myna import jpki, phone, registry
from myna.card import cardfile
from myna.card.domain import (
    CardSurface,
    KeyKind,
    ResidentNotEligibleError,
    card_expiry,
    validate_secret,
)
from myna.card.interfaces import CardSummary
from myna.card.virtual import VirtualCard, VirtualCardReader
from myna.platform.db import utcnow
from myna.platform.logging import get_logger
from myna.platform.settings import Settings

log = get_logger(__name__)

# The card's face shows dates as the municipality issued them, in Japan Standard Time.
JST = timezone(timedelta(hours=9), "JST")


def generate_chip_key() -> rsa.RSAPrivateKey:
    """An RSA-2048 key pair generated "on the chip" (e = 65537)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def issue_card(
    *,
    session: Session,
    settings: Settings,
    resident_id: int,
    pin: str,
    password: str,
    now: datetime | None = None,
) -> CardSummary:
    """Issue a MyNumber card with both JPKI certificates to a registered resident."""
    validate_secret(KeyKind.AUTH, pin)
    validate_secret(KeyKind.SIGN, password)
    now = now or utcnow()
    resident = registry.get_resident(session=session, resident_id=resident_id)
    if resident.status != registry.ResidentStatus.ACTIVE:
        raise ResidentNotEligibleError
    jpki.ensure_authorities(session=session, settings=settings)

    card_id = cardfile.new_card_id()
    keys = {kind: generate_chip_key() for kind in KeyKind}
    basic_info = jpki.BasicInfo(
        name=resident.full_name,
        name_substitute=resident.full_name,
        sex=int(resident.sex),
        birth_date=resident.birth_date,
        address=resident.full_address,
    )
    certificates = {
        kind: jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=jpki.CertificateKind(str(kind)),
            public_key=keys[kind].public_key(),
            holder_id=resident.id,
            card_id=card_id,
            birth_date=resident.birth_date,
            # The user-authentication certificate carries no personal data.
            basic_info=basic_info if kind is KeyKind.SIGN else None,
            now=now,
        )
        for kind in KeyKind
    }
    issued_on = now.astimezone(JST).date()
    card = VirtualCard.create(
        card_id=card_id,
        issued_at=now,
        surface=_surface(resident, issued_on),
        keys=keys,
        certificates=certificates,
        secrets={KeyKind.AUTH: pin, KeyKind.SIGN: password},
        card_secret=settings.card_secret.get_secret_value(),
    )
    summary = VirtualCardReader.from_settings(settings).insert(card)
    log.info("card.issued", card_id=card_id)
    return summary


def _surface(resident: registry.ResidentRead, issued_on: date) -> CardSurface:
    """The card's face (券面) as printed on ``issued_on``."""
    return CardSurface(
        holder_name=resident.full_name,
        holder_name_kana=resident.full_name_kana,
        address=resident.full_address,
        birth_date=resident.birth_date,
        sex=int(resident.sex),
        expires_on=card_expiry(resident.birth_date, issued_on),
        municipality_code=resident.municipality_code,
        municipality_name=resident.municipality_name,
    )


def reset_pin(*, settings: Settings, card_id: str, kind: str, new_secret: str) -> CardSummary:
    """The municipality's reset (初期化): a new PIN or password and the counter at zero."""
    summary = VirtualCardReader.from_settings(settings).reset_secret(card_id, kind, new_secret)
    log.info("card.pin_reset", card_id=card_id, kind=str(KeyKind(kind)))
    return summary


def report_lost(*, session: Session, settings: Settings, card_id: str) -> None:
    """Revoke both certificates of a lost card (reason: loss, RFC 5280 §5.3.1 keyCompromise).

    The card file need not be present: the card is lost; JPKI knows it by its id. A
    phone credential issued from the card loses its certificates with it.
    """
    del settings  # the revocation lives in JPKI; the card file is not consulted
    jpki.revoke_for_card(
        session=session,
        card_id=card_id,
        kinds=[jpki.CertificateKind.AUTH, jpki.CertificateKind.SIGN],
        reason=jpki.RevocationReason.LOSS,
    )
    phone.revoke_for_card(session=session, card_id=card_id)
    log.info("card.reported_lost", card_id=card_id)
