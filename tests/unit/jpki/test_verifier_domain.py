"""Verifiers' pure rules: kinds, codes, the envelope, serials in a batch, billing months."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from myna.jpki.domain import CertificateKind
from myna.jpki.verifier_domain import (
    BillingMonth,
    Envelope,
    InvalidMonthError,
    InvalidVerifierError,
    ItemStatus,
    MalformedVerifierRequestError,
    SerialProblem,
    Tariff,
    TooManySerialsError,
    UsageKind,
    VerifierKind,
    WrongVerifierRequestTypeError,
    certificate_kind,
    check_verifier,
    open_envelope,
    organization_code,
    read_serials,
)

NOW = "2026-12-04T09:00:00+09:00"


def _payload(**fields: object) -> bytes:
    body = {"type": "status", "request_id": "r-1", "verifier": "mirai-bank", "issued_at": NOW}
    return json.dumps({**body, **fields}).encode()


def _batch(serials: object) -> Envelope:
    return open_envelope(_payload(serials=serials), "status")


def test_each_kind_of_verifier_asks_about_its_own_certificates() -> None:
    assert VerifierKind.SIGNATURE.allows(CertificateKind.SIGN)
    assert not VerifierKind.SIGNATURE.allows(CertificateKind.AUTH)
    assert VerifierKind.AUTHENTICATION.allows(CertificateKind.AUTH)
    assert not VerifierKind.AUTHENTICATION.allows(CertificateKind.SIGN)
    assert VerifierKind.BOTH.certificate_kinds == {CertificateKind.SIGN, CertificateKind.AUTH}
    assert not VerifierKind.BOTH.allows(CertificateKind.ORGANIZATION)


def test_a_verifier_is_registered_under_a_code_its_certificate_names() -> None:
    assert check_verifier("mirai-bank", " みらい銀行 ", "both") == (
        "mirai-bank",
        "みらい銀行",
        VerifierKind.BOTH,
    )
    assert organization_code("mirai-bank") == "jv-mirai-bank"
    assert check_verifier("a", "A", "signature")[0] == "a"


@pytest.mark.parametrize(
    ("code", "name", "kind"),
    [
        ("Mirai", "みらい", "both"),
        ("-mirai", "みらい", "both"),
        ("mirai-", "みらい", "both"),
        ("m" * 41, "みらい", "both"),
        ("mirai", "", "both"),
        ("mirai", "あ" * 65, "both"),
        ("mirai", "みらい\u0000", "both"),
        ("mirai", "みらい", "signing"),
    ],
)
def test_codes_names_and_kinds_that_cannot_be_registered(code: str, name: str, kind: str) -> None:
    with pytest.raises(InvalidVerifierError):
        check_verifier(code, name, kind)


def test_the_envelope_is_read_for_its_endpoint_only() -> None:
    envelope = open_envelope(_payload(certificate_kind="sign"), "status")
    assert (envelope.verifier, envelope.request_id) == ("mirai-bank", "r-1")
    assert envelope.issued_at == datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
    assert certificate_kind(envelope) is CertificateKind.SIGN
    with pytest.raises(WrongVerifierRequestTypeError):
        open_envelope(_payload(), "statement")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"not json", "payload"),
        (b"[]", "payload"),
        (b"\xff", "payload"),
        (_payload(request_id="r" * 65), "request_id"),
        (_payload(request_id=""), "request_id"),
        (_payload(verifier=7), "verifier"),
        (_payload(issued_at="2026-12-04T09:00:00"), "issued_at"),
        (_payload(issued_at="tomorrow"), "issued_at"),
        (_payload(type=None), "type"),
    ],
)
def test_an_envelope_that_cannot_be_read_names_its_field(payload: bytes, field: str) -> None:
    with pytest.raises(MalformedVerifierRequestError) as raised:
        open_envelope(payload, "status")
    assert raised.value.params == {"field": field}


def test_only_sign_and_auth_certificates_are_asked_about() -> None:
    for value in ("organization", None, "SIGN", 1):
        with pytest.raises(MalformedVerifierRequestError):
            certificate_kind(open_envelope(_payload(certificate_kind=value), "status"))


def test_each_serial_of_a_batch_is_read_or_given_its_problem() -> None:
    queries = read_serials(
        _batch(["0A", "a", "00ff", "0", "x1", 17, "f" * 40, "f" * 41, "", "e" * 65]), limit=10
    )
    assert [(q.index, q.key, q.problem) for q in queries] == [
        (0, "a".rjust(40, "0"), None),
        (1, None, SerialProblem.DUPLICATE),
        (2, "ff".rjust(40, "0"), None),
        (3, None, SerialProblem.ZERO),
        (4, None, SerialProblem.NOT_HEX),
        (5, None, SerialProblem.NOT_A_STRING),
        (6, "f" * 40, None),
        (7, None, SerialProblem.TOO_LONG),
        (8, None, SerialProblem.NOT_HEX),
        (9, None, SerialProblem.TOO_LONG),
    ]
    assert queries[0].sent == "0A"
    assert queries[9].sent is None  # longer than anything worth echoing


def test_a_batch_is_a_non_empty_list_within_the_limit() -> None:
    assert len(read_serials(_batch(["1", "2"]), limit=2)) == 2
    with pytest.raises(TooManySerialsError) as raised:
        read_serials(_batch(["1", "2", "3"]), limit=2)
    assert raised.value.params == {"limit": 2, "count": 3}
    for serials in ([], "1", None, {"0": "1"}):
        with pytest.raises(MalformedVerifierRequestError):
            read_serials(_batch(serials), limit=2)


def test_only_answers_about_issued_certificates_are_billed() -> None:
    assert [status.billed for status in ItemStatus] == [True, True, False, False]


def test_a_billing_month_is_a_month_in_japan() -> None:
    assert BillingMonth.parse("2026-12") == BillingMonth(2026, 12)
    assert str(BillingMonth(2026, 1)) == "2026-01"
    # 2026-11-30 15:00 UTC is midnight on 1 December in Japan.
    assert BillingMonth.of(datetime(2026, 11, 30, 14, 59, 59, tzinfo=UTC)) == BillingMonth(2026, 11)
    assert BillingMonth.of(datetime(2026, 11, 30, 15, 0, tzinfo=UTC)) == BillingMonth(2026, 12)
    december = BillingMonth(2026, 12)
    assert december.starts == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert december.ends == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)
    assert BillingMonth(2100, 12).ends == datetime(2100, 12, 31, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["2026-13", "2026-00", "1999-12", "2101-01", "202612", "2026-1", "99999-01", 202612, None],
)
def test_months_outside_the_calendar_or_the_range_are_refused(text: object) -> None:
    with pytest.raises(InvalidMonthError):
        BillingMonth.parse(text)


def test_the_tariff_prices_each_line() -> None:
    tariff = Tariff(sign_status_yen=20, auth_status_yen=2, crl_yen=0)
    assert tariff.unit_price(UsageKind.status_of(CertificateKind.SIGN)) == 20
    assert tariff.unit_price(UsageKind.status_of(CertificateKind.AUTH)) == 2
    assert tariff.unit_price(UsageKind.CRL) == 0
