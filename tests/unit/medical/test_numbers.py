"""Insurer and institution numbers, insured ids and the patient's share of costs."""

from __future__ import annotations

from datetime import date

import pytest

from myna.medical import (
    CopayPercent,
    IncomeBand,
    InstitutionCode,
    InsuranceNumberError,
    InsuredId,
    InsurerNumber,
    LawNumber,
    ScoreTable,
    check_digit,
    copay_percent,
    late_elderly_from,
)


@pytest.mark.parametrize(
    ("number", "digit"),
    [
        ("3312001", 5),  # 33120015: the worked example of the numbering rules
        ("011011371", 9),  # 0110113719: a 医療機関コード in use
        ("0000000", 0),  # a sum ending in 0 gives 0, not 10
    ],
)
def test_the_check_digit_follows_the_ministrys_rule(number: str, digit: int) -> None:
    assert check_digit(number) == digit


def test_an_insurer_number_is_read_with_its_parts() -> None:
    police = InsurerNumber.parse("33120015")
    assert police.law is LawNumber.POLICE
    assert police.prefecture == "12"
    assert not police.is_national_health_insurance
    built = InsurerNumber.build(prefecture="13", serial="101")  # a 国保 of Tokyo
    assert len(built.value) == 6
    assert built.is_national_health_insurance
    assert built.law is None
    assert InsurerNumber.parse(built.value) == built
    kyokai = InsurerNumber.build(law=LawNumber.KYOKAI_KENPO, prefecture="13", serial="001")
    assert kyokai.value.startswith("0113001")


@pytest.mark.parametrize(
    "text",
    ["33120016", "3312001", "331200150", "", "３３１２００１５", "33480010", "abcdefgh", "1"],
)
def test_a_wrong_insurer_number_is_refused_with_the_reason(text: str) -> None:
    with pytest.raises(InsuranceNumberError) as refused:
        InsurerNumber.parse(text)
    assert refused.value.params["kind"] == "保険者番号"


def test_an_institution_code_tells_a_clinic_from_a_pharmacy() -> None:
    clinic = InstitutionCode.parse("0110113719")
    assert clinic.table is ScoreTable.MEDICAL
    pharmacy = InstitutionCode.build(
        prefecture="13", table=ScoreTable.PHARMACY, district="01", number="2345"
    )
    assert pharmacy.table is ScoreTable.PHARMACY
    assert InstitutionCode.parse(pharmacy.value) == pharmacy
    for wrong in ("0110113718", "0120113719", "011011371", "9910113719"):
        with pytest.raises(InsuranceNumberError):
            InstitutionCode.parse(wrong)


def test_an_insured_id_has_a_two_digit_branch() -> None:
    insurer = InsurerNumber.parse("33120015")
    person = InsuredId(insurer=insurer, symbol="千葉警", number="12345", branch="01")
    assert person.display() == "千葉警・12345（01）"
    for symbol, number, branch in (("x", "1", "1"), ("x", "", "01"), ("<", "1", "01")):
        with pytest.raises(InsuranceNumberError):
            InsuredId(insurer=insurer, symbol=symbol, number=number, branch=branch)


@pytest.mark.parametrize(
    ("birth", "on", "income", "share"),
    [
        # 未就学: until the first 31 March after reaching 6 (the eve of the 6th birthday).
        (date(2020, 4, 2), date(2027, 3, 31), IncomeBand.GENERAL, 20),
        (date(2020, 4, 2), date(2027, 4, 1), IncomeBand.GENERAL, 30),
        (date(2020, 4, 1), date(2026, 3, 31), IncomeBand.GENERAL, 20),  # reaches 6 on 3/31
        (date(2020, 4, 1), date(2026, 4, 1), IncomeBand.GENERAL, 30),
        (date(1985, 6, 15), date(2026, 12, 1), IncomeBand.GENERAL, 30),
        # 70 to 74: from the month after the 70th birthday (that month when born on a 1st).
        (date(1956, 12, 15), date(2026, 12, 31), IncomeBand.GENERAL, 30),
        (date(1956, 12, 15), date(2027, 1, 1), IncomeBand.GENERAL, 20),
        (date(1956, 12, 1), date(2026, 12, 1), IncomeBand.GENERAL, 20),
        (date(1954, 3, 10), date(2026, 12, 1), IncomeBand.WORKING_AGE_LEVEL, 30),
        # 75 and over (後期高齢者医療), from the birthday itself.
        (date(1951, 12, 3), date(2026, 12, 2), IncomeBand.GENERAL, 20),
        (date(1951, 12, 3), date(2026, 12, 3), IncomeBand.GENERAL, 10),
        (date(1940, 1, 1), date(2026, 12, 3), IncomeBand.CERTAIN, 20),
        (date(1940, 1, 1), date(2026, 12, 3), IncomeBand.WORKING_AGE_LEVEL, 30),
    ],
)
def test_the_share_of_costs_follows_age_and_income(
    birth: date, on: date, income: IncomeBand, share: int
) -> None:
    assert copay_percent(birth, on, income) == CopayPercent(share)


def test_late_elderly_coverage_starts_on_the_75th_birthday() -> None:
    assert late_elderly_from(date(1951, 12, 3)) == date(2026, 12, 3)
    assert late_elderly_from(date(1952, 2, 29)) == date(2027, 3, 1)


def test_a_refusal_says_what_is_wrong_in_japanese() -> None:
    with pytest.raises(InsuranceNumberError) as refused:
        InsurerNumber.parse("33120016")
    assert refused.value.localized() == (
        "保険者番号が正しくありません：末尾の検証番号が合いません。番号をもう一度確認してください。"
    )
