"""The entry format (canonical JSON) and signed tree heads (ES256 JWS)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from myna.network.transparency import (
    InclusionProof,
    InvalidEntryError,
    InvalidProofError,
    LogEntry,
    LogSigner,
    NewEntry,
    Outcome,
    ProofVerificationError,
    SignedTreeHead,
    public_key,
    verify_tree_head,
)

WHEN = datetime(2026, 11, 28, 0, 15, 2, 123456, tzinfo=UTC)


def _entry(**changes: object) -> LogEntry:
    fields: dict[str, object] = {
        "index": 7,
        "time": WHEN,
        "requester": "portal",
        "provider": "mhlw",
        "procedure": "self-info",
        "item": "health.insurance",
        "subject": "1024",
        "outcome": Outcome.SUCCESS,
    }
    fields.update(changes)
    return LogEntry(**fields)  # type: ignore[arg-type]


def test_the_leaf_data_is_sorted_compact_utf8_json() -> None:
    entry = _entry(purpose="家計簿アプリ")
    expected = (
        '{"index":7,"item":"health.insurance","outcome":"success","procedure":"self-info",'
        '"provider":"mhlw","purpose":"家計簿アプリ","requester":"portal","subject":"1024",'
        '"time":"2026-11-28T00:15:02.123456Z"}'
    ).encode()
    assert entry.canonical_bytes() == expected
    assert entry.leaf_hash() == hashlib.sha256(b"\x00" + expected).digest()


def test_an_entry_survives_a_round_trip_through_any_json_layout() -> None:
    entry = _entry(detail="provider did not answer", outcome=Outcome.TIMEOUT)
    pretty = json.dumps(entry.to_json(), indent=4, ensure_ascii=True)
    assert LogEntry.from_json(json.loads(pretty)) == entry


def test_times_are_written_in_utc_whatever_zone_they_come_in() -> None:
    jst = timezone(timedelta(hours=9))
    entry = _entry(time=WHEN.astimezone(jst))
    assert entry.to_json()["time"] == "2026-11-28T00:15:02.123456Z"


@pytest.mark.parametrize(
    "change",
    [
        {"index": -1},
        {"index": True},
        {"time": "2026-11-28T00:15:02Z"},
        {"time": "2026-13-28T00:15:02.000000Z"},
        {"outcome": "maybe"},
        {"subject": "123 456"},
        {"requester": ""},
        {"purpose": "a\nb"},
        {"detail": "x" * 201},
        {"extra": "field"},
    ],
)
def test_malformed_entries_are_refused(change: dict[str, object]) -> None:
    value = {**_entry().to_json(), **change}
    with pytest.raises(InvalidEntryError):
        LogEntry.from_json(value)


def test_a_new_entry_checks_its_fields() -> None:
    with pytest.raises(InvalidEntryError):
        NewEntry("portal", "mhlw", "p", "i", "1", Outcome.SUCCESS, time=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(InvalidEntryError):
        NewEntry("portal", "mhlw", "p", "i", "1", "sometimes")  # type: ignore[arg-type]
    assert NewEntry("portal", "mhlw", "p", "i", "1", "denied").outcome is Outcome.DENIED  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def signer() -> LogSigner:
    return LogSigner.generate()


def _head(signer: LogSigner) -> SignedTreeHead:
    return signer.sign_tree_head(tree_size=5, timestamp=1_795_000_000_000, root_hash=b"\x07" * 32)


def test_a_signed_head_verifies_with_the_published_jwk(signer: LogSigner) -> None:
    head = _head(signer)
    copy = SignedTreeHead.from_json(json.loads(json.dumps(head.to_json())))
    verify_tree_head(copy, public_key(signer.public_jwk))
    assert signer.public_jwk["kid"] == head.key_id


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 6},
        {"timestamp": 1},
        {"root_hash": "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg="},
    ],
)
def test_a_head_with_altered_fields_does_not_verify(
    signer: LogSigner, change: dict[str, object]
) -> None:
    value = {**_head(signer).to_json(), **change}
    with pytest.raises(ProofVerificationError):
        verify_tree_head(SignedTreeHead.from_json(value), public_key(signer.public_jwk))


def test_a_head_does_not_verify_with_another_logs_key(signer: LogSigner) -> None:
    other = LogSigner.generate()
    with pytest.raises(ProofVerificationError):
        verify_tree_head(_head(signer), public_key(other.public_jwk))


def test_the_signer_loads_its_key_from_pem(signer: LogSigner) -> None:
    assert LogSigner.from_pem(signer.private_pem()).key_id == signer.key_id


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"leaf_index": 0, "tree_size": 1},
        {"leaf_index": 0, "tree_size": 1, "inclusion_path": ["not base64!"]},
        {"leaf_index": 0, "tree_size": 1, "inclusion_path": ["AAAA"]},
        {"leaf_index": "0", "tree_size": 1, "inclusion_path": []},
    ],
)
def test_unreadable_proof_documents_are_refused(document: object) -> None:
    with pytest.raises(InvalidProofError):
        InclusionProof.from_json(document)
