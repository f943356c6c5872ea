"""The virtual card and its reader: PIN sessions, lockout, restarts and file integrity."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from myna.card import cardfile
from myna.card.domain import (
    CardDamagedError,
    CardLockedError,
    CardNotFoundError,
    CardSurface,
    InvalidPinFormatError,
    KeyKind,
    WrongPinError,
)
from myna.card.interfaces import CardReader
from myna.card.virtual import VirtualCard, VirtualCardReader

CARD_SECRET = "unit-test-card-secret"
PIN = "1234"
PASSWORD = "ABC123XYZ"
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def _self_signed(key: rsa.RSAPrivateKey, name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365 * 5))
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def keys() -> dict[KeyKind, rsa.RSAPrivateKey]:
    return {
        kind: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kind in KeyKind
    }


@pytest.fixture(scope="module")
def certificates(keys: dict[KeyKind, rsa.RSAPrivateKey]) -> dict[KeyKind, x509.Certificate]:
    return {kind: _self_signed(key, f"test {kind}") for kind, key in keys.items()}


SURFACE = CardSurface(
    holder_name="山田 太郎",
    holder_name_kana="ヤマダ タロウ",
    address="東京都千代田区霞が関一丁目1番1号",
    birth_date=date(1985, 4, 1),
    sex=1,
    expires_on=date(2036, 4, 1),
    municipality_code="131016",
    municipality_name="千代田区",
)


@pytest.fixture
def card_dir(tmp_path: Path) -> Path:
    return tmp_path / "cards"


@pytest.fixture
def reader(card_dir: Path) -> VirtualCardReader:
    return VirtualCardReader(card_dir, CARD_SECRET)


@pytest.fixture
def card_id(
    reader: VirtualCardReader,
    keys: dict[KeyKind, rsa.RSAPrivateKey],
    certificates: dict[KeyKind, x509.Certificate],
) -> str:
    card = VirtualCard.create(
        card_id=cardfile.new_card_id(),
        issued_at=NOW,
        surface=SURFACE,
        keys=keys,
        certificates=certificates,
        secrets={KeyKind.AUTH: PIN, KeyKind.SIGN: PASSWORD},
        card_secret=CARD_SECRET,
    )
    reader.insert(card)
    return card.card_id


def _document(card_dir: Path, card_id: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(cardfile.card_path(card_dir, card_id).read_text())
    return document


def _write(card_dir: Path, card_id: str, document: dict[str, Any]) -> None:
    cardfile.card_path(card_dir, card_id).write_text(json.dumps(document))


def _wrong_tries(
    reader: VirtualCardReader, card_id: str, kind: KeyKind, secret: str, n: int
) -> None:
    for _ in range(n):
        with pytest.raises(WrongPinError):
            reader.open_session(card_id, kind, secret)


def test_the_virtual_reader_satisfies_the_card_reader_port(reader: VirtualCardReader) -> None:
    port: CardReader = reader
    assert port.list_cards() == []


def test_a_correct_pin_opens_a_session_whose_signature_verifies(
    reader: VirtualCardReader, card_id: str, certificates: dict[KeyKind, x509.Certificate]
) -> None:
    session = reader.open_session(card_id, KeyKind.AUTH, PIN)
    assert session.certificate == certificates[KeyKind.AUTH]
    signature = session.sign(b"challenge")
    public_key = certificates[KeyKind.AUTH].public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, b"challenge", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        public_key.verify(signature, b"another", padding.PKCS1v15(), hashes.SHA256())


def test_the_signing_key_signs_with_the_signing_password(
    reader: VirtualCardReader, card_id: str, certificates: dict[KeyKind, x509.Certificate]
) -> None:
    signature = reader.sign(card_id, "sign", PASSWORD, b"application")
    public_key = certificates[KeyKind.SIGN].public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, b"application", padding.PKCS1v15(), hashes.SHA256())


def test_a_wrong_pin_reports_the_tries_left(reader: VirtualCardReader, card_id: str) -> None:
    with pytest.raises(WrongPinError) as caught:
        reader.open_session(card_id, KeyKind.AUTH, "0000")
    assert caught.value.remaining == 2
    assert reader.summary(card_id).auth_tries_left == 2
    assert reader.summary(card_id).sign_tries_left == 5


def test_the_auth_pin_locks_after_three_wrong_tries(
    reader: VirtualCardReader, card_id: str
) -> None:
    _wrong_tries(reader, card_id, KeyKind.AUTH, "0000", 2)
    with pytest.raises(CardLockedError):
        reader.open_session(card_id, KeyKind.AUTH, "0000")
    with pytest.raises(CardLockedError):
        reader.open_session(card_id, KeyKind.AUTH, PIN)
    summary = reader.summary(card_id)
    assert summary.auth_locked
    assert not summary.sign_locked
    reader.open_session(card_id, KeyKind.SIGN, PASSWORD)


def test_the_signing_password_locks_after_five_wrong_tries(
    reader: VirtualCardReader, card_id: str
) -> None:
    _wrong_tries(reader, card_id, KeyKind.SIGN, "WRONG1", 4)
    with pytest.raises(CardLockedError) as caught:
        reader.open_session(card_id, KeyKind.SIGN, "WRONG1")
    assert "signing password is locked" in str(caught.value)
    with pytest.raises(CardLockedError):
        reader.sign(card_id, KeyKind.SIGN, PASSWORD, b"x")
    assert reader.summary(card_id).sign_locked


def test_a_correct_entry_resets_the_count(reader: VirtualCardReader, card_id: str) -> None:
    _wrong_tries(reader, card_id, KeyKind.AUTH, "0000", 2)
    reader.open_session(card_id, KeyKind.AUTH, PIN)
    assert reader.summary(card_id).auth_tries_left == 3
    _wrong_tries(reader, card_id, KeyKind.AUTH, "0000", 2)
    assert not reader.summary(card_id).auth_locked


def test_a_malformed_pin_costs_no_try(reader: VirtualCardReader, card_id: str) -> None:
    for malformed in ("12", "abcd", "12345"):
        with pytest.raises(InvalidPinFormatError):
            reader.open_session(card_id, KeyKind.AUTH, malformed)
    assert reader.summary(card_id).auth_tries_left == 3


def test_the_lock_persists_across_a_restart(
    reader: VirtualCardReader, card_id: str, card_dir: Path
) -> None:
    _wrong_tries(reader, card_id, KeyKind.AUTH, "9999", 2)
    with pytest.raises(CardLockedError):
        reader.open_session(card_id, KeyKind.AUTH, "9999")
    restarted = VirtualCardReader(card_dir, CARD_SECRET)
    with pytest.raises(CardLockedError):
        restarted.open_session(card_id, KeyKind.AUTH, PIN)
    assert restarted.summary(card_id).auth_locked


def test_a_reset_unlocks_with_the_new_pin_only(reader: VirtualCardReader, card_id: str) -> None:
    _wrong_tries(reader, card_id, KeyKind.AUTH, "0000", 2)
    with pytest.raises(CardLockedError):
        reader.open_session(card_id, KeyKind.AUTH, "0000")
    summary = reader.reset_secret(card_id, KeyKind.AUTH, "4321")
    assert not summary.auth_locked
    assert summary.auth_tries_left == 3
    with pytest.raises(WrongPinError):
        reader.open_session(card_id, KeyKind.AUTH, PIN)
    reader.open_session(card_id, KeyKind.AUTH, "4321")


def test_a_reset_refuses_a_malformed_new_password(reader: VirtualCardReader, card_id: str) -> None:
    with pytest.raises(InvalidPinFormatError):
        reader.reset_secret(card_id, KeyKind.SIGN, "short")
    reader.open_session(card_id, KeyKind.SIGN, PASSWORD)


def test_an_edited_counter_makes_the_card_damaged(
    reader: VirtualCardReader, card_id: str, card_dir: Path
) -> None:
    _wrong_tries(reader, card_id, KeyKind.AUTH, "0000", 2)
    document = _document(card_dir, card_id)
    document["applications"]["auth"]["failures"] = 0
    _write(card_dir, card_id, document)
    with pytest.raises(CardDamagedError):
        reader.open_session(card_id, KeyKind.AUTH, PIN)


def test_a_swapped_key_makes_the_card_damaged(
    reader: VirtualCardReader, card_id: str, card_dir: Path
) -> None:
    document = _document(card_dir, card_id)
    applications = document["applications"]
    applications["auth"]["private_key"], applications["sign"]["private_key"] = (
        applications["sign"]["private_key"],
        applications["auth"]["private_key"],
    )
    _write(card_dir, card_id, document)
    with pytest.raises(CardDamagedError):
        reader.open_session(card_id, KeyKind.AUTH, PIN)


def test_a_card_file_copied_under_another_id_is_damaged(
    reader: VirtualCardReader, card_id: str, card_dir: Path
) -> None:
    other = cardfile.new_card_id()
    cardfile.card_path(card_dir, other).write_bytes(
        cardfile.card_path(card_dir, card_id).read_bytes()
    )
    with pytest.raises(CardDamagedError):
        reader.open_session(other, KeyKind.AUTH, PIN)


def test_a_truncated_file_is_damaged(
    reader: VirtualCardReader, card_id: str, card_dir: Path
) -> None:
    path = cardfile.card_path(card_dir, card_id)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CardDamagedError):
        reader.summary(card_id)


def test_a_reader_with_another_card_secret_cannot_use_the_card(
    card_id: str, card_dir: Path
) -> None:
    stranger = VirtualCardReader(card_dir, "another-deployment-secret")
    with pytest.raises(CardDamagedError):
        stranger.open_session(card_id, KeyKind.AUTH, PIN)


def test_the_keys_do_not_open_without_the_card_secret(card_id: str, card_dir: Path) -> None:
    document = _document(card_dir, card_id)
    sealed = document["applications"]["auth"]["private_key"]
    assert sealed.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(ValueError):
        cardfile.decrypt_private_key(sealed, cardfile.key_passphrase("guess", card_id, "auth"))
    key = cardfile.decrypt_private_key(
        sealed, cardfile.key_passphrase(CARD_SECRET, card_id, "auth")
    )
    assert key.key_size == 2048


def test_the_file_holds_neither_the_pin_nor_the_password(card_id: str, card_dir: Path) -> None:
    text = cardfile.card_path(card_dir, card_id).read_text()
    assert PASSWORD not in text
    assert f'"{PIN}"' not in text
    assert "BEGIN PRIVATE KEY" not in text
    assert "BEGIN RSA PRIVATE KEY" not in text


@pytest.mark.parametrize("card_id", ["0123456789abcdef0123", "../../etc/passwd", "", "ABC"])
def test_an_unknown_or_malformed_card_id_is_not_found(
    reader: VirtualCardReader, card_id: str
) -> None:
    with pytest.raises(CardNotFoundError):
        reader.open_session(card_id, KeyKind.AUTH, PIN)
    with pytest.raises(CardNotFoundError):
        reader.read_certificate(card_id, KeyKind.AUTH)


def test_the_card_list_shows_usable_cards_and_skips_damaged_ones(
    reader: VirtualCardReader,
    card_id: str,
    card_dir: Path,
    certificates: dict[KeyKind, x509.Certificate],
) -> None:
    damaged = cardfile.new_card_id()
    cardfile.card_path(card_dir, damaged).write_text("{}")
    summaries = reader.list_cards()
    assert [summary.card_id for summary in summaries] == [card_id]
    summary = summaries[0]
    assert summary.holder_name == "山田 太郎"
    assert summary.municipality == "千代田区"
    assert summary.expires_on == date(2036, 4, 1)
    assert summary.sign_not_after == certificates[KeyKind.SIGN].not_valid_after_utc
    assert (summary.auth_locked, summary.sign_locked) == (False, False)


def test_a_card_cannot_be_inserted_twice(reader: VirtualCardReader, card_id: str) -> None:
    with pytest.raises(FileExistsError):
        reader.insert(reader.load(card_id))


def test_the_card_refuses_a_certificate_that_does_not_match_its_key(
    keys: dict[KeyKind, rsa.RSAPrivateKey], certificates: dict[KeyKind, x509.Certificate]
) -> None:
    with pytest.raises(ValueError, match="does not match"):
        VirtualCard.create(
            card_id=cardfile.new_card_id(),
            issued_at=NOW,
            surface=SURFACE,
            keys=keys,
            certificates={
                KeyKind.AUTH: certificates[KeyKind.SIGN],
                KeyKind.SIGN: certificates[KeyKind.SIGN],
            },
            secrets={KeyKind.AUTH: PIN, KeyKind.SIGN: PASSWORD},
            card_secret=CARD_SECRET,
        )


def test_the_session_never_shows_its_key(reader: VirtualCardReader, card_id: str) -> None:
    session = reader.open_session(card_id, KeyKind.AUTH, PIN)
    assert "PRIVATE" not in repr(session)


def test_new_verifiers_take_the_readers_work_factor_and_older_cards_still_open(
    card_dir: Path, card_id: str
) -> None:
    """A card issued at the default cost opens under a reader set to another; a reset
    made there records the reader's cost, and the card opens with the new PIN only."""
    assert _document(card_dir, card_id)["applications"]["auth"]["verifier"]["n"] == 2**14
    cheaper = VirtualCardReader(card_dir, CARD_SECRET, pin_work_factor=11)
    cheaper.open_session(card_id, KeyKind.AUTH, PIN)

    cheaper.reset_secret(card_id, "auth", "5678")

    verifier = _document(card_dir, card_id)["applications"]["auth"]["verifier"]
    assert verifier["n"] == 2**11
    assert _document(card_dir, card_id)["applications"]["sign"]["verifier"]["n"] == 2**14
    with pytest.raises(WrongPinError):
        VirtualCardReader(card_dir, CARD_SECRET).open_session(card_id, KeyKind.AUTH, PIN)
    VirtualCardReader(card_dir, CARD_SECRET).open_session(card_id, KeyKind.AUTH, "5678")


@pytest.mark.parametrize("log2_n", [9, 21])
def test_a_work_factor_readers_would_refuse_is_never_written(log2_n: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        cardfile.make_verifier(PIN, b"pepper", log2_n)
