"""Reading insurers' records: a malformed one is a clear refusal, never a crash."""

from __future__ import annotations

import pytest

from myna.medical.records import (
    COVERAGE_ITEM,
    MEDICATION_ITEM,
    HealthRecords,
    MalformedRecordError,
    read_coverage,
)


@pytest.mark.parametrize(
    "payload",
    [{}, {"name": 1}, {"birth_date": "not a date"}],
)
def test_a_coverage_missing_fields_or_of_wrong_types_is_refused(payload: dict) -> None:
    with pytest.raises(MalformedRecordError):
        read_coverage(payload)


def test_a_malformed_medicine_among_the_answers_is_refused() -> None:
    with pytest.raises(MalformedRecordError) as caught:
        HealthRecords.from_payloads({COVERAGE_ITEM: [], MEDICATION_ITEM: [{"daily_amount": True}]})
    assert caught.value.status_code == 502


def test_nothing_held_reads_as_nothing() -> None:
    held = HealthRecords.from_payloads({})
    assert held.coverage is None
    assert held.medications == ()
