from datetime import date

import pytest

from myna.platform.wareki import era_of, format_wareki, format_wareki_en


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1985, 4, 12), "昭和60年4月12日"),
        (date(2026, 11, 28), "令和8年11月28日"),
    ],
)
def test_it_formats_dates_in_the_era_residents_expect(day: date, expected: str) -> None:
    assert format_wareki(day) == expected


def test_the_jpki_era_codes_follow_the_eras() -> None:
    assert [era_of(date(y, 6, 1)).code for y in (1900, 1920, 1950, 2000, 2020)] == [1, 2, 3, 4, 5]


def test_english_shows_the_gregorian_date_with_the_era() -> None:
    assert format_wareki_en(date(2026, 11, 28)) == "28 Nov 2026 (Reiwa 8)"


def test_it_refuses_dates_before_meiji() -> None:
    with pytest.raises(ValueError, match="before the Meiji era"):
        era_of(date(1867, 12, 31))


def test_a_day_before_meiji_is_shown_as_a_gregorian_date_not_an_error() -> None:
    from myna.platform.i18n import format_date  # noqa: PLC0415

    assert format_date(date(1500, 1, 1)) == "1500-01-01"


def test_a_moment_after_15_utc_is_the_next_day_in_japan() -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    from myna.platform.i18n import format_date, format_datetime  # noqa: PLC0415

    late = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)
    assert format_date(late) == "令和8年12月4日"
    assert format_datetime(late) == "令和8年12月4日 00:30"
    # A timestamp without a zone is UTC as stored, whatever the server's own zone.
    assert format_datetime(late.replace(tzinfo=None)) == "令和8年12月4日 00:30"
