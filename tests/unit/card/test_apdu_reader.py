"""The APDU card reader against a virtual card's chip: the CardReader port over APDUs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from myna.card.apdu_reader import ApduCardReader, card_id_for
from myna.card.chip import JpkiChip
from myna.card.domain import (
    CardCommunicationError,
    CardLockedError,
    CardNotFoundError,
    CardSessionExpiredError,
    InvalidPinFormatError,
    KeyKind,
    NotAMyNumberCardError,
    SigningCertificateProtectedError,
    WrongPinError,
)
from myna.card.interfaces import ApduTransport, CardReader
from myna.card.protocol import login_message
from myna.card.virtual import VirtualCardReader
from myna.platform import i18n
from tests.unit.card.virtual_cards import PASSWORD, PIN, Chip, insert_card, new_chip


class RecordingTransport:
    """A chip in-process, with every command APDU it was sent kept in hex."""

    def __init__(self, chip: JpkiChip) -> None:
        self.chip = chip
        self.sent: list[str] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu.hex().upper())
        return self.chip.transmit(apdu)


class AnsweringTransport:
    """A card that answers ``answer`` to every command (and the JPKI AP otherwise)."""

    def __init__(self, chip: JpkiChip, answer: str, *, when: str) -> None:
        self.chip = chip
        self.answer = bytes.fromhex(answer)
        self.when = when

    def transmit(self, apdu: bytes) -> bytes:
        if apdu.hex().upper().startswith(self.when):
            return self.answer
        return self.chip.transmit(apdu)


@pytest.fixture(scope="module")
def made_of() -> Chip:
    return new_chip()


@pytest.fixture
def card(tmp_path: Path, made_of: Chip) -> tuple[VirtualCardReader, str]:
    return insert_card(tmp_path / "cards", made_of)


@pytest.fixture
def transport(card: tuple[VirtualCardReader, str]) -> RecordingTransport:
    return RecordingTransport(JpkiChip(*card))


@pytest.fixture
def reader(transport: RecordingTransport) -> ApduCardReader:
    return ApduCardReader(transport)


@pytest.fixture
def card_id(made_of: Chip) -> str:
    return card_id_for(made_of.certificates[KeyKind.AUTH])


def _public_key(made_of: Chip, kind: KeyKind) -> rsa.RSAPublicKey:
    public_key = made_of.certificates[kind].public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    return public_key


def test_the_apdu_reader_and_the_chip_satisfy_the_ports(
    reader: ApduCardReader, transport: RecordingTransport
) -> None:
    port: CardReader = reader
    carrier: ApduTransport = transport.chip
    assert port.list_cards()[0].card_id == ApduCardReader(carrier).current_card_id()


def test_it_lists_the_card_with_what_the_jpki_ap_shows_without_a_pin(
    reader: ApduCardReader, card_id: str, made_of: Chip
) -> None:
    [summary] = reader.list_cards()
    assert summary.card_id == card_id
    assert summary.auth_not_after == made_of.certificates[KeyKind.AUTH].not_valid_after_utc
    assert summary.sign_not_after is None  # shown only after the signing password
    assert (summary.auth_tries_left, summary.sign_tries_left) == (3, 5)
    assert not summary.auth_locked
    assert not summary.sign_locked


def test_a_login_signature_verifies_with_the_cards_certificate(
    reader: ApduCardReader, card_id: str, made_of: Chip
) -> None:
    message = login_message(origin="http://127.0.0.1:8000", challenge_id="c1", nonce="n1")
    session = reader.open_session(card_id, "auth", PIN)
    assert session.certificate == made_of.certificates[KeyKind.AUTH]
    signature = session.sign(message)
    public_key = _public_key(made_of, KeyKind.AUTH)
    public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        public_key.verify(signature, message + b"x", padding.PKCS1v15(), hashes.SHA256())


def test_it_sends_the_jpki_cards_own_apdus(
    reader: ApduCardReader, card_id: str, transport: RecordingTransport
) -> None:
    reader.open_session(card_id, "auth", PIN).sign(b"challenge")
    sent = transport.sent
    assert sent[0] == "00A4040C0AD392F000260100000001"
    assert sent[1] == "00A4020C02000A"
    assert sent[2] == "00B0000004"
    assert "00A4020C020018" in sent
    assert "00200080" in sent  # the tries left, before the PIN
    assert "002000800431323334" in sent
    signature_command = sent[-1]
    assert sent[-2] == "00A4020C020017"
    assert signature_command.startswith("802A008033" + "3031300D060960864801650304020105000420")
    assert signature_command.endswith("00")


def test_a_wrong_pin_costs_a_try_of_the_virtual_card(
    reader: ApduCardReader, card_id: str, card: tuple[VirtualCardReader, str]
) -> None:
    virtual, virtual_id = card
    with pytest.raises(WrongPinError) as wrong:
        reader.open_session(card_id, "auth", "0000")
    assert wrong.value.remaining == 2
    assert virtual.summary(virtual_id).auth_tries_left == 2
    assert reader.list_cards()[0].auth_tries_left == 2
    # A wrong PIN typed into the Python API counts on the card seen over APDUs too.
    with pytest.raises(WrongPinError):
        virtual.open_session(virtual_id, "auth", "9999")
    assert reader.list_cards()[0].auth_tries_left == 1


def test_the_card_locks_after_three_wrong_pins(reader: ApduCardReader, card_id: str) -> None:
    for remaining in (2, 1):
        with pytest.raises(WrongPinError) as wrong:
            reader.open_session(card_id, "auth", "0000")
        assert wrong.value.remaining == remaining
    with pytest.raises(CardLockedError):
        reader.open_session(card_id, "auth", "0000")
    with pytest.raises(CardLockedError):
        reader.open_session(card_id, "auth", PIN)
    [summary] = reader.list_cards()
    assert summary.auth_locked
    assert not summary.sign_locked


def test_wrong_and_locked_pins_are_explained_in_japanese(
    reader: ApduCardReader, card_id: str
) -> None:
    i18n.set_locale("ja")
    messages = []
    for _ in range(3):
        with pytest.raises((WrongPinError, CardLockedError)) as error:
            reader.open_session(card_id, "auth", "0000")
        messages.append(error.value.localized())
    assert messages[0] == "暗証番号が違います。あと2回間違えるとカードがロックされます。"
    assert messages[1] == "暗証番号が違います。あと1回間違えるとカードがロックされます。"
    assert messages[2].startswith("暗証番号を続けて間違えたため、カードがロックされています。")


def test_a_malformed_pin_never_reaches_the_card(
    reader: ApduCardReader, card_id: str, transport: RecordingTransport
) -> None:
    with pytest.raises(InvalidPinFormatError):
        reader.open_session(card_id, "auth", "12a4")
    assert not [apdu for apdu in transport.sent if apdu.startswith("0020008004")]
    assert reader.list_cards()[0].auth_tries_left == 3


def test_the_signing_certificate_needs_the_signing_password(
    reader: ApduCardReader, card_id: str, made_of: Chip
) -> None:
    i18n.set_locale("ja")
    with pytest.raises(SigningCertificateProtectedError) as protected:
        reader.read_certificate(card_id, "sign")
    assert "署名用パスワード" in protected.value.localized()
    assert reader.read_certificate(card_id, "auth") == made_of.certificates[KeyKind.AUTH]
    session = reader.open_session(card_id, "sign", PASSWORD)
    assert session.certificate == made_of.certificates[KeyKind.SIGN]
    signature = session.sign(b"document")
    _public_key(made_of, KeyKind.SIGN).verify(
        signature, b"document", padding.PKCS1v15(), hashes.SHA256()
    )


def test_a_wrong_signing_password_says_five_tries_count(
    reader: ApduCardReader, card_id: str
) -> None:
    with pytest.raises(WrongPinError) as wrong:
        reader.open_session(card_id, "sign", "WRONG1")
    assert wrong.value.remaining == 4


def test_a_cms_signature_made_by_the_card_verifies_with_openssl(
    reader: ApduCardReader, card_id: str, tmp_path: Path
) -> None:
    content = tmp_path / "application.xml"
    content.write_bytes("<申請>転出届</申請>".encode())
    session = reader.open_session(card_id, "sign", PASSWORD)
    signature = tmp_path / "application.xml.p7s"
    signature.write_bytes(session.sign_cms(content.read_bytes()))
    signer = tmp_path / "signer.pem"
    command = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-noverify"]
    files = ["-in", str(signature), "-content", str(content), "-signer", str(signer)]
    done = subprocess.run([*command, *files, "-out", "/dev/null"], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert signer.read_bytes() == session.certificate.public_bytes(Encoding.PEM)
    content.write_bytes(b"another application")
    tampered = subprocess.run(
        [*command, *files, "-out", "/dev/null"], capture_output=True, check=False
    )
    assert tampered.returncode != 0


def test_another_card_id_is_not_on_the_reader(reader: ApduCardReader) -> None:
    with pytest.raises(CardNotFoundError):
        reader.open_session("0" * 20, "auth", PIN)


def test_a_card_without_the_jpki_ap_is_not_a_mynumber_card(
    card: tuple[VirtualCardReader, str],
) -> None:
    other = ApduCardReader(AnsweringTransport(JpkiChip(*card), "6A82", when="00A404"))
    assert other.list_cards() == []
    with pytest.raises(NotAMyNumberCardError):
        other.current_card_id()


def test_an_unexpected_status_word_is_a_clear_error(
    card: tuple[VirtualCardReader, str], card_id: str
) -> None:
    i18n.set_locale("ja")
    failing = ApduCardReader(AnsweringTransport(JpkiChip(*card), "6F00", when="0020008004"))
    with pytest.raises(CardCommunicationError) as error:
        failing.open_session(card_id, "auth", PIN)
    assert "6F00" in error.value.localized()
    assert "置き直して" in error.value.localized()


def test_a_signature_that_does_not_verify_is_refused(
    card: tuple[VirtualCardReader, str], card_id: str
) -> None:
    forged = ApduCardReader(AnsweringTransport(JpkiChip(*card), "00" * 256 + "9000", when="802A"))
    session = forged.open_session(card_id, "auth", PIN)
    with pytest.raises(CardCommunicationError):
        session.sign(b"challenge")


def test_a_card_reset_between_pin_and_signature_asks_for_the_pin_again(
    reader: ApduCardReader, card_id: str, transport: RecordingTransport
) -> None:
    session = reader.open_session(card_id, "auth", PIN)
    transport.chip.reset()
    with pytest.raises(CardSessionExpiredError):
        session.sign(b"challenge")
