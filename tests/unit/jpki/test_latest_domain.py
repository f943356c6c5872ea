"""The pure rules of 最新4情報提供: the consent statement, the re-issue rule, the links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from myna.jpki.consent_statement import (
    ConsentStatementError,
    consent_statement,
    read_consent_statement,
)
from myna.jpki.domain import CertificateStatus, RevocationReason
from myna.jpki.latest_domain import (
    CardLostError,
    ReissueNotNeededError,
    SigningState,
    check_reissue,
    consent_in_time,
    newest_in_chain,
)

AT = datetime(2026, 12, 4, 1, 2, 3, tzinfo=UTC)
FIELDS = {
    "verifier": "mirai-bank",
    "purpose": "住所変更の確認",
    "consent_id": "C-1",
    "issued_at": AT,
}


def test_the_statement_is_five_exact_lines() -> None:
    assert (
        consent_statement(**FIELDS)
        == (
            "myna-jpki-latest-info-consent-v1\n"
            "verifier: mirai-bank\n"
            "purpose: 住所変更の確認\n"
            "consent-id: C-1\n"
            "issued-at: 2026-12-04T01:02:03Z"
        ).encode()
    )


def test_the_time_is_written_in_utc_to_the_second() -> None:
    jst = AT.astimezone(timezone(timedelta(hours=9))).replace(microsecond=654321)
    assert consent_statement(**{**FIELDS, "issued_at": jst}).endswith(b"2026-12-04T01:02:03Z")


def test_a_statement_reads_back_to_its_fields() -> None:
    read = read_consent_statement(consent_statement(**FIELDS))
    assert (read.verifier, read.purpose, read.consent_id, read.issued_at) == (
        "mirai-bank",
        "住所変更の確認",
        "C-1",
        AT,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("verifier", "Mirai-Bank"),
        ("verifier", "-bank"),
        ("purpose", ""),
        ("purpose", "x" * 201),
        ("purpose", "二行の\n目的"),
        ("purpose", " 前後の空白"),
        ("purpose", "か\u3099"),  # decomposed: not NFC
        ("consent_id", "C 1"),
        ("consent_id", "C" * 65),
        ("issued_at", datetime(2026, 12, 4)),  # naive  # noqa: DTZ001
    ],
)
def test_a_bad_field_is_refused(field: str, value: object) -> None:
    with pytest.raises(ConsentStatementError):
        consent_statement(**{**FIELDS, field: value})


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe",
        b"x" * 5000,
        consent_statement(**FIELDS) + b"\n",
        consent_statement(**FIELDS).replace(b"\n", b"\r\n"),
        consent_statement(**FIELDS).replace(b"2026-12-04T01:02:03Z", b"2026-13-04T01:02:03Z"),
        consent_statement(**FIELDS).replace(b"2026-12-04T01:02:03Z", b"2026-12-04T01:02:03+00:00"),
        consent_statement(**FIELDS).replace(b"consent-id: ", b"Consent-Id: "),
        b"\n".join(reversed(consent_statement(**FIELDS).split(b"\n"))),
    ],
)
def test_only_the_canonical_bytes_are_read(data: bytes) -> None:
    with pytest.raises(ConsentStatementError):
        read_consent_statement(data)


def _state(**changes: object) -> SigningState:
    values: dict[str, object] = {
        "status": CertificateStatus.VALID,
        "reason": None,
        "expired": False,
        "info_current": True,
    }
    values.update(changes)
    return SigningState(**values)  # type: ignore[arg-type]


def test_a_certificate_in_force_with_current_info_needs_no_reissue() -> None:
    with pytest.raises(ReissueNotNeededError):
        check_reissue(auth_revoked=False, signing=_state())


@pytest.mark.parametrize(
    "state",
    [
        _state(status=CertificateStatus.REVOKED, reason=RevocationReason.BASIC_INFO_CHANGE),
        _state(expired=True),
        _state(info_current=False),
        None,
    ],
)
def test_changed_expired_or_missing_certificates_are_reissued(state: SigningState | None) -> None:
    check_reissue(auth_revoked=False, signing=state)


@pytest.mark.parametrize(
    ("auth_revoked", "state"),
    [
        (True, _state(info_current=False)),
        (False, _state(status=CertificateStatus.REVOKED, reason=RevocationReason.LOSS)),
        (False, _state(status=CertificateStatus.REVOKED, reason=RevocationReason.DEATH)),
    ],
)
def test_a_lost_or_replaced_card_gets_a_new_card_not_a_certificate(
    auth_revoked: bool, state: SigningState
) -> None:
    with pytest.raises(CardLostError):
        check_reissue(auth_revoked=auth_revoked, signing=state)


def test_the_chain_is_followed_to_the_newest_and_never_loops() -> None:
    assert newest_in_chain("a", {"a": "b", "b": "c"}) == "c"
    assert newest_in_chain("b", {"a": "b", "b": "c"}) == "c"
    assert newest_in_chain("z", {"a": "b"}) == "z"
    assert newest_in_chain("a", {"a": "b", "b": "a"}) == "b"
    long_chain = {str(i): str(i + 1) for i in range(1000)}
    assert newest_in_chain("0", long_chain) == "64"


def test_a_consent_is_registered_within_thirty_days_and_not_ahead_of_the_clock() -> None:
    assert consent_in_time(AT - timedelta(days=30), AT)
    assert not consent_in_time(AT - timedelta(days=30, seconds=1), AT)
    assert consent_in_time(AT + timedelta(minutes=5), AT)
    assert not consent_in_time(AT + timedelta(minutes=6), AT)
