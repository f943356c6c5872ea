"""The virtual card's chip answers the JPKI card's APDUs with the card's status words."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from myna.card import apdu, cardfile
from myna.card.chip import JpkiChip
from myna.card.domain import KeyKind, WrongPinError
from myna.card.virtual import VirtualCardReader
from tests.unit.card.virtual_cards import PASSWORD, PIN, Chip, insert_card, new_chip


@pytest.fixture(scope="module")
def made_of() -> Chip:
    return new_chip()


@pytest.fixture
def card(tmp_path: Path, made_of: Chip) -> tuple[VirtualCardReader, str]:
    return insert_card(tmp_path / "cards", made_of)


@pytest.fixture
def chip(card: tuple[VirtualCardReader, str]) -> JpkiChip:
    reader, card_id = card
    return JpkiChip(reader, card_id)


def send(chip: JpkiChip, hex_apdu: str) -> str:
    """The response APDU in upper-case hex."""
    return chip.transmit(bytes.fromhex(hex_apdu)).hex().upper()


def sw(chip: JpkiChip, hex_apdu: str) -> str:
    """Only the status word of the response."""
    return send(chip, hex_apdu)[-4:]


SELECT_AP = "00A4040C0AD392F000260100000001"
SELECT_AUTH_CERT = "00A4020C02000A"
SELECT_SIGN_CERT = "00A4020C020001"
SELECT_AUTH_PIN = "00A4020C020018"
SELECT_SIGN_PIN = "00A4020C02001B"
SELECT_AUTH_KEY = "00A4020C020017"
VERIFY_PIN = "0020008004" + PIN.encode().hex()
VERIFY_PASSWORD = f"00200080{len(PASSWORD):02X}" + PASSWORD.encode().hex()


def sign_command(message: bytes, algorithm: str = "sha256") -> str:
    info = apdu.digest_info(algorithm, hashlib.new(algorithm, message).digest())
    return apdu.compute_digital_signature(info).to_bytes().hex()


def test_it_answers_with_the_jpki_cards_atr(chip: JpkiChip) -> None:
    assert chip.reset().hex().upper() == "3BE000FF8131FE4514"


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("00CA000000", "6D00"),  # GET DATA: not a JPKI AP command
        ("10A4040C0AD392F000260100000001", "6E00"),  # chaining bit in CLA
        ("80A4040C0AD392F000260100000001", "6E00"),  # SELECT is CLA 00 only
        ("002A00800100", "6E00"),  # the signature is CLA 80 only
        ("00A404", "6700"),  # shorter than a header
        ("00A4040C0BD392F000260100000001", "6700"),  # Lc says 11, 10 bytes follow
        ("00B000000000FF", "6700"),  # an extended Le: short APDUs only
    ],
    ids=["unknown INS", "CLA chaining", "SELECT with CLA 80", "signature with CLA 00",
         "truncated header", "Lc mismatch", "extended length"],
)  # fmt: skip
def test_malformed_and_unknown_commands_get_the_iso_status_words(
    chip: JpkiChip, command: str, status: str
) -> None:
    assert send(chip, command) == status


def test_select_finds_the_jpki_ap_and_its_efs(chip: JpkiChip) -> None:
    assert sw(chip, SELECT_AUTH_CERT) == "6A82"  # no EF before the AP is selected
    assert sw(chip, "00A4040C0AD392F000260100000002") == "6A82"  # another AID
    assert send(chip, SELECT_AP) == "9000"
    for file_id in ("000A", "0001", "0017", "0018", "001A", "001B"):
        assert sw(chip, "00A4020C02" + file_id) == "9000", file_id
    assert sw(chip, "00A4020C02000B") == "6A82"  # CA certificates: not on a virtual card
    assert sw(chip, "00A4020C020002") == "6A82"
    assert sw(chip, "00A4020C02ABCD") == "6A82"


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("00A4000C023F00", "6A86"),  # P1 00: not a JPKI selection
        ("00A40400" + "0AD392F000260100000001", "6A86"),  # P2 00 asks for an FCI
        ("00A4020C0300000A", "6700"),  # a file id is 2 bytes
        ("00A4040C0AD392F00026010000000100", "6700"),  # Le with P2 0C
        ("00A4040C", "6700"),  # no AID at all
    ],
)
def test_select_refuses_wrong_parameters_and_lengths(
    chip: JpkiChip, command: str, status: str
) -> None:
    assert send(chip, SELECT_AP) == "9000"
    assert sw(chip, command) == status


def test_read_binary_reads_the_auth_certificate_in_pieces_up_to_its_end(
    chip: JpkiChip, made_of: Chip
) -> None:
    der = made_of.certificates[KeyKind.AUTH].public_bytes(Encoding.DER)
    send(chip, SELECT_AP)
    assert sw(chip, SELECT_AUTH_CERT) == "9000"
    head = send(chip, "00B0000004")
    assert head[-4:] == "9000"
    assert apdu.der_length(bytes.fromhex(head[:-4])) == len(der)
    content = b""
    while len(content) < len(der):
        response = apdu.Response.from_bytes(
            chip.transmit(apdu.read_binary(len(content), 256).to_bytes())
        )
        assert response.sw in (0x9000, 0x6282)
        content += response.data
    assert content == der
    # The last bytes with Ne past the end: what there is, and "end of file reached".
    tail = send(chip, apdu.read_binary(len(der) - 3, 16).to_bytes().hex())
    assert tail == der[-3:].hex().upper() + "6282"
    assert sw(chip, apdu.read_binary(len(der) - 3, 3).to_bytes().hex()) == "9000"
    # At or past the end: wrong offset.
    assert send(chip, apdu.read_binary(len(der), 1).to_bytes().hex()) == "6B00"
    assert send(chip, apdu.read_binary(0x7FFF, 1).to_bytes().hex()) == "6B00"


@pytest.mark.parametrize(
    ("select", "command", "status"),
    [
        (None, "00B0000004", "6986"),  # no current EF
        (SELECT_AUTH_PIN, "00B0000004", "6981"),  # a PIN EF is not readable
        (SELECT_AUTH_KEY, "00B0000004", "6981"),  # nor a key EF
        (SELECT_SIGN_CERT, "00B0000004", "6982"),  # the signing certificate needs its password
        (SELECT_AUTH_CERT, "00B08A0004", "6A81"),  # a short EF id in P1: not supported
        (SELECT_AUTH_CERT, "00B00000", "6700"),  # no Le
        (SELECT_AUTH_CERT, "00B000000100", "6700"),  # a data field
    ],
)
def test_read_binary_refuses_what_it_cannot_read(
    chip: JpkiChip, select: str | None, command: str, status: str
) -> None:
    send(chip, SELECT_AP)
    if select is not None:
        assert sw(chip, select) == "9000"
    assert send(chip, command) == status


def test_the_signing_certificate_reads_after_the_signing_password(
    chip: JpkiChip, made_of: Chip
) -> None:
    send(chip, SELECT_AP)
    send(chip, SELECT_SIGN_PIN)
    assert send(chip, VERIFY_PASSWORD) == "9000"
    send(chip, SELECT_SIGN_CERT)
    der = made_of.certificates[KeyKind.SIGN].public_bytes(Encoding.DER)
    assert send(chip, "00B0000004") == der[:4].hex().upper() + "9000"


def test_verify_without_a_pin_answers_the_tries_left(chip: JpkiChip) -> None:
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_PIN)
    assert send(chip, "00200080") == "63C3"
    send(chip, SELECT_SIGN_PIN)
    assert send(chip, "00200080") == "63C5"


def test_a_wrong_pin_over_apdus_costs_a_try_of_the_card_file(
    chip: JpkiChip, card: tuple[VirtualCardReader, str]
) -> None:
    reader, card_id = card
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_PIN)
    assert send(chip, "002000800430303030") == "63C2"
    assert reader.summary(card_id).auth_tries_left == 2
    # The Python API sees the same counter, and spends from it too.
    with pytest.raises(WrongPinError):
        reader.open_session(card_id, "auth", "9999")
    assert send(chip, "00200080") == "63C1"
    # A right PIN resets the count, wherever it is entered.
    assert send(chip, VERIFY_PIN) == "9000"
    assert reader.summary(card_id).auth_tries_left == 3


def test_the_pin_blocks_after_three_wrong_tries_even_for_the_right_pin(
    chip: JpkiChip, card: tuple[VirtualCardReader, str]
) -> None:
    reader, card_id = card
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_PIN)
    statuses = [send(chip, "002000800430303030") for _ in range(3)]
    assert statuses == ["63C2", "63C1", "63C0"]
    assert send(chip, VERIFY_PIN) == "6983"
    assert send(chip, "00200080") == "6983"
    assert reader.summary(card_id).auth_locked
    # The signing password is its own counter.
    send(chip, SELECT_SIGN_PIN)
    assert send(chip, "00200080") == "63C5"


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("002001800431323334", "6A86"),  # P1 must be 00
        ("002000010431323334", "6A86"),  # P2 must be 80 (the current PIN EF)
        ("00200080053132333435", "6700"),  # the PIN is 4 digits
        ("00200080033132", "6700"),  # Lc 3 with 2 bytes: not an APDU
        ("00200080043132333400", "6700"),  # Le
        ("0020008004313261FF", "6A80"),  # not ASCII
        ("002000800431326134", "6A80"),  # "12a4": not digits
    ],
)
def test_verify_refuses_malformed_entries_without_spending_a_try(
    chip: JpkiChip, card: tuple[VirtualCardReader, str], command: str, status: str
) -> None:
    reader, card_id = card
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_PIN)
    assert send(chip, command) == status
    assert reader.summary(card_id).auth_tries_left == 3


def test_verify_needs_a_pin_ef(chip: JpkiChip) -> None:
    send(chip, SELECT_AP)
    assert send(chip, VERIFY_PIN) == "6986"
    send(chip, SELECT_AUTH_CERT)
    assert send(chip, VERIFY_PIN) == "6981"


def test_the_card_signs_a_digest_info_after_the_pin(chip: JpkiChip, made_of: Chip) -> None:
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_KEY)
    assert send(chip, sign_command(b"challenge")) == "6982"
    send(chip, SELECT_AUTH_PIN)
    assert send(chip, VERIFY_PIN) == "9000"
    send(chip, SELECT_AUTH_KEY)
    public_key = made_of.certificates[KeyKind.AUTH].public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    for algorithm, hash_algorithm in (("sha256", hashes.SHA256()), ("sha512", hashes.SHA512())):
        response = apdu.Response.from_bytes(
            chip.transmit(bytes.fromhex(sign_command(b"challenge", algorithm)))
        )
        assert response.sw == 0x9000
        assert len(response.data) == 256
        public_key.verify(response.data, b"challenge", padding.PKCS1v15(), hash_algorithm)


def test_the_signing_key_needs_the_signing_password_not_the_pin(chip: JpkiChip) -> None:
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_PIN)
    send(chip, VERIFY_PIN)
    send(chip, "00A4020C02001A")
    assert send(chip, sign_command(b"document")) == "6982"


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("802A000002303100", "6A86"),  # P2 must be 80
        ("802A9E9A02303100", "6A86"),  # ISO PSO's P1-P2 are not the JPKI card's
        ("802A0080023031", "6700"),  # no Le
        ("802A008002303180", "6700"),  # Le 128: the signature is 256 bytes
        ("802A0080F6" + "00" * 246 + "00", "6700"),  # longer than 2048 bits allow
        ("802A00800401020304" + "00", "6A80"),  # not a DigestInfo
    ],
)
def test_the_signature_command_refuses_wrong_parameters_lengths_and_data(
    chip: JpkiChip, command: str, status: str
) -> None:
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_PIN)
    send(chip, VERIFY_PIN)
    send(chip, SELECT_AUTH_KEY)
    assert send(chip, command) == status


def test_the_signature_needs_a_key_ef(chip: JpkiChip) -> None:
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_PIN)
    send(chip, VERIFY_PIN)
    assert send(chip, sign_command(b"challenge")) == "6981"  # the PIN EF is current
    send(chip, SELECT_AP)
    assert send(chip, sign_command(b"challenge")) == "6986"


def test_a_reset_forgets_the_verified_pin(chip: JpkiChip) -> None:
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_PIN)
    send(chip, VERIFY_PIN)
    chip.reset()
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_KEY)
    assert send(chip, sign_command(b"challenge")) == "6982"


def test_a_damaged_card_file_is_a_memory_failure(
    chip: JpkiChip, card: tuple[VirtualCardReader, str]
) -> None:
    reader, card_id = card
    path = cardfile.card_path(reader.card_dir, card_id)
    document = json.loads(path.read_text())
    document["applications"]["auth"]["failures"] = 0
    document["applications"]["auth"]["limit"] = 9
    path.write_text(json.dumps(document))
    send(chip, SELECT_AP)
    send(chip, SELECT_AUTH_PIN)
    assert send(chip, VERIFY_PIN) == "6581"
    send(chip, SELECT_AUTH_CERT)
    assert send(chip, "00B0000004") == "6581"


def test_the_signing_password_does_not_unlock_the_auth_key(chip: JpkiChip) -> None:
    send(chip, SELECT_AP)
    send(chip, SELECT_SIGN_PIN)
    assert send(chip, VERIFY_PASSWORD) == "9000"
    send(chip, SELECT_AUTH_KEY)
    assert send(chip, sign_command(b"challenge")) == "6982"
