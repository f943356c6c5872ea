"""Properties over many generated returns: monotonic tax, caps kept, negatives refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myna.tax import (
    EarthquakePremiums,
    LifeInsurancePremiums,
    MedicalChoice,
    MedicalExpenses,
    PensionSlip,
    Relative,
    SalarySlip,
    TaxInputError,
    TaxReturnInput,
    compute,
    load_rules,
)

RULES = load_rules(2025)
yen = st.integers(min_value=0, max_value=50_000_000)
small = st.integers(min_value=0, max_value=500_000)
born = st.dates(min_value=date(1930, 1, 1), max_value=date(2025, 12, 31))


@st.composite
def returns(draw: st.DrawFn) -> TaxReturnInput:
    paid = draw(yen)
    reimbursed = draw(st.integers(min_value=0, max_value=paid))
    spouse = draw(st.none() | st.builds(Relative, birth_date=born, salary=small, pension=small))
    return TaxReturnInput(
        year=2025,
        birth_date=draw(born),
        salaries=(SalarySlip(paid=draw(yen), social_insurance=draw(small)),),
        pensions=(PensionSlip(paid=draw(st.integers(0, 5_000_000))),),
        life_insurance=LifeInsurancePremiums(
            new_general=draw(small),
            new_medical=draw(small),
            new_annuity=draw(small),
            old_general=draw(small),
            old_annuity=draw(small),
        ),
        earthquake_insurance=EarthquakePremiums(earthquake=draw(small), old_long_term=draw(small)),
        medical_choice=draw(st.sampled_from(MedicalChoice)),
        medical_expenses=MedicalExpenses(paid=draw(small) + reimbursed, reimbursed=reimbursed),
        self_medication_spent=draw(small),
        donations=draw(yen),
        spouse=spouse,
        dependants=tuple(
            draw(st.lists(st.builds(Relative, birth_date=born, salary=small), max_size=3))
        ),
    )


@settings(max_examples=150, deadline=None)
@given(returns(), st.integers(min_value=1, max_value=5_000_000))
def test_more_salary_never_lowers_the_tax(inputs: TaxReturnInput, more: int) -> None:
    (slip,) = inputs.salaries
    richer = replace(inputs, salaries=(replace(slip, paid=slip.paid + more),))
    assert compute(RULES, richer).total_tax >= compute(RULES, inputs).total_tax


@settings(max_examples=150, deadline=None)
@given(returns())
def test_caps_are_never_exceeded(inputs: TaxReturnInput) -> None:
    result = compute(RULES, inputs)
    life = result.life_insurance
    assert max(life.general, life.annuity) <= 50_000
    assert life.medical <= 40_000
    assert life.total <= 120_000
    assert result.earthquake_insurance <= 50_000
    limit = 88_000 if inputs.medical_choice is MedicalChoice.SELF_MEDICATION else 2_000_000
    assert 0 <= result.medical <= limit
    assert result.donations <= result.total_income * 40 // 100
    assert result.taxable_income % 1_000 == 0
    assert result.taxable_income <= result.total_income
    assert result.due % 100 == 0
    assert result.due == 0 or result.refund == 0
    assert result.due - result.refund == result.declared_tax - result.prepaid_tax


@settings(max_examples=100, deadline=None)
@given(
    returns(),
    st.sampled_from(["social_insurance", "donations", "self_medication_spent", "prepaid_tax"]),
    st.integers(max_value=-1),
)
def test_negative_amounts_are_always_refused(inputs: TaxReturnInput, name: str, value: int) -> None:
    with pytest.raises(TaxInputError) as caught:
        compute(RULES, replace(inputs, **{name: value}))
    assert name in [problem.field for problem in caught.value.problems]


@settings(max_examples=50, deadline=None)
@given(returns(), st.integers(max_value=-1))
def test_a_negative_salary_is_refused(inputs: TaxReturnInput, value: int) -> None:
    with pytest.raises(TaxInputError):
        compute(RULES, replace(inputs, salaries=(SalarySlip(paid=value),)))
