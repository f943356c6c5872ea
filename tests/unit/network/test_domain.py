from datetime import UTC, datetime, timedelta

import pytest

from myna.network.domain import (
    ExchangeRequest,
    MalformedMessageError,
    ProviderAnswer,
    ProviderQuery,
    canonical,
    is_fresh,
    new_link_code,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_link_codes_are_random_and_carry_no_digits_of_a_my_number() -> None:
    codes = {new_link_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(code) == 32 and code.isalnum() and code.isupper() for code in codes)


def test_canonical_json_is_sorted_and_compact() -> None:
    assert canonical({"b": 1, "a": "住民税"}) == '{"a":"住民税","b":1}'.encode()


def test_a_request_round_trips_through_its_signed_bytes() -> None:
    request = ExchangeRequest("r1", "muni-131016", "child-allowance", "L" * 32, ("a", "b"), NOW)
    assert ExchangeRequest.from_json(request.to_json()) == request
    query = ProviderQuery("r1", "portal", "self-disclosure", "nta", "C" * 32, ("a",), NOW)
    assert ProviderQuery.from_json(query.to_json()) == query


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b"not json",
        b'{"request_id": "r"}',
        b'{"request_id": "r", "requester": "x", "procedure": "p", "subject": "s",'
        b' "items": "all", "issued_at": "2026-11-28T12:00:00+00:00"}',
        b'{"request_id": "", "requester": "x", "procedure": "p", "subject": "s",'
        b' "items": [], "issued_at": "2026-11-28T12:00:00+00:00"}',
        b'{"request_id": "r", "requester": "x\\u0000", "procedure": "p", "subject": "s",'
        b' "items": [], "issued_at": "2026-11-28T12:00:00+00:00"}',
        b'{"request_id": "r", "requester": "x", "procedure": "p", "subject": "s",'
        b' "items": [], "issued_at": "yesterday"}',
    ],
)
def test_malformed_requests_are_refused(data: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        ExchangeRequest.from_json(data)


def test_malformed_answers_are_refused() -> None:
    with pytest.raises(MalformedMessageError):
        ProviderAnswer.from_json(b'{"request_id": "r", "provider": "p", "records": [1]}')


def test_messages_are_fresh_only_within_five_minutes_and_with_a_zone() -> None:
    assert is_fresh(NOW - timedelta(minutes=4), NOW)
    assert not is_fresh(NOW - timedelta(minutes=6), NOW)
    assert not is_fresh(NOW + timedelta(minutes=6), NOW)
    assert not is_fresh(datetime(2026, 11, 28, 12, 0), NOW)  # noqa: DTZ001 - the point
