"""Bounds on numbers and dates from outside (myna.platform.params)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from myna.platform import params


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (params.RowId, [1, 2**31 - 1], [0, 2**31, 2**63, 10**30]),
        (params.BigRowId, [1, 2**63 - 1], [0, 2**63, 10**30]),
        (params.LogIndex, [0, 2**63 - 1], [-1, 2**63, 10**30]),
        (params.PageNumber, [1, params.MAX_PAGE], [0, params.MAX_PAGE + 1]),
    ],
)
def test_the_integer_types_hold_what_their_column_holds(
    kind: Any, good: list[int], bad: list[int]
) -> None:
    adapter: TypeAdapter[int] = TypeAdapter(kind)
    for value in good:
        assert adapter.validate_python(value) == value
    for value in bad:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


@pytest.mark.parametrize("day", [date.min, date.max, date(1899, 12, 31), date(2101, 1, 1)])
def test_a_date_outside_the_range_is_refused_with_the_range(day: date) -> None:
    assert not params.plausible_date(day)
    with pytest.raises(params.DateOutOfRangeError) as refused:
        params.check_date(day)
    assert "1900-01-01" in refused.value.localized()
    assert "2100-12-31" in refused.value.localized()


def test_the_ends_of_the_range_are_accepted() -> None:
    assert params.check_date(params.EARLIEST_DATE) == params.EARLIEST_DATE
    assert params.check_date(params.LATEST_DATE) == params.LATEST_DATE
    # A day and a time zone either side of the range stay inside the calendar.
    assert params.LATEST_DATE + timedelta(days=1) < date.max
    assert params.EARLIEST_DATE - timedelta(days=1) > date.min


@pytest.mark.parametrize("seconds", [10**20, -(10**20), 10**400, 1e300, math.inf, math.nan])
def test_an_epoch_time_beyond_the_range_is_refused_without_overflowing(seconds: float) -> None:
    with pytest.raises(params.DateOutOfRangeError):
        params.from_epoch(seconds)


def test_an_epoch_time_in_the_range_is_an_aware_utc_moment() -> None:
    assert params.from_epoch(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert params.from_epoch(4_102_444_799.5).year == 2099
