"""セルフメディケーション税制: purchases entered by the resident, and the choice between the two."""

from __future__ import annotations

import pytest

from myna.platform import i18n
from myna.tax import MedicalChoice, TaxInputError
from myna.tax import service as tax
from tests.integration.tax.conftest import LIFE, QUAKE, YEAR, TaxWorld

EVERYTHING = tax.Consents(salary=True, medical=True, certificates=frozenset({LIFE, QUAKE}))


def _start(world: TaxWorld, consents: tax.Consents = EVERYTHING) -> None:
    tax.start_return(session=world.session, hub=world.hub(), resident_id=world.taro, year=YEAR)
    tax.gather(
        session=world.session,
        hub=world.hub(),
        documents=world.box,
        resident_id=world.taro,
        year=YEAR,
        consents=consents,
    )


def _enter(world: TaxWorld, spent: int) -> tax.FieldRead:
    return tax.enter_self_medication(
        session=world.session, resident_id=world.taro, year=YEAR, spent=spent
    )


def _choose(world: TaxWorld, choice: MedicalChoice) -> None:
    tax.choose_medical(session=world.session, resident_id=world.taro, year=YEAR, choice=choice)


def _options(world: TaxWorld) -> tax.MedicalOptions:
    found = tax.medical_options(session=world.session, resident_id=world.taro, year=YEAR)
    assert found is not None
    return found


def test_purchases_are_a_field_entered_by_the_resident(world: TaxWorld) -> None:
    _start(world)
    spent = _enter(world, 50_000)
    assert (spent.section, spent.item, spent.value) == ("self_medication", "spent", 50_000)
    assert spent.source.kind == tax.RESIDENT
    listed = tax.fields(session=world.session, resident_id=world.taro, year=YEAR)
    assert spent.id in {f.id for f in listed}


def test_the_better_deduction_is_shown_and_the_residents_choice_is_used(world: TaxWorld) -> None:
    """医療費 130,000 (医療費通知) against 特定一般用医薬品等購入費 50,000, 令和7年分.

    医療費控除: 130,000 − min(100,000, 5 % × 4,360,000) = 30,000.
    セルフメディケーション: 50,000 − 12,000 = 38,000 (under the 88,000 limit): the better.
    Until the resident chooses, the return claims the 医療費控除 (30,000): 還付 25,920
    (test_return.py). Choosing the セルフメディケーション: deductions 1,680,000 − 30,000 +
    38,000 = 1,688,000; 課税される所得金額 4,360,000 − 1,688,000 = 2,672,000; 所得税
    267,200 − 97,500 = 169,700; 復興特別所得税 169,700 × 2.1 % = 3,563.7 → 3,563; together
    173,263; 還付 200,000 − 173,263 = 26,737.
    """
    _start(world)
    _enter(world, 50_000)
    options = _options(world)
    assert (options.medical_expenses, options.self_medication) == (30_000, 38_000)
    assert options.better is MedicalChoice.SELF_MEDICATION
    assert options.chosen is MedicalChoice.MEDICAL_EXPENSES
    before = tax.compute_return(session=world.session, resident_id=world.taro, year=YEAR)
    assert (before.medical, before.refund) == (30_000, 25_920)
    _choose(world, MedicalChoice.SELF_MEDICATION)
    assert _options(world).chosen is MedicalChoice.SELF_MEDICATION
    after = tax.compute_return(session=world.session, resident_id=world.taro, year=YEAR)
    assert after.medical_choice is MedicalChoice.SELF_MEDICATION
    assert after.medical == 38_000
    assert after.total_deductions == 1_688_000
    assert after.taxable_income == 2_672_000
    assert (after.income_tax, after.reconstruction_tax) == (169_700, 3_563)
    assert after.refund == 26_737


def test_without_medical_notices_a_small_purchase_still_is_the_better_choice(
    world: TaxWorld,
) -> None:
    """No 医療費通知 read: 医療費控除 0; purchases 12,001 → セルフメディケーション 1."""
    _start(world, tax.Consents(salary=True))
    _enter(world, 12_001)
    options = _options(world)
    assert (options.medical_expenses, options.self_medication) == (0, 1)
    assert options.better is MedicalChoice.SELF_MEDICATION


def test_a_choice_is_recorded_like_a_correction_and_cannot_be_corrected_as_an_amount(
    world: TaxWorld,
) -> None:
    _start(world)
    _enter(world, 50_000)
    _choose(world, MedicalChoice.SELF_MEDICATION)
    _choose(world, MedicalChoice.SELF_MEDICATION)  # the same choice again changes nothing
    listed = tax.corrections(session=world.session, resident_id=world.taro, year=YEAR)
    assert [(c.choice, c.old_value, c.new_value) for c in listed] == [(True, 0, 1)]
    claimed = next(
        f
        for f in tax.fields(session=world.session, resident_id=world.taro, year=YEAR)
        if f.item == "claimed"
    )
    with pytest.raises(tax.ReturnNotFoundError):
        tax.correct_field(
            session=world.session,
            resident_id=world.taro,
            year=YEAR,
            field_id=claimed.id,
            value=7,
        )
    assert _options(world).chosen is MedicalChoice.SELF_MEDICATION


def test_entering_the_purchases_again_is_a_recorded_correction(world: TaxWorld) -> None:
    _start(world)
    first = _enter(world, 50_000)
    again = _enter(world, 60_000)
    assert again.id == first.id
    assert (again.value, again.gathered_value, again.corrected) == (60_000, 50_000, True)
    listed = tax.corrections(session=world.session, resident_id=world.taro, year=YEAR)
    assert [(c.choice, c.old_value, c.new_value) for c in listed] == [(False, 50_000, 60_000)]
    assert _options(world).self_medication == 48_000


def test_self_medication_cannot_be_chosen_before_purchases_are_entered(world: TaxWorld) -> None:
    _start(world)
    with pytest.raises(tax.SelfMedicationNotEnteredError) as refused:
        _choose(world, MedicalChoice.SELF_MEDICATION)
    i18n.set_locale("ja")
    assert "特定一般用医薬品等の金額を入力してください" in refused.value.localized()
    _choose(world, MedicalChoice.MEDICAL_EXPENSES)  # the default: nothing to record
    assert tax.corrections(session=world.session, resident_id=world.taro, year=YEAR) == []
    assert _options(world).spent is None


@pytest.mark.parametrize(
    ("spent", "expected"),
    [
        (-1, "特定一般用医薬品等購入費: 金額にマイナスは入力できません。"),
        (10**12 + 1, "が大きすぎます"),
    ],
)
def test_a_negative_or_absurd_purchase_is_refused_in_japanese(
    world: TaxWorld, spent: int, expected: str
) -> None:
    _start(world)
    with pytest.raises(TaxInputError) as refused:
        _enter(world, spent)
    i18n.set_locale("ja")
    assert expected in refused.value.localized()
    assert _options(world).spent is None


def test_a_filed_return_takes_no_purchase_nor_choice(world: TaxWorld) -> None:
    from myna.tax.models import TaxReturnRow  # noqa: PLC0415

    _start(world)
    _enter(world, 50_000)
    row = world.session.get(
        TaxReturnRow,
        tax.tax_return(session=world.session, resident_id=world.taro, year=YEAR).id,
    )
    assert row is not None
    row.status = tax.FILED
    with pytest.raises(tax.ReturnNotDraftError):
        _enter(world, 60_000)
    with pytest.raises(tax.ReturnNotDraftError):
        _choose(world, MedicalChoice.SELF_MEDICATION)
