"""Payloads are checked against their item schema, field by field."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from myna.agencies import InvalidPayloadError, load_catalog, validate_payload
from myna.platform import i18n

CARE: dict[str, Any] = {
    "insured_number": "0110028814",
    "care_level": "要介護1",
    "certified_from": "2026-04-01",
    "certified_until": "2028-03-31",
    "copay_percent": 10,
}


def _care(**changes: Any) -> dict[str, Any]:
    payload = {**CARE, **changes}
    return {k: v for k, v in payload.items() if v is not ...}


def test_a_valid_payload_comes_back_unchanged() -> None:
    assert validate_payload(load_catalog().item("long-term-care"), CARE) == CARE


def test_dates_are_normalised_to_iso_text() -> None:
    result = validate_payload(
        load_catalog().item("long-term-care"), _care(certified_from=date(2026, 4, 1))
    )
    assert result["certified_from"] == "2026-04-01"


def test_an_optional_field_may_be_left_out() -> None:
    item = load_catalog().item("disability-physical")
    payload = {"certificate_number": "第1号", "grade": "1級", "disability": "肢体不自由",
               "issued_on": "2020-01-01"}  # fmt: skip
    assert validate_payload(item, payload) == payload


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"care_level": ...}, "care_level", "is missing"),
        ({"care_level": "要介護6"}, "care_level", "must be one of"),
        ({"copay_percent": "10"}, "copay_percent", "whole number"),
        ({"copay_percent": True}, "copay_percent", "whole number"),
        ({"copay_percent": 50}, "copay_percent", "between 10 and 30"),
        ({"certified_from": "2026/04/01"}, "certified_from", "YYYY-MM-DD"),
        ({"certified_from": "2026-02-30"}, "certified_from", "YYYY-MM-DD"),
        ({"insured_number": ""}, "insured_number", "must be text"),
        ({"copay_percent": 5}, "copay_percent", "between 10 and 30"),
        ({"my_number": "123456789012"}, "my_number", "not part of this item"),
    ],
)
def test_a_malformed_payload_is_refused_naming_the_field(
    changes: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        validate_payload(load_catalog().item("long-term-care"), _care(**changes))
    i18n.set_locale("en")
    message = caught.value.localized()
    assert f"the field {field}" in message
    assert words in message


def test_a_list_field_takes_only_its_choices() -> None:
    item = load_catalog().item("public-assistance")
    good = {"started_on": "2020-04-01", "assistance_types": ["生活扶助", "医療扶助"],
            "welfare_office": "千代田区福祉事務所"}  # fmt: skip
    assert validate_payload(item, good) == good
    with pytest.raises(InvalidPayloadError):
        validate_payload(item, {**good, "assistance_types": ["年金"]})
    with pytest.raises(InvalidPayloadError):
        validate_payload(item, {**good, "assistance_types": "生活扶助"})


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidPayloadError):
        validate_payload(load_catalog().item("household"), ["世帯主"])  # type: ignore[arg-type]


def test_the_refusal_reads_in_japanese() -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        validate_payload(load_catalog().item("long-term-care"), _care(care_level=...))
    assert caught.value.localized() == (
        "項目「long-term-care」の記録が正しくありません：フィールド「care_level」がありません。"
    )
