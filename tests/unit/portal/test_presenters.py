from datetime import UTC, datetime

from myna.agencies import FieldSpec, FieldType
from myna.platform import i18n
from myna.portal import presenters


def test_payload_dates_read_in_wareki_and_amounts_with_separators() -> None:
    i18n.set_locale("ja")
    day = FieldSpec(name="d", type=FieldType.DATE, label_ja="日", label_en="Day")
    yen = FieldSpec(name="a", type=FieldType.INTEGER, label_ja="額", label_en="Amount", unit="円")
    assert presenters._value("2014-04-01", day) == "平成26年4月1日"
    assert presenters._value(4520000, yen) == "4,520,000円"
    assert presenters._value(None, yen) == "—"
    assert presenters._value("not a date", day) == "not a date"


def test_exchange_times_show_the_hour_in_japan() -> None:
    i18n.set_locale("ja")
    assert (
        i18n.format_datetime(datetime(2026, 11, 27, 15, 30, tzinfo=UTC)) == "令和8年11月28日 00:30"
    )


def test_a_year_is_shown_without_thousands_separators() -> None:
    i18n.set_locale("ja")
    fiscal = FieldSpec(
        name="assessment_year",
        type=FieldType.INTEGER,
        label_ja="課税年度",
        label_en="Year",
        unit="年度",
    )
    income = FieldSpec(name="income_year", type=FieldType.INTEGER, label_ja="年分", label_en="Y")
    assert presenters._value(2026, fiscal) == "2026年度"
    assert presenters._value(2025, income) == "2025"
