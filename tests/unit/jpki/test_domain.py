"""The pure JPKI rules: validity, the basic 4 info encoding, reasons, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from cryptography import x509

from myna.jpki import api, domain, service
from myna.jpki.domain import (
    _VERIFICATION_MESSAGES,
    OID_ADDRESS,
    OID_BIRTH_DATE,
    OID_NAME,
    OID_SEX,
    BasicInfo,
    CertificateKind,
    InvalidBasicInfoError,
    InvalidSerialError,
    NoBasicInfoError,
    RevocationReason,
    VerificationError,
    certificate_expiry,
    decode_birth_date,
    encode_birth_date,
    end_of_day_jst,
    parse_serial,
)
from myna.platform import i18n
from myna.platform.errors import MynaError

PO_FILE = Path(__file__).resolve().parents[3] / "src/myna/locale/ja/LC_MESSAGES/jpki.po"


# --- validity: the holder's 5th birthday after issue -------------------------------


def test_it_ends_on_the_fifth_birthday_after_issue() -> None:
    assert certificate_expiry(date(2026, 11, 28), date(1990, 3, 15)) == date(2031, 3, 15)


def test_a_birthday_later_in_the_year_of_issue_counts_as_the_first() -> None:
    assert certificate_expiry(date(2026, 1, 10), date(1990, 3, 15)) == date(2030, 3, 15)


def test_a_birthday_on_the_day_of_issue_does_not_count() -> None:
    assert certificate_expiry(date(2026, 3, 15), date(1990, 3, 15)) == date(2031, 3, 15)


def test_a_birthday_the_day_after_issue_is_the_first() -> None:
    assert certificate_expiry(date(2026, 3, 14), date(1990, 3, 15)) == date(2030, 3, 15)


def test_a_29_february_birthday_ends_on_28_february_in_a_common_year() -> None:
    assert certificate_expiry(date(2026, 11, 28), date(2000, 2, 29)) == date(2031, 2, 28)


def test_a_29_february_birthday_ends_on_29_february_in_a_leap_year() -> None:
    # Birthdays after 2023-03-01: 2024-02-29 (1st) .. 2028-02-29 (5th).
    assert certificate_expiry(date(2023, 3, 1), date(2000, 2, 29)) == date(2028, 2, 29)


def test_a_29_february_holder_issued_on_28_february_of_a_common_year_waits_a_year() -> None:
    # 28 Feb 2027 is that year's birthday and the day of issue, so it does not count.
    assert certificate_expiry(date(2027, 2, 28), date(2000, 2, 29)) == date(2032, 2, 29)


def test_it_refuses_an_issue_date_before_birth() -> None:
    with pytest.raises(ValueError, match="before its holder is born"):
        certificate_expiry(date(1999, 1, 1), date(2000, 2, 29))


def test_the_last_second_is_the_end_of_the_day_in_japan() -> None:
    assert end_of_day_jst(date(2031, 3, 15)) == datetime(2031, 3, 15, 14, 59, 59, tzinfo=UTC)


# --- the basic 4 info --------------------------------------------------------------


def _info(**changes: object) -> BasicInfo:
    values: dict[str, object] = {
        "name": "髙橋 﨑子",
        "name_substitute": "高橋 崎子",
        "sex": 2,
        "birth_date": date(1964, 10, 10),
        "address": "北海道札幌市中央区北一条西二丁目１番地　札幌市役所内",
    }
    values.update(changes)
    return BasicInfo(**values)  # type: ignore[arg-type]


def test_the_basic_info_survives_a_round_trip_with_kanji_and_substitutes() -> None:
    info = _info()
    assert BasicInfo.from_other_names(info.other_names()) == info


def test_it_encodes_each_value_with_the_documented_asn1_type() -> None:
    names = {entry.type_id: entry.value for entry in _info().other_names()}
    # UTF8String (tag 0x0c) for text; PrintableString (0x13) for sex and date of birth.
    assert names[OID_NAME] == b"\x0c" + bytes([len("髙橋 﨑子".encode())]) + "髙橋 﨑子".encode()
    assert names[OID_SEX] == b"\x13\x012"
    assert names[OID_BIRTH_DATE] == b"\x13\x09" + b"319641010"
    assert names[OID_ADDRESS][0] == 0x0C


def test_it_uses_the_jlis_arc_for_the_five_entries() -> None:
    assert [entry.type_id.dotted_string for entry in _info().other_names()] == [
        f"1.2.392.200149.8.5.5.{n}" for n in range(1, 6)
    ]


def test_it_ignores_other_names_outside_the_jlis_arc() -> None:
    foreign = x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x0c\x01x")
    info = _info()
    assert BasicInfo.from_other_names([foreign, *info.other_names()]) == info


def test_it_reports_missing_basic_info() -> None:
    with pytest.raises(NoBasicInfoError):
        BasicInfo.from_other_names(_info().other_names()[:4])


def test_it_rejects_a_value_of_the_wrong_asn1_type() -> None:
    entries = _info().other_names()
    entries[2] = x509.OtherName(OID_SEX, b"\x0c\x012")  # UTF8String where PrintableString
    with pytest.raises(VerificationError) as caught:
        BasicInfo.from_other_names(entries)
    assert caught.value.code == "malformed_certificate"


@pytest.mark.parametrize(
    "changes",
    [
        {"sex": 0},
        {"sex": 4},
        {"sex": True},
        {"name": " "},
        {"address": ""},
        {"birth_date": date(1868, 1, 24)},
    ],
)
def test_it_refuses_invalid_basic_info(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidBasicInfoError):
        _info(**changes)


@pytest.mark.parametrize(
    ("day", "encoded"),
    [
        (date(1868, 1, 25), "118680125"),  # 明治 starts
        (date(1912, 7, 29), "119120729"),  # last day of 明治
        (date(1912, 7, 30), "219120730"),  # 大正
        (date(1926, 12, 25), "319261225"),  # 昭和
        (date(1989, 1, 7), "319890107"),  # last day of 昭和
        (date(1989, 1, 8), "419890108"),  # 平成
        (date(2019, 4, 30), "420190430"),  # last day of 平成
        (date(2019, 5, 1), "520190501"),  # 令和
    ],
)
def test_the_date_of_birth_starts_with_the_era_digit(day: date, encoded: str) -> None:
    assert encode_birth_date(day) == encoded
    assert decode_birth_date(encoded) == day


@pytest.mark.parametrize("text", ["419890107", "5201905O1", "52019050", "620190501", "520190230"])
def test_it_rejects_a_date_of_birth_whose_digits_do_not_fit(text: str) -> None:
    with pytest.raises(VerificationError):
        decode_birth_date(text)


# --- revocation reasons ------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "crl_reason", "code"),
    [
        (RevocationReason.LOSS, x509.ReasonFlags.key_compromise, 1),
        (RevocationReason.BASIC_INFO_CHANGE, x509.ReasonFlags.affiliation_changed, 3),
        (RevocationReason.CARD_REPLACEMENT, x509.ReasonFlags.superseded, 4),
        (RevocationReason.DEATH, x509.ReasonFlags.cessation_of_operation, 5),
    ],
)
def test_each_reason_maps_to_its_rfc5280_crl_reason(
    reason: RevocationReason, crl_reason: x509.ReasonFlags, code: int
) -> None:
    assert reason.crl_reason is crl_reason
    # DER of the CRLReason ENUMERATED carries the RFC 5280 §5.3.1 number.
    assert x509.CRLReason(reason.crl_reason).public_bytes() == bytes([0x0A, 0x01, code])


def test_a_change_of_the_basic_info_revokes_only_the_signing_certificate() -> None:
    assert RevocationReason.BASIC_INFO_CHANGE.revokes == {CertificateKind.SIGN}
    for reason in (
        RevocationReason.LOSS,
        RevocationReason.DEATH,
        RevocationReason.CARD_REPLACEMENT,
    ):
        assert reason.revokes == {CertificateKind.SIGN, CertificateKind.AUTH}


# --- serial numbers and errors -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("1234", 1234), ("0x4d2", 1234), ("04:d2", 1234), (" 0X4D2 ", 1234)],
)
def test_it_reads_serial_numbers_as_people_write_them(text: str, value: int) -> None:
    assert parse_serial(text) == value


@pytest.mark.parametrize("text", ["", "abc", "0x", "0", "-5", "0xzz", str(2**161)])
def test_it_refuses_unreadable_serial_numbers(text: str) -> None:
    with pytest.raises(InvalidSerialError):
        parse_serial(text)


def test_verification_errors_carry_their_code() -> None:
    error = VerificationError("revoked")
    assert error.code == "revoked"
    assert "municipality" in error.message


def test_an_unknown_verification_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown verification failure code"):
        VerificationError("nope")


def _jpki_messages() -> dict[str, str]:
    messages = dict(_VERIFICATION_MESSAGES)
    for module in (domain, service, api):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, MynaError)
                and value.__module__ == module.__name__
                and "message" in vars(value)
            ):
                messages[value.code] = value.message
    return messages


def test_every_jpki_message_has_a_japanese_translation() -> None:
    with PO_FILE.open("rb") as handle:
        catalog = read_po(handle, locale="ja")
    messages = _jpki_messages()
    assert len(messages) > len(_VERIFICATION_MESSAGES)
    for code, message in messages.items():
        entry = catalog.get(message)
        assert entry is not None, code
        assert entry.string, code
        assert not entry.fuzzy, code


def test_errors_are_shown_in_japanese() -> None:
    i18n.set_locale("ja")
    assert VerificationError("expired").localized().startswith("電子証明書の有効期限が切れて")
