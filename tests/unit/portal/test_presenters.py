from datetime import UTC, datetime

import pytest

from myna.agencies import FieldSpec, FieldType, load_catalog
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


@pytest.mark.parametrize(
    ("name", "unit", "shown"),
    [
        ("assessment_year", "年度", "2026年度"),
        ("income_year", "年", "2026年"),
        ("fiscal", "年度", "2026年度"),
        ("school_year", "", "2026"),
        ("year", "", "2026"),
        ("amount", "円", "2,026円"),
        ("members", "", "2,026"),
    ],
)
def test_a_year_is_shown_without_a_thousands_separator(name: str, unit: str, shown: str) -> None:
    i18n.set_locale("ja")
    spec = FieldSpec(name=name, type=FieldType.INTEGER, label_ja="年", label_en="Y", unit=unit)
    assert presenters._value(2026, spec) == shown


def test_every_year_field_of_the_items_is_shown_as_a_year() -> None:
    i18n.set_locale("ja")
    years = [
        spec
        for item in load_catalog().items.values()
        for spec in item.fields
        if spec.type is FieldType.INTEGER and ("年" in spec.unit or spec.name.endswith("_year"))
    ]
    assert {spec.name for spec in years} >= {"assessment_year", "income_year", "school_year"}
    for spec in years:
        assert presenters._value(2026, spec) == f"2026{spec.unit}", spec.name


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
