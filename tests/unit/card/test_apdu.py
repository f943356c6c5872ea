"""Short APDUs and the JPKI commands: the bytes OpenSC's JPKI driver sends."""

from __future__ import annotations

import hashlib

import pytest

from myna.card import apdu
from myna.card.apdu import Command, MalformedApduError, Response


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00200080", Command(0x00, 0x20, 0x00, 0x80)),
        ("00B0001004", Command(0x00, 0xB0, 0x00, 0x10, ne=4)),
        ("00B0000000", Command(0x00, 0xB0, 0x00, 0x00, ne=256)),
        ("002000800431323334", Command(0x00, 0x20, 0x00, 0x80, data=b"1234")),
        ("802A00800301020300", Command(0x80, 0x2A, 0x00, 0x80, data=b"\1\2\3", ne=256)),
        ("802A00800301020380", Command(0x80, 0x2A, 0x00, 0x80, data=b"\1\2\3", ne=0x80)),
    ],
    ids=["case 1", "case 2", "case 2, Le 00 = 256", "case 3", "case 4, Le 00", "case 4"],
)
def test_the_four_cases_of_a_short_apdu_parse_and_encode_back(raw: str, expected: Command) -> None:
    command = Command.from_bytes(bytes.fromhex(raw))
    assert command == expected
    assert command.to_bytes().hex().upper() == raw.upper()


@pytest.mark.parametrize(
    "raw",
    ["", "00", "00A404", "00A4040C0301", "00A4040C01020304", "00B00000000004"],
    ids=["empty", "1 byte", "3 bytes", "Lc longer than data", "Lc shorter", "extended Le"],
)
def test_bytes_that_are_no_short_apdu_are_refused(raw: str) -> None:
    with pytest.raises(MalformedApduError):
        Command.from_bytes(bytes.fromhex(raw))


def test_the_commands_are_the_bytes_of_openscs_jpki_driver() -> None:
    assert apdu.select_application().to_bytes().hex().upper() == ("00A4040C0AD392F000260100000001")
    assert apdu.select_file(apdu.FileId.AUTH_CERT).to_bytes().hex().upper() == "00A4020C02000A"
    assert apdu.select_file(apdu.FileId.SIGN_PIN).to_bytes().hex().upper() == "00A4020C02001B"
    assert apdu.read_binary(0x0104, 0x80).to_bytes().hex().upper() == "00B0010480"
    assert apdu.read_binary(0, 256).to_bytes().hex().upper() == "00B0000000"
    assert apdu.verify(b"1234").to_bytes().hex().upper() == "002000800431323334"
    assert apdu.verify_status().to_bytes().hex().upper() == "00200080"
    signed = apdu.compute_digital_signature(b"\x30\x31").to_bytes().hex().upper()
    assert signed == "802A0080023031" + "00"


def test_the_file_ids_are_the_jpki_aps() -> None:
    assert {kind: f"{fid:04X}" for kind, fid in apdu.CERTIFICATE_FILES.items()} == {
        "auth": "000A",
        "sign": "0001",
    }
    assert {kind: f"{fid:04X}" for kind, fid in apdu.PIN_FILES.items()} == {
        "auth": "0018",
        "sign": "001B",
    }
    assert {kind: f"{fid:04X}" for kind, fid in apdu.KEY_FILES.items()} == {
        "auth": "0017",
        "sign": "001A",
    }


def test_a_response_splits_into_data_and_status_word() -> None:
    response = Response.from_bytes(bytes.fromhex("3082019000"))
    assert response.data == bytes.fromhex("308201")
    assert response.sw == 0x9000
    assert response.ok
    assert Response(b"\1", 0x6282).to_bytes() == bytes.fromhex("016282")
    with pytest.raises(MalformedApduError):
        Response.from_bytes(b"\x90")


def test_tries_left_are_63cx() -> None:
    assert apdu.tries_left(3) == 0x63C3
    assert apdu.tries_left_in(0x63C2) == 2
    assert apdu.tries_left_in(0x6983) is None
    assert apdu.tries_left_in(0x9000) is None
    with pytest.raises(ValueError, match="0-15"):
        apdu.tries_left(16)


def test_a_sha256_digest_info_is_rfc_8017s_encoding() -> None:
    digest = hashlib.sha256(b"challenge").digest()
    info = apdu.digest_info("sha256", digest)
    assert info.hex().startswith("3031300d060960864801650304020105000420")
    assert apdu.parse_digest_info(info) == ("sha256", digest)
    assert apdu.parse_digest_info(info[:-1]) is None
    assert apdu.parse_digest_info(digest) is None
    with pytest.raises(ValueError, match="32 bytes"):
        apdu.digest_info("sha256", digest[:20])


@pytest.mark.parametrize(
    ("header", "length"),
    [("308204d2", 0x4D2 + 4), ("30819f", 0x9F + 3), ("3005", 7)],
)
def test_a_certificate_efs_size_comes_from_its_der_header(header: str, length: int) -> None:
    assert apdu.der_length(bytes.fromhex(header)) == length


def test_an_ef_that_holds_no_der_sequence_has_no_size() -> None:
    with pytest.raises(ValueError, match="SEQUENCE"):
        apdu.der_length(bytes.fromhex("ffffffff"))
