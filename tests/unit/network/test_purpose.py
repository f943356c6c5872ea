"""An exchange request may say why, in words; the signed JSON carries it only when set."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from myna.network.domain import ExchangeRequest, MalformedMessageError

AT = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def _request(purpose: str | None) -> ExchangeRequest:
    return ExchangeRequest(
        request_id="r1",
        requester="portal",
        procedure="self-disclosure",
        subject="LINK",
        items=("household",),
        issued_at=AT,
        purpose=purpose,
    )


def test_a_request_without_a_purpose_signs_the_same_json_as_before() -> None:
    assert "purpose" not in json.loads(_request(None).to_json())


def test_the_purpose_travels_in_the_signed_json_and_back() -> None:
    request = _request("みなと銀行への提供（本人の同意）")
    assert ExchangeRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize("purpose", ["", "x" * 201, 42])
def test_an_empty_long_or_non_text_purpose_is_malformed(purpose: object) -> None:
    body = json.loads(_request(None).to_json())
    body["purpose"] = purpose
    with pytest.raises(MalformedMessageError):
        ExchangeRequest.from_json(json.dumps(body).encode())
