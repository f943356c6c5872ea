"""Issuing cards through the real registry and JPKI, signing, resetting, reporting a loss."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509
from sqlalchemy.orm import Session

from myna import jpki, registry
from myna.card import (
    CardLockedError,
    InvalidPinFormatError,
    KeyKind,
    VirtualCardReader,
    WrongPinError,
    issue_card,
    report_lost,
    reset_pin,
)
from myna.platform.settings import Settings

PIN = "1234"
PASSWORD = "MYNA2026"


@pytest.fixture
def taro(session: Session) -> registry.ResidentRead:
    return registry.ensure_personas(session=session)["taro"]


@pytest.fixture
def card_id(session: Session, settings: Settings, taro: registry.ResidentRead) -> str:
    summary = issue_card(
        session=session,
        settings=settings,
        resident_id=taro.id,
        pin=PIN,
        password=PASSWORD,
    )
    return summary.card_id


@pytest.fixture
def reader(settings: Settings) -> VirtualCardReader:
    return VirtualCardReader.from_settings(settings)


def test_an_issued_card_shows_its_holder_and_is_unlocked(
    reader: VirtualCardReader, card_id: str, taro: registry.ResidentRead
) -> None:
    (summary,) = reader.list_cards()
    assert summary.card_id == card_id
    assert summary.holder_name == taro.full_name
    assert summary.municipality == taro.municipality_name
    assert summary.expires_on > datetime.now(UTC).date()
    assert (summary.auth_tries_left, summary.sign_tries_left) == (3, 5)
    card = reader.load(card_id)
    assert card.surface.address == taro.full_address
    assert card.surface.birth_date == taro.birth_date


def test_issued_verifiers_take_the_deployments_work_factor(
    reader: VirtualCardReader, card_id: str, settings: Settings
) -> None:
    card = reader.load(card_id)
    assert {app.verifier["n"] for app in card.applications.values()} == {
        2**settings.card_pin_work_factor
    }
    assert settings.card_pin_work_factor != Settings.model_fields["card_pin_work_factor"].default


def test_the_auth_signature_verifies_against_the_auth_certificate(
    reader: VirtualCardReader, card_id: str
) -> None:
    certificate = reader.read_certificate(card_id, KeyKind.AUTH)
    signature = reader.sign(card_id, KeyKind.AUTH, PIN, b"login challenge")
    jpki.verify_signature(certificate=certificate, data=b"login challenge", signature=signature)


def test_a_signature_over_other_data_does_not_verify(
    reader: VirtualCardReader, card_id: str
) -> None:
    certificate = reader.read_certificate(card_id, KeyKind.SIGN)
    signature = reader.sign(card_id, KeyKind.SIGN, PASSWORD, b"the application")
    jpki.verify_signature(certificate=certificate, data=b"the application", signature=signature)
    with pytest.raises(jpki.VerificationError):
        jpki.verify_signature(certificate=certificate, data=b"another text", signature=signature)


def test_the_auth_certificate_carries_no_personal_data(
    reader: VirtualCardReader, card_id: str, taro: registry.ResidentRead
) -> None:
    certificate = reader.read_certificate(card_id, KeyKind.AUTH)
    with pytest.raises(x509.ExtensionNotFound):
        certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert taro.family_name not in certificate.subject.rfc4514_string()


def test_the_signing_certificate_carries_the_residents_basic_four_info(
    reader: VirtualCardReader, card_id: str, taro: registry.ResidentRead
) -> None:
    certificate = reader.read_certificate(card_id, KeyKind.SIGN)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    info = jpki.BasicInfo.from_other_names(names.get_values_for_type(x509.OtherName))
    assert info.name == taro.full_name
    assert info.address == taro.full_address
    assert info.birth_date == taro.birth_date
    assert info.sex == int(taro.sex)


def test_jpki_knows_the_certificates_as_this_cards_and_this_residents(
    session: Session,
    settings: Settings,
    reader: VirtualCardReader,
    card_id: str,
    taro: registry.ResidentRead,
) -> None:
    for kind in KeyKind:
        certificate = reader.read_certificate(card_id, kind)
        verified = jpki.verify_certificate(
            session=session,
            settings=settings,
            certificate=certificate,
            kind=jpki.CertificateKind(kind),
        )
        assert (verified.card_id, verified.holder_id) == (card_id, taro.id)
        assert verified.serial == certificate.serial_number
        assert verified.kind == jpki.CertificateKind(kind)


def test_issuance_refuses_a_malformed_secret_before_issuing_anything(
    session: Session, settings: Settings, taro: registry.ResidentRead, reader: VirtualCardReader
) -> None:
    with pytest.raises(InvalidPinFormatError):
        issue_card(
            session=session, settings=settings, resident_id=taro.id, pin="12", password=PASSWORD
        )
    with pytest.raises(InvalidPinFormatError):
        issue_card(
            session=session, settings=settings, resident_id=taro.id, pin=PIN, password="lower1"
        )
    assert reader.list_cards() == []


def test_the_municipality_reset_unlocks_a_locked_card(
    settings: Settings, reader: VirtualCardReader, card_id: str
) -> None:
    for _ in range(2):
        with pytest.raises(WrongPinError):
            reader.open_session(card_id, KeyKind.AUTH, "9999")
    with pytest.raises(CardLockedError):
        reader.open_session(card_id, KeyKind.AUTH, "9999")
    summary = reset_pin(settings=settings, card_id=card_id, kind="auth", new_secret="2468")
    assert not summary.auth_locked
    assert reader.open_session(
        card_id, KeyKind.AUTH, "2468"
    ).certificate == reader.read_certificate(card_id, KeyKind.AUTH)


def test_a_card_reported_lost_has_both_certificates_revoked(
    session: Session, settings: Settings, reader: VirtualCardReader, card_id: str
) -> None:
    report_lost(session=session, settings=settings, card_id=card_id)
    for kind in KeyKind:
        with pytest.raises(jpki.VerificationError):
            jpki.verify_certificate(
                session=session,
                settings=settings,
                certificate=reader.read_certificate(card_id, kind),
                kind=jpki.CertificateKind(kind),
            )
