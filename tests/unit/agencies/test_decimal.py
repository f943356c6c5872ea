"""The ``decimal`` field type: a JSON number, whole or not, within its bounds."""

from __future__ import annotations

import math
from typing import Any

import pytest

from myna.agencies import (
    FieldSpec,
    FieldType,
    InvalidPayloadError,
    ItemSchema,
    ProviderSpec,
    display_decimal,
    validate_payload,
)
from myna.agencies.domain import AgencyKind, value_from_text

BMI = FieldSpec("bmi", FieldType.DECIMAL, "BMI", "BMI", "kg/m²", minimum=10, maximum=80, places=1)
ITEM = ItemSchema(
    "checkup", "健診", "Checkup", "health", ProviderSpec(kind=AgencyKind.INSURER), (BMI,)
)


@pytest.mark.parametrize("value", [23.1, 23, 10, 80, 10.0])
def test_a_number_within_the_bounds_is_kept_as_it_is(value: float) -> None:
    assert validate_payload(ITEM, {"bmi": value}) == {"bmi": value}


@pytest.mark.parametrize(
    "value", [True, False, "23.1", None, [23.1], 9.99, 80.01, -1, math.nan, math.inf, -math.inf,
              1e300, 10**20]
)  # fmt: skip
def test_anything_else_is_refused_naming_the_field(value: Any) -> None:
    if value is None:  # a required field left out
        payload: dict[str, Any] = {}
    else:
        payload = {"bmi": value}
    with pytest.raises(InvalidPayloadError) as caught:
        validate_payload(ITEM, payload)
    assert caught.value.params["field"] == "bmi"


def test_a_huge_number_is_refused_even_without_bounds() -> None:
    free = FieldSpec("x", FieldType.DECIMAL, "x", "x")
    item = ItemSchema("x", "x", "x", "health", ProviderSpec(kind=AgencyKind.INSURER), (free,))
    assert validate_payload(item, {"x": -12.5}) == {"x": -12.5}
    for huge in (1e16, -1e16, 10**16):
        with pytest.raises(InvalidPayloadError):
            validate_payload(item, {"x": huge})


def test_it_is_shown_with_its_places() -> None:
    assert display_decimal(23.14, BMI) == "23.1"
    assert display_decimal(23, BMI) == "23.0"
    free = FieldSpec("x", FieldType.DECIMAL, "x", "x")
    assert display_decimal(1234.5, free) == "1,234.5"
    assert display_decimal(3, free) == "3"


def test_a_clerk_may_type_it() -> None:
    assert value_from_text(ITEM, BMI, "23.4") == 23.4
    assert value_from_text(ITEM, BMI, "24") == 24
    for text in ("abc", "1e5", "nan", "23.4.5", "100"):
        with pytest.raises(InvalidPayloadError):
            value_from_text(ITEM, BMI, text)
