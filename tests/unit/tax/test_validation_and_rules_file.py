"""Refusals: negative or absurd inputs, and a malformed rules file named entry by entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from myna.platform import i18n
from myna.tax import (
    MedicalExpenses,
    Relative,
    SalarySlip,
    TaxInputError,
    TaxReturnInput,
    TaxRulesFileError,
    UnknownTaxYearError,
    available_years,
    compute,
    load_rules,
)
from myna.tax.rules import parse_rules

BASE = TaxReturnInput(
    year=2025, birth_date=date(1985, 4, 1), salaries=(SalarySlip(paid=5_000_000),)
)
SHIPPED = Path(__file__).parents[3] / "src" / "myna" / "tax" / "data" / "2025.toml"


def _problems(inputs: TaxReturnInput) -> list[str]:
    with pytest.raises(TaxInputError) as caught:
        compute(load_rules(2025), inputs)
    return [problem.field for problem in caught.value.problems]


def test_negative_amounts_are_refused_with_the_field_named() -> None:
    inputs = replace(
        BASE,
        salaries=(SalarySlip(paid=-1),),
        donations=-5,
        medical_expenses=MedicalExpenses(paid=-10),
    )
    assert _problems(inputs) == ["salaries[0].paid", "donations", "medical_expenses.paid"]


def test_absurd_amounts_are_refused() -> None:
    assert _problems(replace(BASE, social_insurance=10**12 + 1)) == ["social_insurance"]


def test_dates_of_birth_after_the_year_or_impossibly_early_are_refused() -> None:
    inputs = replace(
        BASE,
        birth_date=date(2026, 1, 1),
        dependants=(Relative(birth_date=date(1890, 1, 1)),),
    )
    assert _problems(inputs) == ["birth_date", "dependants[0].birth_date"]


def test_more_reimbursed_than_paid_is_refused() -> None:
    inputs = replace(BASE, medical_expenses=MedicalExpenses(paid=10_000, reimbursed=20_000))
    assert _problems(inputs) == ["medical_expenses.reimbursed"]


def test_more_withheld_than_paid_is_refused() -> None:
    assert _problems(replace(BASE, salaries=(SalarySlip(paid=100, withheld=200),))) == [
        "salaries[0].withheld"
    ]


def test_the_problems_read_in_japanese() -> None:
    with pytest.raises(TaxInputError) as caught:
        compute(load_rules(2025), replace(BASE, donations=-1))
    i18n.set_locale("ja")
    assert caught.value.localized() == "寄附金: 金額にマイナスは入力できません。"
    i18n.set_locale("en")
    assert caught.value.localized() == "Donations (寄附金): the amount must not be negative."


def test_a_year_without_rules_is_refused() -> None:
    with pytest.raises(UnknownTaxYearError):
        load_rules(1999)
    with pytest.raises(UnknownTaxYearError):
        compute(load_rules(2025), replace(BASE, year=2024))
    assert 2025 in available_years()


def _broken(old: str, new: str) -> str:
    text = SHIPPED.read_text("utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "entry", "reason"),
    [
        ("income_limit = 580_000\n", "income_limit = -1\n", "spouse", "income_limit"),
        ("up_to = 3_360_000\n", "up_to = 1_000_000\n", "basic_deduction[2]", "must rise"),
        (
            "[[basic_deduction]]\namount = 0",
            "[[basic_deduction]]\nup_to = 30_000_000\namount = 0",
            "basic_deduction[9]",
            "last band",
        ),
        ("rate_per_mille = 21", "rate_per_mille = 21\nrate = 2", "reconstruction_tax", "rate"),
        ("amounts = [30_000, 20_000, 10_000]", "amounts = [30_000]", "spouse.special[9]", "3"),
        ("year = 2025", "year = 2024", "-", "2024"),
        ("[rounding]", "[rounding\n", "-", "TOML"),
    ],
)
def test_a_malformed_rules_file_names_the_entry(
    old: str, new: str, entry: str, reason: str
) -> None:
    with pytest.raises(TaxRulesFileError) as caught:
        parse_rules("2025.toml", _broken(old, new), year=2025)
    assert caught.value.params["entry"] == entry
    assert reason in str(caught.value)
    i18n.set_locale("ja")
    assert "税額計算のルールファイル 2025.toml" in caught.value.localized()


def test_a_rules_directory_is_read_by_year(tmp_path: Path) -> None:
    (tmp_path / "2025.toml").write_text(SHIPPED.read_text("utf-8"), "utf-8")
    assert load_rules(2025, tmp_path).name == "令和7年分"
    with pytest.raises(UnknownTaxYearError):
        load_rules(2026, tmp_path)
