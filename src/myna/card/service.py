"""Card use cases: issuance (交付), re-issue of the signing certificate, PIN reset, loss."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.orm import Session

from myna import jpki, phone, registry
from myna.card import cardfile
from myna.card.domain import (
    CardSurface,
    KeyKind,
    OtherMunicipalityCardError,
    ReissueNotEligibleError,
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
    basic_info = _basic_info(resident)
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
        pin_work_factor=settings.card_pin_work_factor,
    )
    summary = VirtualCardReader.from_settings(settings).insert(card)
    log.info("card.issued", card_id=card_id)
    return summary


def _basic_info(resident: registry.ResidentRead) -> jpki.BasicInfo:
    """The basic 4 info of the resident's record, as a signing certificate carries them."""
    return jpki.BasicInfo(
        name=resident.full_name,
        name_substitute=resident.full_name,
        sex=int(resident.sex),
        birth_date=resident.birth_date,
        address=resident.full_address,
    )


def reissue_signing(
    *,
    session: Session,
    settings: Settings,
    card_id: str,
    password: str,
    municipality_code: str | None = None,
    now: datetime | None = None,
) -> CardSummary:
    """Re-issue the signing certificate onto the holder's card at the counter (再発行).

    A new key pair is generated on the chip, J-LIS issues a certificate with the
    registry's current 4 info and links it to the previous one, and the card gets the
    new key, certificate and signing password (set by the holder at the counter) and its
    face's new entries; the user-authentication key and certificate stay as they are.
    ``municipality_code`` is the counter's: another municipality's resident is refused.
    """
    validate_secret(KeyKind.SIGN, password)
    now = now or utcnow()
    reader = VirtualCardReader.from_settings(settings)
    card = reader.load(card_id)
    holder_id = jpki.card_holder(session=session, card_id=card_id)
    resident = registry.get_resident(session=session, resident_id=holder_id)
    if municipality_code is not None and resident.municipality_code != municipality_code:
        raise OtherMunicipalityCardError
    if resident.status != registry.ResidentStatus.ACTIVE:
        raise ReissueNotEligibleError
    key = generate_chip_key()
    certificate = jpki.reissue_signing_certificate(
        session=session,
        settings=settings,
        card_id=card_id,
        public_key=key.public_key(),
        basic_info=_basic_info(resident),
        now=now,
    )
    # The face's entries as the municipality updated them; the card's own expiry stays:
    # a re-issue changes the certificate, not the card.
    surface = replace(
        _surface(resident, now.astimezone(JST).date()), expires_on=card.surface.expires_on
    )
    summary = reader.replace_signing(
        card_id, key=key, certificate=certificate, password=password, surface=surface
    )
    log.info("card.signing_reissued", card_id=card_id)
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
