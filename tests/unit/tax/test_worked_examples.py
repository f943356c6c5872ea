"""Whole returns for 令和7年分, each computed by hand in its docstring, step by step.

The figures follow the 申告書第一表: income, deductions, 課税される所得金額 (1,000円未満
切捨て), tax by the 速算表, 復興特別所得税 2.1 % (1円未満切捨て), less 源泉徴収税額, the
amount due rounded down to 100 yen, a refund paid in full.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from myna.tax import (
    Disability,
    EarthquakePremiums,
    LifeInsurancePremiums,
    MedicalChoice,
    MedicalExpenses,
    PensionSlip,
    Relative,
    RelativeKind,
    SalarySlip,
    TaxReturnInput,
    TaxRules,
    better_medical_choice,
    compute,
    load_rules,
)


@pytest.fixture(scope="module")
def rules() -> TaxRules:
    return load_rules(2025)


def test_an_employee_with_insurance_and_medical_expenses_gets_a_refund(rules: TaxRules) -> None:
    """Salary 5,000,000, social insurance 750,000, life and earthquake insurance, medical.

    1. 給与所得: 5,000,000 is below 660万円, rounded to 4,000 yen it stays 5,000,000;
       給与所得控除 = 5,000,000 × 20 % + 440,000 = 1,440,000; 給与所得 = 3,560,000.
    2. 合計所得金額 = 総所得金額等 = 3,560,000.
    3. 社会保険料控除 750,000 (the 源泉徴収票).
    4. 生命保険料控除: new general 100,000 > 80,000 → 40,000; new 介護医療 60,000 →
       60,000 / 4 + 20,000 = 35,000; total 75,000.
    5. 地震保険料控除: 30,000 in full.
    6. 医療費控除: 150,000 − 0 − min(100,000, 5 % × 3,560,000 = 178,000) = 50,000.
    7. 基礎控除: 3,560,000 is over 336万円 and at most 489万円 → 680,000.
    8. 所得控除 = 750,000 + 75,000 + 30,000 + 50,000 + 680,000 = 1,585,000.
    9. 課税される所得金額 = 3,560,000 − 1,585,000 = 1,975,000.
    10. 所得税: 1,975,000 × 10 % − 97,500 = 100,000; 復興特別所得税 100,000 × 2.1 % =
        2,100; total 102,100.
    11. The employer withheld 107,200 (the 年末調整 without the medical expenses:
        taxable 2,025,000 → 105,000 × 1.021 = 107,205, 100円未満切捨て).
    12. 申告納税額 102,100 − 107,200 = −5,100 → refund 5,100.
    """
    inputs = TaxReturnInput(
        year=2025,
        birth_date=date(1985, 4, 1),
        salaries=(SalarySlip(paid=5_000_000, withheld=107_200, social_insurance=750_000),),
        life_insurance=LifeInsurancePremiums(new_general=100_000, new_medical=60_000),
        earthquake_insurance=EarthquakePremiums(earthquake=30_000),
        medical_expenses=MedicalExpenses(paid=150_000),
    )
    result = compute(rules, inputs)

    assert result.income.salary_deduction == 1_440_000
    assert result.income.salary_income == 3_560_000
    assert result.total_income == 3_560_000
    assert result.social_insurance == 750_000
    assert (result.life_insurance.general, result.life_insurance.medical) == (40_000, 35_000)
    assert result.life_insurance.total == 75_000
    assert result.earthquake_insurance == 30_000
    assert result.medical == 50_000
    assert result.basic_deduction == 680_000
    assert result.total_deductions == 1_585_000
    assert result.taxable_income == 1_975_000
    assert result.income_tax == 100_000
    assert result.reconstruction_tax == 2_100
    assert result.total_tax == 102_100
    assert result.declared_tax == -5_100
    assert (result.refund, result.due) == (5_100, 0)


def test_a_pensioner_of_70_with_a_spouse_pays_nothing_and_gets_the_withholding_back(
    rules: TaxRules,
) -> None:
    """Pension 2,400,000 at 70, 介護保険料 etc. 150,000 taken from it, a spouse of 68.

    1. Age on 31 December 2025 (born 1955-06-15): 70, so the 65歳以上 table.
    2. 公的年金等控除: 2,400,000 ≤ 3,300,000 → 1,100,000; 雑所得 = 1,300,000.
    3. The spouse (born 1957-03-10, 68): pension 800,000 − 1,100,000 → 所得 0 ≤ 58万円,
       so a 控除対象配偶者 under 70; the taxpayer's 1,300,000 ≤ 900万円 → 380,000.
    4. 社会保険料控除 150,000 (the pension slip).
    5. 基礎控除: 1,300,000 ≤ 132万円 → 950,000.
    6. 所得控除 = 150,000 + 380,000 + 950,000 = 1,480,000 > 1,300,000 → 課税所得 0.
    7. Tax 0; the 8,168 yen withheld from the pension are refunded in full (a refund is
       not rounded to 100 yen).
    """
    inputs = TaxReturnInput(
        year=2025,
        birth_date=date(1955, 6, 15),
        pensions=(PensionSlip(paid=2_400_000, withheld=8_168, social_insurance=150_000),),
        spouse=Relative(birth_date=date(1957, 3, 10), pension=800_000),
    )
    result = compute(rules, inputs)

    assert result.income.age == 70
    assert result.income.pension_deduction == 1_100_000
    assert result.income.pension_income == 1_300_000
    assert result.spouse is not None
    assert (result.spouse.kind, result.spouse.income) == (RelativeKind.SPOUSE, 0)
    assert result.spouse_deduction == 380_000
    assert result.basic_deduction == 950_000
    assert result.total_deductions == 1_480_000
    assert result.taxable_income == 0
    assert result.total_tax == 0
    assert (result.refund, result.due) == (8_168, 0)


def test_self_medication_or_medical_expenses_whichever_the_taxpayer_declares(
    rules: TaxRules,
) -> None:
    """Salary 4,000,000, social insurance 600,000; medical 80,000 or self-medication 40,000.

    1. 給与所得: 4,000,000 × 20 % + 440,000 = 1,240,000 → 2,760,000; 基礎控除 880,000.
    2. 医療費控除: 80,000 − min(100,000, 138,000) < 0 → 0.
       セルフメディケーション: 40,000 − 12,000 = 28,000, so it is the better choice.
    3. With セルフメディケーション: 所得控除 600,000 + 28,000 + 880,000 = 1,508,000;
       課税所得 1,252,000; 所得税 62,600; 復興 62,600 × 2.1 % = 1,314.6 → 1,314;
       total 63,914; withheld 65,000 → refund 1,086.
    4. With 医療費控除 (nothing): 所得控除 1,480,000; 課税所得 1,280,000; 所得税 64,000;
       復興 1,344; total 65,344; less 65,000 = 344 → 300 due (100円未満切捨て).
    """
    inputs = TaxReturnInput(
        year=2025,
        birth_date=date(1990, 9, 9),
        salaries=(SalarySlip(paid=4_000_000, withheld=65_000, social_insurance=600_000),),
        medical_expenses=MedicalExpenses(paid=80_000),
        self_medication_spent=40_000,
        medical_choice=MedicalChoice.SELF_MEDICATION,
    )
    assert better_medical_choice(rules, inputs) is MedicalChoice.SELF_MEDICATION

    chosen = compute(rules, inputs)
    assert chosen.medical == 28_000
    assert chosen.taxable_income == 1_252_000
    assert (chosen.income_tax, chosen.reconstruction_tax) == (62_600, 1_314)
    assert (chosen.refund, chosen.due) == (1_086, 0)

    other = compute(rules, replace(inputs, medical_choice=MedicalChoice.MEDICAL_EXPENSES))
    assert other.medical == 0
    assert other.taxable_income == 1_280_000
    assert other.total_tax == 65_344
    assert (other.declared_tax, other.due, other.refund) == (300, 300, 0)


def test_medical_expenses_win_when_they_are_large(rules: TaxRules) -> None:
    """Paid 300,000, reimbursed 0, against self-medication 50,000 on salary 4,000,000.

    医療費控除 300,000 − 100,000 = 200,000; セルフメディケーション 50,000 − 12,000 = 38,000.
    """
    inputs = TaxReturnInput(
        year=2025,
        birth_date=date(1990, 9, 9),
        salaries=(SalarySlip(paid=4_000_000),),
        medical_expenses=MedicalExpenses(paid=300_000),
        self_medication_spent=50_000,
    )
    assert better_medical_choice(rules, inputs) is MedicalChoice.MEDICAL_EXPENSES
    assert compute(rules, inputs).medical == 200_000


def test_a_furusato_donation_of_50000_yen(rules: TaxRules) -> None:
    """Salary 6,000,000, social insurance 900,000, ふるさと納税 50,000.

    1. 給与所得: 6,000,000 × 20 % + 440,000 = 1,640,000 → 4,360,000; 基礎控除 680,000.
    2. 寄附金控除: min(50,000, 40 % × 4,360,000 = 1,744,000) − 2,000 = 48,000.
    3. 所得控除 900,000 + 48,000 + 680,000 = 1,628,000; 課税所得 2,732,000.
    4. 所得税 2,732,000 × 10 % − 97,500 = 175,700; 復興 175,700 × 2.1 % = 3,689.7 →
       3,689; total 179,389.
    5. Withheld at the 年末調整 (no donation): taxable 2,780,000 → 180,500 × 1.021 =
       184,290.5 → 184,200. Refund 184,200 − 179,389 = 4,811.
    """
    inputs = TaxReturnInput(
        year=2025,
        birth_date=date(1980, 1, 20),
        salaries=(SalarySlip(paid=6_000_000, withheld=184_200, social_insurance=900_000),),
        donations=50_000,
    )
    result = compute(rules, inputs)
    assert result.total_income == 4_360_000
    assert result.donations == 48_000
    assert result.taxable_income == 2_732_000
    assert (result.income_tax, result.reconstruction_tax) == (175_700, 3_689)
    assert result.refund == 4_811


def test_a_high_income_shrinks_the_basic_deduction_and_pays_the_balance(
    rules: TaxRules,
) -> None:
    """Salary 26,000,000, social insurance 2,000,000, withheld 5,900,000, prepaid 40,000.

    1. 給与所得控除 is at its maximum 1,950,000 → 給与所得 24,050,000.
    2. 基礎控除: 2,400万円超2,450万円以下 → 320,000.
    3. 所得控除 2,320,000; 課税所得 21,730,000.
    4. 所得税 21,730,000 × 40 % − 2,796,000 = 5,896,000; 復興 123,816; total 6,019,816.
    5. 申告納税額 6,019,816 − 5,900,000 = 119,816 → 119,800; less 予定納税 40,000 →
       79,800 due (第3期分).
    """
    inputs = TaxReturnInput(
        year=2025,
        birth_date=date(1970, 7, 7),
        salaries=(SalarySlip(paid=26_000_000, withheld=5_900_000, social_insurance=2_000_000),),
        prepaid_tax=40_000,
    )
    result = compute(rules, inputs)
    assert result.income.salary_deduction == 1_950_000
    assert result.basic_deduction == 320_000
    assert result.taxable_income == 21_730_000
    assert (result.income_tax, result.reconstruction_tax) == (5_896_000, 123_816)
    assert result.declared_tax == 119_800
    assert (result.due, result.refund) == (79_800, 0)


def test_a_student_child_with_a_part_time_job_gives_the_specified_relative_deduction(
    rules: TaxRules,
) -> None:
    """Salary 7,000,000, social insurance 1,000,000; a child of 20 earning 1,500,000.

    1. 給与所得: 7,000,000 × 10 % + 1,100,000 = 1,800,000 → 5,200,000; 基礎控除 630,000.
    2. The child (born 2005-05-01, 20 on 31 December): salary 1,500,000 − 650,000 =
       850,000 > 58万円, so not a 扶養親族; 19–22 and ≤ 123万円 → 特定親族特別控除, band
       58万円超85万円以下 (exactly at its top) → 630,000.
    3. 所得控除 1,000,000 + 630,000 + 630,000 = 2,260,000; 課税所得 2,940,000.
    4. 所得税 294,000 − 97,500 = 196,500; 復興 4,126.5 → 4,126; total 200,626.
    5. Withheld 200,000 → 626 → 600 due.
    """
    inputs = TaxReturnInput(
        year=2025,
        birth_date=date(1975, 3, 3),
        salaries=(SalarySlip(paid=7_000_000, withheld=200_000, social_insurance=1_000_000),),
        dependants=(Relative(birth_date=date(2005, 5, 1), salary=1_500_000),),
    )
    result = compute(rules, inputs)
    (child,) = result.dependants
    assert (child.age, child.income, child.kind) == (20, 850_000, RelativeKind.SPECIFIED_RELATIVE)
    assert result.specified_relative_deduction == 630_000
    assert result.dependant_deduction == 0
    assert result.taxable_income == 2_940_000
    assert result.total_tax == 200_626
    assert (result.due, result.refund) == (600, 0)


def test_a_spouse_special_deduction_and_the_income_adjustment_for_a_young_child(
    rules: TaxRules,
) -> None:
    """Salary 9,000,000 with a child of 10; the spouse earns 1,600,000.

    1. 給与所得控除 1,950,000 → 7,050,000; 所得金額調整控除 (salary over 850万円 and a
       扶養親族 under 23): (9,000,000 − 8,500,000) × 10 % = 50,000 → 給与所得 7,000,000.
    2. The child (10) is a 年少扶養親族: no 扶養控除.
    3. The spouse: 1,600,000 − 650,000 = 950,000 > 58万円 → 配偶者特別控除, row 95万円以下,
       taxpayer ≤ 900万円 → 380,000.
    4. 基礎控除 580,000 (655万円超2,350万円以下); social insurance 1,300,000.
    5. 所得控除 2,260,000; 課税所得 4,740,000; 所得税 948,000 − 427,500 = 520,500;
       復興 10,930.5 → 10,930; total 531,430.
    6. Withheld 531,400 → 30 → 申告納税額 0 (100円未満切捨て): nothing due, nothing back.
    """
    inputs = TaxReturnInput(
        year=2025,
        birth_date=date(1982, 11, 30),
        salaries=(SalarySlip(paid=9_000_000, withheld=531_400, social_insurance=1_300_000),),
        spouse=Relative(birth_date=date(1984, 2, 2), salary=1_600_000),
        dependants=(Relative(birth_date=date(2015, 8, 8)),),
    )
    result = compute(rules, inputs)
    assert result.income.income_adjustment == 50_000
    assert result.income.salary_income == 7_000_000
    assert result.dependants[0].kind is RelativeKind.YOUNG_DEPENDANT
    assert result.spouse_special_deduction == 380_000
    assert result.basic_deduction == 580_000
    assert result.taxable_income == 4_740_000
    assert result.total_tax == 531_430
    assert (result.declared_tax, result.due, result.refund) == (0, 0, 0)


def test_both_roundings_on_a_pension_with_yen_fractions(rules: TaxRules) -> None:
    """A pensioner of 70 with a pension of 3,500,999 and nothing withheld.

    1. 公的年金等控除: 3,500,999 × 25 % = 875,249.75 → 875,250 (in the taxpayer's favour)
       + 275,000 = 1,150,250; 雑所得 2,350,749.
    2. 基礎控除 880,000; 課税所得 1,470,749 → 1,470,000 (1,000円未満切捨て).
    3. 所得税 73,500; 復興 1,543.5 → 1,543; total 75,043 → 75,000 due (100円未満切捨て).
    """
    inputs = TaxReturnInput(
        year=2025,
        birth_date=date(1955, 1, 1),
        pensions=(PensionSlip(paid=3_500_999),),
    )
    result = compute(rules, inputs)
    assert result.income.pension_income == 2_350_749
    assert result.taxable_income == 1_470_000
    assert result.total_tax == 75_043
    assert result.due == 75_000


def test_an_elderly_parent_living_together_and_a_disabled_child(rules: TaxRules) -> None:
    """Salary 5,000,000 (給与所得 3,560,000); a mother of 80 at home; a son of 17 disabled.

    1. The mother: 70 or more, a 直系尊属 living together, no income → 同居老親等 580,000.
    2. The son: 17, no income → 一般の扶養親族 380,000; 特別障害者 living together →
       障害者控除 750,000 (同居特別障害者).
    3. 基礎控除 680,000; social insurance 700,000.
    4. 所得控除 580,000 + 380,000 + 750,000 + 680,000 + 700,000 = 3,090,000;
       課税所得 470,000; 所得税 23,500; 復興 493.5 → 493; total 23,993;
       withheld 30,000 → refund 6,007.
    """
    inputs = TaxReturnInput(
        year=2025,
        birth_date=date(1978, 5, 5),
        salaries=(SalarySlip(paid=5_000_000, withheld=30_000, social_insurance=700_000),),
        dependants=(
            Relative(birth_date=date(1945, 4, 4), lineal_ascendant=True),
            Relative(birth_date=date(2008, 6, 6), disability=Disability.SPECIAL),
        ),
    )
    result = compute(rules, inputs)
    mother, son = result.dependants
    assert (mother.kind, mother.amount) == (RelativeKind.ELDERLY_PARENT, 580_000)
    assert (son.kind, son.amount, son.disability_amount) == (
        RelativeKind.DEPENDANT,
        380_000,
        750_000,
    )
    assert result.dependant_deduction == 960_000
    assert result.disability == 750_000
    assert result.total_deductions == 3_090_000
    assert result.taxable_income == 470_000
    assert result.total_tax == 23_993
    assert result.refund == 6_007


def test_every_figure_is_named_for_the_form(rules: TaxRules) -> None:
    inputs = TaxReturnInput(
        year=2025, birth_date=date(1985, 4, 1), salaries=(SalarySlip(paid=5_000_000),)
    )
    figures = compute(rules, inputs).figures()
    assert figures["income.salary_income"] == 3_560_000
    assert figures["life_insurance.total"] == 0
    assert figures["taxable_income"] == 2_880_000
    assert "year" in figures
