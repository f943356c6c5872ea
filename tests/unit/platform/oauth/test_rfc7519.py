"""NumericDate and jti claims: read one way, refused before they can overflow anything."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from myna.platform.oauth import rfc7519
from myna.platform.oauth.errors import InvalidClientError, InvalidDPoPProofError


def test_a_numeric_date_is_an_aware_utc_time_and_may_have_a_fraction() -> None:
    claims = {"exp": 1_800_000_000, "iat": 1_800_000_000.25}
    assert rfc7519.numeric_date(claims, "exp", error=InvalidClientError) == datetime(
        2027, 1, 15, 8, 0, tzinfo=UTC
    )
    value = rfc7519.numeric_date(claims, "iat", error=InvalidClientError)
    assert value is not None
    assert value.microsecond == 250_000


def test_an_absent_date_is_none_unless_required() -> None:
    assert rfc7519.numeric_date({}, "nbf", error=InvalidClientError) is None
    with pytest.raises(InvalidDPoPProofError, match="iat is required"):
        rfc7519.required_date({}, "iat", error=InvalidDPoPProofError)


@pytest.mark.parametrize(
    "value", [10**20, -(10**20), 10**1000, 1e308, float("-inf"), float("nan"), -2208988801]
)
def test_a_date_outside_the_calendar_is_refused_with_the_callers_error(value: float) -> None:
    with pytest.raises(InvalidDPoPProofError, match="1900-01-01 to 2100-12-31") as caught:
        rfc7519.numeric_date({"iat": value}, "iat", error=InvalidDPoPProofError)
    assert caught.value.code == "invalid_dpop_proof"


@pytest.mark.parametrize("value", ["1800000000", True, False, [1], {}])
def test_a_date_that_is_not_a_number_is_refused(value: Any) -> None:
    with pytest.raises(InvalidClientError, match="number of seconds"):
        rfc7519.numeric_date({"exp": value}, "exp", error=InvalidClientError)


def test_a_jti_is_a_bounded_string() -> None:
    assert rfc7519.jwt_id({"jti": "j" * 255}, error=InvalidClientError) == "j" * 255
    for value in (None, "", "j" * 256, 1):
        with pytest.raises(InvalidClientError, match="up to 255 characters"):
            rfc7519.jwt_id({"jti": value}, error=InvalidClientError)
