"""Each table of the 令和7年分 rules at and around its band edges (the law's 「以下」)."""

from __future__ import annotations

from datetime import date

import pytest

from myna.tax import (
    Disability,
    EarthquakePremiums,
    LifeInsurancePremiums,
    MedicalExpenses,
    Relative,
    RelativeKind,
    TaxRules,
    domain,
    load_rules,
)


@pytest.fixture(scope="module")
def rules() -> TaxRules:
    return load_rules(2025)


@pytest.mark.parametrize(
    ("salary", "income"),
    [
        (0, 0),
        (650_000, 0),
        (1_230_000, 580_000),  # the 扶養親族 limit: 123万円 of salary
        (1_899_999, 1_249_999),
        (1_900_000, 1_250_000),  # 65万円 minimum, and 30 % + 80,000 meet here
        (1_903_999, 1_250_000),  # 別表第五: rows 4,000 yen wide
        (1_904_000, 1_252_800),
        (3_600_000, 2_440_000),
        (6_599_999, 4_836_800),  # last row of 別表第五 (6,596,000)
        (6_600_000, 4_840_000),
        (8_500_000, 6_550_000),
        (8_500_001, 6_550_001),  # 給与所得控除 at its maximum 1,950,000
    ],
)
def test_salary_income_at_the_band_edges(rules: TaxRules, salary: int, income: int) -> None:
    assert domain.salary_income(rules, salary) == income


@pytest.mark.parametrize(
    ("born", "revenue", "other", "income"),
    [
        (date(1961, 1, 1), 1_300_000, 0, 200_000),  # 65 on 31 December: 110万円
        (date(1961, 1, 2), 1_300_000, 0, 700_000),  # 64: 60万円
        (date(1961, 1, 2), 1_300_001, 0, 700_001 - 1),  # 25 % + 275,000, rounded up
        (date(1950, 5, 5), 3_300_000, 0, 2_200_000),
        (date(1950, 5, 5), 2_000_000, 10_000_000, 900_000),
        (date(1950, 5, 5), 2_000_000, 10_000_001, 1_000_000),  # other income > 1,000万円
        (date(1950, 5, 5), 2_000_000, 20_000_001, 1_100_000),  # > 2,000万円
        (date(1950, 5, 5), 12_000_000, 0, 10_045_000),  # 1,955,000 maximum
    ],
)
def test_pension_income_by_age_and_other_income(
    rules: TaxRules, born: date, revenue: int, other: int, income: int
) -> None:
    age = domain.age_on_last_day(born, 2025)
    assert domain.pension_income(rules, revenue, age=age, other_income=other) == income


@pytest.mark.parametrize(
    ("total_income", "deduction"),
    [
        (0, 950_000),
        (1_320_000, 950_000),
        (1_320_001, 880_000),
        (3_360_000, 880_000),
        (3_360_001, 680_000),
        (4_890_000, 680_000),
        (4_890_001, 630_000),
        (6_550_000, 630_000),
        (6_550_001, 580_000),
        (23_500_000, 580_000),
        (23_500_001, 480_000),
        (24_000_000, 480_000),
        (24_500_000, 320_000),
        (25_000_000, 160_000),
        (25_000_001, 0),
    ],
)
def test_basic_deduction_by_band(rules: TaxRules, total_income: int, deduction: int) -> None:
    assert domain.basic_deduction(rules, total_income) == deduction


@pytest.mark.parametrize(
    ("taxable", "tax"),
    [
        (1_000, 50),
        (1_950_000, 97_500),
        (1_951_000, 97_600),
        (3_300_000, 232_500),
        (6_950_000, 962_500),
        (9_000_000, 1_434_000),
        (18_000_000, 4_404_000),
        (40_000_000, 13_204_000),
        (40_001_000, 13_204_450),
    ],
)
def test_the_rate_table_is_continuous_at_each_edge(rules: TaxRules, taxable: int, tax: int) -> None:
    assert domain.income_tax_on(rules, taxable) == tax


@pytest.mark.parametrize(
    ("premiums", "general", "medical", "annuity", "total"),
    [
        (LifeInsurancePremiums(new_general=20_000), 20_000, 0, 0, 20_000),
        (LifeInsurancePremiums(new_general=20_001), 20_001, 0, 0, 20_001),  # 10,000.5 ↑
        (LifeInsurancePremiums(new_general=40_000), 30_000, 0, 0, 30_000),
        (LifeInsurancePremiums(new_general=80_000), 40_000, 0, 0, 40_000),
        (LifeInsurancePremiums(new_general=80_001), 40_000, 0, 0, 40_000),
        (LifeInsurancePremiums(old_general=25_000), 25_000, 0, 0, 25_000),
        (LifeInsurancePremiums(old_general=50_000), 37_500, 0, 0, 37_500),
        (LifeInsurancePremiums(old_general=100_000), 50_000, 0, 0, 50_000),
        # both systems in one kind: old alone (50,000) beats both together (≤ 40,000)
        (LifeInsurancePremiums(new_general=100_000, old_general=100_000), 50_000, 0, 0, 50_000),
        # small old and new: together, up to 40,000
        (LifeInsurancePremiums(new_general=20_000, old_general=20_000), 40_000, 0, 0, 40_000),
        (
            LifeInsurancePremiums(
                new_general=100_000, old_general=200_000, new_medical=90_000, old_annuity=200_000
            ),
            50_000,
            40_000,
            50_000,
            120_000,  # 140,000 over the three kinds, limited to 120,000
        ),
    ],
)
def test_life_insurance_tables_and_limits(
    rules: TaxRules,
    premiums: LifeInsurancePremiums,
    general: int,
    medical: int,
    annuity: int,
    total: int,
) -> None:
    found = domain.life_insurance_deduction(rules, premiums)
    assert (found.general, found.medical, found.annuity, found.total) == (
        general,
        medical,
        annuity,
        total,
    )


@pytest.mark.parametrize(
    ("premiums", "deduction"),
    [
        (EarthquakePremiums(earthquake=50_000), 50_000),
        (EarthquakePremiums(earthquake=60_000), 50_000),
        (EarthquakePremiums(old_long_term=10_000), 10_000),
        (EarthquakePremiums(old_long_term=20_000), 15_000),
        (EarthquakePremiums(old_long_term=30_000), 15_000),
        (EarthquakePremiums(earthquake=40_000, old_long_term=20_000), 50_000),
    ],
)
def test_earthquake_insurance_and_the_combined_cap(
    rules: TaxRules, premiums: EarthquakePremiums, deduction: int
) -> None:
    assert domain.earthquake_deduction(rules, premiums) == deduction


@pytest.mark.parametrize(
    ("paid", "reimbursed", "total_income", "deduction"),
    [
        (90_000, 10_000, 1_320_000, 14_000),  # 5 % of 1,320,000 = 66,000 < 100,000
        (100_000, 0, 2_000_000, 0),  # exactly the 100,000 threshold
        (100_001, 0, 2_000_000, 1),
        (3_000_000, 0, 5_000_000, 2_000_000),  # the 200万円 limit
    ],
)
def test_medical_expense_threshold_and_limit(
    rules: TaxRules, paid: int, reimbursed: int, total_income: int, deduction: int
) -> None:
    expenses = MedicalExpenses(paid=paid, reimbursed=reimbursed)
    assert domain.medical_expense_deduction(rules, expenses, total_income=total_income) == deduction


@pytest.mark.parametrize(
    ("spent", "deduction"), [(12_000, 0), (12_001, 1), (100_000, 88_000), (200_000, 88_000)]
)
def test_self_medication_threshold_and_limit(rules: TaxRules, spent: int, deduction: int) -> None:
    assert domain.self_medication_deduction(rules, spent) == deduction


@pytest.mark.parametrize(
    ("donations", "total_income", "deduction"),
    [(2_000, 3_000_000, 0), (2_001, 3_000_000, 1), (50_000, 100_000, 38_000)],
)
def test_donations_floor_and_the_40_percent_limit(
    rules: TaxRules, donations: int, total_income: int, deduction: int
) -> None:
    assert domain.donation_deduction(rules, donations, total_income=total_income) == deduction


@pytest.mark.parametrize(
    ("taxpayer", "spouse_income", "born", "kind", "amount"),
    [
        (9_000_000, 580_000, date(1980, 1, 1), RelativeKind.SPOUSE, 380_000),
        (9_000_001, 0, date(1980, 1, 1), RelativeKind.SPOUSE, 260_000),
        (9_500_000, 0, date(1956, 1, 1), RelativeKind.ELDERLY_SPOUSE, 320_000),  # 70
        (10_000_000, 0, date(1956, 1, 2), RelativeKind.SPOUSE, 130_000),  # 69
        (10_000_000, 0, date(1950, 1, 1), RelativeKind.ELDERLY_SPOUSE, 160_000),
        (10_000_001, 0, date(1980, 1, 1), RelativeKind.SAME_HOUSEHOLD_SPOUSE, 0),
        (5_000_000, 580_001, date(1980, 1, 1), RelativeKind.SPOUSE_SPECIAL, 380_000),
        (5_000_000, 950_001, date(1980, 1, 1), RelativeKind.SPOUSE_SPECIAL, 360_000),
        (9_200_000, 1_000_000, date(1980, 1, 1), RelativeKind.SPOUSE_SPECIAL, 240_000),
        (10_000_000, 1_330_000, date(1980, 1, 1), RelativeKind.SPOUSE_SPECIAL, 10_000),
        (5_000_000, 1_330_001, date(1980, 1, 1), RelativeKind.NONE, 0),
        (10_000_001, 700_000, date(1980, 1, 1), RelativeKind.NONE, 0),
    ],
)
def test_spouse_by_both_incomes(
    rules: TaxRules,
    taxpayer: int,
    spouse_income: int,
    born: date,
    kind: RelativeKind,
    amount: int,
) -> None:
    spouse = Relative(birth_date=born, other_income=spouse_income)
    line = domain.spouse_line(rules, spouse, year=2025, taxpayer_income=taxpayer)
    assert (line.kind, line.amount) == (kind, amount)


@pytest.mark.parametrize(
    ("born", "salary", "kind", "amount"),
    [
        (date(2010, 1, 2), 0, RelativeKind.YOUNG_DEPENDANT, 0),  # 15 on 31 December
        (date(2010, 1, 1), 0, RelativeKind.DEPENDANT, 380_000),  # 16
        (date(2007, 1, 2), 0, RelativeKind.DEPENDANT, 380_000),  # 18
        (date(2007, 1, 1), 0, RelativeKind.SPECIFIED_DEPENDANT, 630_000),  # 19
        (date(2003, 1, 2), 1_230_000, RelativeKind.SPECIFIED_DEPENDANT, 630_000),  # 22
        (date(2003, 1, 1), 0, RelativeKind.DEPENDANT, 380_000),  # 23
        (date(1956, 1, 1), 0, RelativeKind.ELDERLY_DEPENDANT, 480_000),  # 70
        (date(2003, 1, 2), 1_230_001, RelativeKind.SPECIFIED_RELATIVE, 630_000),
        (date(2005, 5, 1), 1_510_000, RelativeKind.SPECIFIED_RELATIVE, 610_000),  # 86万円
        (date(2005, 5, 1), 1_850_000, RelativeKind.SPECIFIED_RELATIVE, 60_000),  # 120万円
        (date(2005, 5, 1), 1_880_000, RelativeKind.SPECIFIED_RELATIVE, 30_000),  # 123万円
        (date(2005, 5, 1), 1_884_000, RelativeKind.NONE, 0),  # 123.4万円
        (date(2003, 1, 1), 1_300_000, RelativeKind.NONE, 0),  # 23: not a 特定親族
    ],
)
def test_dependants_by_age_and_income(
    rules: TaxRules, born: date, salary: int, kind: RelativeKind, amount: int
) -> None:
    line = domain.dependant_line(rules, Relative(birth_date=born, salary=salary), year=2025)
    assert (line.kind, line.amount) == (kind, amount)


def test_an_elderly_parent_counts_more_only_when_living_together(rules: TaxRules) -> None:
    parent = Relative(birth_date=date(1950, 2, 2), lineal_ascendant=True, living_together=False)
    assert domain.dependant_line(rules, parent, year=2025).amount == 480_000


@pytest.mark.parametrize(
    ("disability", "living_together", "amount"),
    [
        (Disability.NONE, True, 0),
        (Disability.ORDINARY, True, 270_000),
        (Disability.SPECIAL, False, 400_000),
        (Disability.SPECIAL, True, 750_000),
    ],
)
def test_disability_of_a_relative(
    rules: TaxRules, disability: Disability, living_together: bool, amount: int
) -> None:
    relative = Relative(
        birth_date=date(2000, 1, 1), disability=disability, living_together=living_together
    )
    assert domain.dependant_line(rules, relative, year=2025).disability_amount == amount
    assert domain.own_disability_amount(rules, Disability.SPECIAL) == 400_000


def test_a_relative_with_too_much_income_brings_no_disability_deduction(
    rules: TaxRules,
) -> None:
    relative = Relative(
        birth_date=date(1990, 1, 1), salary=3_000_000, disability=Disability.ORDINARY
    )
    assert domain.dependant_line(rules, relative, year=2025).disability_amount == 0
