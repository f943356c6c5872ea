"""Gathering, correcting and computing 山田 太郎's 令和7年分 return."""

from __future__ import annotations

import pytest

from myna.medical.records import EXPENSE_ITEM
from myna.platform import i18n
from myna.tax import TaxInputError
from myna.tax import service as tax
from tests.integration.tax.conftest import LIFE, QUAKE, SALARY, YEAR, TaxWorld

EVERYTHING = tax.Consents(salary=True, medical=True, certificates=frozenset({LIFE, QUAKE}))


def _start_and_gather(world: TaxWorld, consents: tax.Consents = EVERYTHING) -> tax.GatherReport:
    tax.start_return(session=world.session, hub=world.hub(), resident_id=world.taro, year=YEAR)
    return tax.gather(
        session=world.session,
        hub=world.hub(),
        documents=world.box,
        resident_id=world.taro,
        year=YEAR,
        consents=consents,
    )


def _field(world: TaxWorld, section: str, item: str) -> tax.FieldRead:
    found = tax.fields(session=world.session, resident_id=world.taro, year=YEAR)
    return next(f for f in found if f.section == section and f.item == item)


def test_a_gathered_return_computes_the_hand_worked_refund(world: TaxWorld) -> None:
    """令和7年分, 山田 太郎 (40 on 31 December), one employer, two certificates, 医療費通知.

    給与所得: 6,000,000 is a multiple of 4,000 (所得税法別表第五), so
        6,000,000 × 80 % − 440,000 = 4,360,000 (合計所得金額).
    社会保険料控除 (源泉徴収票): 900,000.
    生命保険料控除 (一般・新制度 100,000, over 80,000): 40,000.
    地震保険料控除: 30,000 (under the 50,000 limit).
    医療費控除: paid in 2025 months 60,000 + 70,000 = 130,000 (December 2024 and
        January 2026 are other years); 130,000 − min(100,000, 5 % × 4,360,000 = 218,000)
        = 30,000.
    基礎控除 (合計所得金額 over 3,360,000 and up to 4,890,000): 680,000.
    所得控除の合計: 900,000 + 40,000 + 30,000 + 30,000 + 680,000 = 1,680,000.
    課税される所得金額: 4,360,000 − 1,680,000 = 2,680,000.
    所得税: 2,680,000 × 10 % − 97,500 = 170,500.
    復興特別所得税: 170,500 × 2.1 % = 3,580.5 → 3,580.
    所得税及び復興特別所得税: 174,080; 源泉徴収税額 200,000 → 還付 25,920.
    """
    report = _start_and_gather(world)
    assert report.documents == 3
    assert report.medical_read
    result = tax.compute_return(session=world.session, resident_id=world.taro, year=YEAR)
    assert result.income.salary_income == 4_360_000
    assert result.social_insurance == 900_000
    assert result.life_insurance.total == 40_000
    assert result.earthquake_insurance == 30_000
    assert result.medical == 30_000
    assert result.basic_deduction == 680_000
    assert result.total_deductions == 1_680_000
    assert result.taxable_income == 2_680_000
    assert result.income_tax == 170_500
    assert result.reconstruction_tax == 3_580
    assert result.withheld == 200_000
    assert (result.refund, result.due) == (25_920, 0)


def test_every_field_names_its_source(world: TaxWorld) -> None:
    _start_and_gather(world)
    withheld = _field(world, "salary", "withheld")
    assert withheld.value == 200_000
    assert withheld.source.kind == tax.DOCUMENT
    assert withheld.source.delivery_id == SALARY
    assert withheld.source.document_id == "GS-2025-0001"
    assert withheld.source.name == "株式会社みなと商事"
    assert withheld.source.on is not None
    assert withheld.source.on.isoformat() == "2026-01-20"
    medical = _field(world, "medical", "paid")
    assert (medical.value, medical.source.kind) == (130_000, tax.MEDICAL_NOTICE)


def test_medical_expenses_are_asked_through_the_hub_once_and_logged(world: TaxWorld) -> None:
    before = world.exchanges(EXPENSE_ITEM)
    _start_and_gather(world)
    assert world.exchanges(EXPENSE_ITEM) == before + 1
    assert world.exchanges("medication") == 0  # the return asks for nothing else of health


def test_a_source_not_agreed_to_is_not_read(world: TaxWorld) -> None:
    before = world.exchanges(EXPENSE_ITEM)
    report = _start_and_gather(world, tax.Consents(salary=True))
    assert world.exchanges(EXPENSE_ITEM) == before
    assert not report.medical_read
    sections = {
        f.section for f in tax.fields(session=world.session, resident_id=world.taro, year=YEAR)
    }
    assert sections == {"salary"}


def test_without_any_document_agreed_the_box_is_not_opened(world: TaxWorld) -> None:
    _start_and_gather(world, tax.Consents(medical=True))
    assert world.box.reads == []


def test_each_certificate_is_agreed_to_on_its_own(world: TaxWorld) -> None:
    _start_and_gather(world, tax.Consents(certificates=frozenset({QUAKE})))
    sections = {
        f.section for f in tax.fields(session=world.session, resident_id=world.taro, year=YEAR)
    }
    assert sections == {"earthquake"}


def test_a_correction_is_recorded_and_changes_the_result(world: TaxWorld) -> None:
    """Life insurance corrected from 100,000 to 60,000: 60,000 × 1/4 + 20,000 = 35,000.

    Deductions 1,675,000; taxable 2,685,000; tax 268,500 − 97,500 = 171,000; 復興特別
    所得税 3,591; together 174,591; refund 200,000 − 174,591 = 25,409.
    """
    _start_and_gather(world)
    life = _field(world, "life_insurance", "new_general")
    correction = tax.correct_field(
        session=world.session, resident_id=world.taro, year=YEAR, field_id=life.id, value=60_000
    )
    assert (correction.old_value, correction.new_value) == (100_000, 60_000)
    assert correction.corrected_by == world.taro
    listed = tax.corrections(session=world.session, resident_id=world.taro, year=YEAR)
    assert [(c.field_id, c.old_value, c.new_value) for c in listed] == [(life.id, 100_000, 60_000)]
    after = _field(world, "life_insurance", "new_general")
    assert (after.value, after.gathered_value, after.corrected) == (60_000, 100_000, True)
    result = tax.compute_return(session=world.session, resident_id=world.taro, year=YEAR)
    assert result.life_insurance.total == 35_000
    assert result.reconstruction_tax == 3_591
    assert result.refund == 25_409


def test_gathering_again_keeps_a_corrected_value(world: TaxWorld) -> None:
    _start_and_gather(world)
    life = _field(world, "life_insurance", "new_general")
    tax.correct_field(
        session=world.session, resident_id=world.taro, year=YEAR, field_id=life.id, value=60_000
    )
    tax.gather(
        session=world.session,
        hub=world.hub(),
        documents=world.box,
        resident_id=world.taro,
        year=YEAR,
        consents=EVERYTHING,
    )
    assert _field(world, "life_insurance", "new_general").value == 60_000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-1, "金額にマイナスは入力できません。"),
        (10**12 + 1, "が大きすぎます"),
    ],
)
def test_absurd_corrections_are_refused_in_japanese(
    world: TaxWorld, value: int, expected: str
) -> None:
    _start_and_gather(world)
    paid = _field(world, "salary", "paid")
    with pytest.raises(TaxInputError) as refused:
        tax.correct_field(
            session=world.session, resident_id=world.taro, year=YEAR, field_id=paid.id, value=value
        )
    i18n.set_locale("ja")
    assert expected in refused.value.localized()
    assert _field(world, "salary", "paid").value == 6_000_000
    assert tax.corrections(session=world.session, resident_id=world.taro, year=YEAR) == []


def test_another_resident_can_neither_see_nor_correct_the_return(world: TaxWorld) -> None:
    _start_and_gather(world)
    paid = _field(world, "salary", "paid")
    misaki = world.residents["misaki"].id
    with pytest.raises(tax.ReturnNotFoundError):
        tax.fields(session=world.session, resident_id=misaki, year=YEAR)
    tax.start_return(session=world.session, hub=world.hub(), resident_id=misaki, year=YEAR)
    assert tax.fields(session=world.session, resident_id=misaki, year=YEAR) == []
    with pytest.raises(tax.ReturnNotFoundError):
        tax.correct_field(
            session=world.session, resident_id=misaki, year=YEAR, field_id=paid.id, value=1
        )
    assert _field(world, "salary", "paid").value == 6_000_000


def test_one_return_per_resident_and_year(world: TaxWorld) -> None:
    first = tax.start_return(
        session=world.session, hub=world.hub(), resident_id=world.taro, year=YEAR
    )
    again = tax.start_return(
        session=world.session, hub=world.hub(), resident_id=world.taro, year=YEAR
    )
    assert first.id == again.id
    assert first.name == "令和7年分"
    assert first.birth_date.isoformat() == "1985-04-12"  # asked through the hub


def test_a_year_without_rules_cannot_be_started(world: TaxWorld) -> None:
    from myna.tax import UnknownTaxYearError  # noqa: PLC0415

    with pytest.raises(UnknownTaxYearError):
        tax.start_return(session=world.session, hub=world.hub(), resident_id=world.taro, year=1999)
