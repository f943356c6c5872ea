"""The institution API's messages: every field checked before anything is looked up."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from myna.medical import messages
from myna.medical.domain import InsuranceNumberError
from myna.network.domain import MalformedMessageError

CERT = base64.b64encode(b"\x30" * 100).decode()


def _envelope(kind: str, **body: Any) -> messages.Envelope:
    payload = {
        "type": kind,
        "request_id": "r-1",
        "institution": "1310110018",
        "issued_at": "2026-12-03T09:00:00+09:00",
        **body,
    }
    return messages.open_envelope(json.dumps(payload).encode(), kind)


def test_a_message_for_another_endpoint_is_refused() -> None:
    data = json.dumps(
        {
            "type": "card",
            "request_id": "r",
            "institution": "1",
            "issued_at": "2026-12-03T00:00:00+00:00",
        }
    ).encode()
    with pytest.raises(messages.WrongMessageTypeError):
        messages.open_envelope(data, messages.VISIT)


@pytest.mark.parametrize(
    "data",
    [
        b"[]",
        b"not json",
        json.dumps({"type": "visit"}).encode(),
        json.dumps(
            {"type": "visit", "request_id": 1, "institution": "x", "issued_at": "2026-12-03"}
        ).encode(),
        json.dumps(
            {"type": "visit", "request_id": "r", "institution": "x" * 11, "issued_at": "2026-12-03"}
        ).encode(),
        json.dumps(
            {"type": "visit", "request_id": "r", "institution": "x", "issued_at": "yesterday"}
        ).encode(),
    ],
)
def test_a_malformed_envelope_is_refused(data: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        messages.open_envelope(data, messages.VISIT)


def test_a_pin_answer_needs_a_signature_and_a_face_answer_a_staff_name() -> None:
    pin = messages.CardAnswer.parse(
        _envelope("card", visit_id="v", method="pin", certificate=CERT, signature=CERT)
    )
    assert pin.signature is not None
    assert pin.confirmed_by is None
    face = messages.CardAnswer.parse(
        _envelope("card", visit_id="v", method="face", certificate=CERT, confirmed_by=" 受付 佐藤 ")
    )
    assert face.signature is None
    assert face.confirmed_by == "受付 佐藤"
    for bad in (
        {"method": "pin", "certificate": CERT},
        {"method": "face", "certificate": CERT},
        {"method": "face", "certificate": CERT, "confirmed_by": "   "},
        {"method": "face", "certificate": CERT, "confirmed_by": "x" * 101},
        {"method": "password", "certificate": CERT, "signature": CERT},
        {"method": "pin", "certificate": "not base64!", "signature": CERT},
        {"method": "pin", "certificate": base64.b64encode(b"x" * 5000).decode(), "signature": CERT},
        {"method": "pin", "certificate": "", "signature": CERT},
    ):
        with pytest.raises(MalformedMessageError):
            messages.CardAnswer.parse(_envelope("card", visit_id="v", **bad))


def test_consents_must_be_booleans() -> None:
    given = messages.ConsentAnswer.parse(
        _envelope("consent", visit_id="v", medication=True, checkup=False, limit=True)
    )
    assert (given.medication, given.checkup, given.limit) == (True, False, True)
    for bad in ({"medication": "yes"}, {"medication": 1}, {}):
        body = {"medication": True, "checkup": True, "limit": True, **bad}
        if not bad:
            del body["limit"]
        with pytest.raises(MalformedMessageError):
            messages.ConsentAnswer.parse(_envelope("consent", visit_id="v", **body))


def test_a_number_query_checks_the_insurer_numbers_check_digit() -> None:
    good = messages.NumberQuery.parse(
        _envelope(
            "by-number",
            insurer_number="06135123",
            symbol="12",
            number="345",
            branch="01",
            birth_date="1980-02-29",
        )
    )
    assert good.insured.branch == "01"
    with pytest.raises(InsuranceNumberError):
        messages.NumberQuery.parse(
            _envelope(
                "by-number",
                insurer_number="06135124",
                number="345",
                branch="01",
                birth_date="1980-02-29",
            )
        )
    for bad in (
        {"birth_date": "1980-02-30"},
        {"birth_date": "99999-01-01"},
        {"branch": "123"},
        {"number": 345},
        {"symbol": None},
    ):
        body = {
            "insurer_number": "06135123",
            "number": "345",
            "branch": "01",
            "birth_date": "1980-02-28",
            **bad,
        }
        with pytest.raises((MalformedMessageError, InsuranceNumberError)):
            messages.NumberQuery.parse(_envelope("by-number", **body))
