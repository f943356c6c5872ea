"""配偶者控除・扶養控除 from 山田 太郎's household, read through the hub with his consent."""

from __future__ import annotations

from datetime import date

import pytest

from myna import agencies, network
from myna.agencies.schemas import RecordWrite
from myna.platform import i18n
from myna.tax import RelativeKind, TaxInputError, Tie
from myna.tax import service as tax
from tests.integration.tax.conftest import (
    CHIYODA,
    LIFE,
    QUAKE,
    YEAR,
    TaxWorld,
    Unanswering,
    set_household,
)

DOCUMENTS = tax.Consents(salary=True, medical=True, certificates=frozenset({LIFE, QUAKE}))
WITH_HOUSEHOLD = tax.Consents(
    salary=True, medical=True, certificates=frozenset({LIFE, QUAKE}), household=True
)
HANAKO = ("妻", date(1987, 9, 3))
HARUTO = ("子", date(2016, 6, 20))
SAKURA = ("子", date(2008, 5, 1))  # 17 on 31 December 2025
KENTA = ("子", date(2005, 8, 15))  # 20 on 31 December 2025


def _gather(world: TaxWorld, consents: tax.Consents = WITH_HOUSEHOLD) -> tax.GatherReport:
    tax.start_return(session=world.session, hub=world.hub(), resident_id=world.taro, year=YEAR)
    return _again(world, consents)


def _again(world: TaxWorld, consents: tax.Consents = WITH_HOUSEHOLD) -> tax.GatherReport:
    return tax.gather(
        session=world.session,
        hub=world.hub(),
        documents=world.box,
        resident_id=world.taro,
        year=YEAR,
        consents=consents,
    )


def _relatives(world: TaxWorld) -> list[tax.RelativeRead]:
    return tax.relatives(session=world.session, resident_id=world.taro, year=YEAR)


def test_hanako_is_read_as_his_spouse_and_the_refund_is_worked_by_hand(world: TaxWorld) -> None:
    """令和7年分, 太郎 with 花子 (his wife, 給与 900,000) and 陽翔 (9) in his household.

    The base return (test_return.py): 合計所得金額 4,360,000, 所得控除 1,680,000.
    花子's 合計所得金額 as 千代田区 assessed it: 900,000 − 650,000 (給与所得控除) = 250,000,
        at most 580,000: 控除対象配偶者; 太郎's 合計所得金額 is at most 9,000,000 → 配偶者控除
        380,000.
    陽翔 is 9 on 31 December 2025: 年少扶養親族, no 扶養控除.
    所得控除の合計: 1,680,000 + 380,000 = 2,060,000.
    課税される所得金額: 4,360,000 − 2,060,000 = 2,300,000.
    所得税: 2,300,000 × 10 % − 97,500 = 132,500; 復興特別所得税: 132,500 × 2.1 % = 2,782.5
        → 2,782; together 135,282; 源泉徴収税額 200,000 → 還付 64,718.
    """
    report = _gather(world)
    assert (report.household, report.relatives) == (tax.READ, 2)
    spouse, son = _relatives(world)
    assert (spouse.tie, spouse.relation, spouse.birth_date) == (Tie.SPOUSE, "妻", date(1987, 9, 3))
    assert (spouse.field.value, spouse.field.source.kind) == (250_000, tax.MUNICIPALITY)
    assert (spouse.kind, spouse.amount, spouse.age) == (RelativeKind.SPOUSE, 380_000, 38)
    assert (son.tie, son.relation, son.age) == (Tie.RELATIVE, "子", 9)
    assert (son.field.value, son.field.source.kind) == (0, tax.ASSUMED)  # not assessed
    assert (son.kind, son.amount) == (RelativeKind.YOUNG_DEPENDANT, 0)
    result = tax.compute_return(session=world.session, resident_id=world.taro, year=YEAR)
    assert result.spouse_deduction == 380_000
    assert result.dependant_deduction == 0
    assert result.total_deductions == 2_060_000
    assert result.taxable_income == 2_300_000
    assert (result.income_tax, result.reconstruction_tax) == (132_500, 2_782)
    assert result.refund == 64_718


def test_children_of_16_to_18_and_19_to_22_bring_the_two_dependant_amounts(
    world: TaxWorld,
) -> None:
    """令和7年分: 花子 (250,000), さくら 17 and 健太 20 (a student earning 300,000 of 所得).

    さくら is 17 on 31 December 2025, no income on record (assumed none): 一般の控除対象
        扶養親族 380,000.
    健太 is 20, 合計所得金額 300,000 ≤ 580,000: 特定扶養親族 630,000.
    陽翔 (9): none. 配偶者控除 for 花子: 380,000.
    所得控除の合計: 1,680,000 + 380,000 + 380,000 + 630,000 = 3,070,000.
    課税される所得金額: 4,360,000 − 3,070,000 = 1,290,000; 所得税 5 %: 64,500;
        復興特別所得税 1,354.5 → 1,354; together 65,854; 還付 200,000 − 65,854 = 134,146.
    """
    set_household(world, [HANAKO, HARUTO, SAKURA, KENTA], {2: 250_000, 5: 300_000})
    _gather(world)
    lines = {(r.relation, r.age): (r.kind, r.amount) for r in _relatives(world)}
    assert lines == {
        ("妻", 38): (RelativeKind.SPOUSE, 380_000),
        ("子", 9): (RelativeKind.YOUNG_DEPENDANT, 0),
        ("子", 17): (RelativeKind.DEPENDANT, 380_000),
        ("子", 20): (RelativeKind.SPECIFIED_DEPENDANT, 630_000),
    }
    result = tax.compute_return(session=world.session, resident_id=world.taro, year=YEAR)
    assert result.dependant_deduction == 1_010_000
    assert result.total_deductions == 3_070_000
    assert result.taxable_income == 1_290_000
    assert (result.income_tax, result.reconstruction_tax) == (64_500, 1_354)
    assert result.refund == 134_146


def test_correcting_a_relatives_income_is_recorded_and_changes_how_they_count(
    world: TaxWorld,
) -> None:
    """健太 (20) corrected from 300,000 to 900,000: no longer a 扶養親族 (over 580,000) but
    特定親族特別控除 (over 850,000, at most 900,000): 610,000 instead of 630,000.

    所得控除の合計 3,070,000 − 20,000 = 3,050,000; 課税される所得金額 1,310,000;
    所得税 65,500; 復興特別所得税 1,375.5 → 1,375; together 66,875; 還付 133,125.
    """
    set_household(world, [HANAKO, HARUTO, SAKURA, KENTA], {2: 250_000, 5: 300_000})
    _gather(world)
    kenta = next(r for r in _relatives(world) if r.age == 20)
    correction = tax.correct_field(
        session=world.session,
        resident_id=world.taro,
        year=YEAR,
        field_id=kenta.field.id,
        value=900_000,
    )
    assert (correction.old_value, correction.new_value) == (300_000, 900_000)
    after = next(r for r in _relatives(world) if r.age == 20)
    assert (after.kind, after.amount) == (RelativeKind.SPECIFIED_RELATIVE, 610_000)
    assert (after.field.value, after.field.gathered_value) == (900_000, 300_000)
    result = tax.compute_return(session=world.session, resident_id=world.taro, year=YEAR)
    assert result.specified_relative_deduction == 610_000
    assert result.refund == 133_125


def test_a_spouse_earning_more_brings_the_special_spouse_deduction(world: TaxWorld) -> None:
    """花子 corrected to 1,000,000: 配偶者特別控除 (over 950,000, at most 1,000,000), 360,000.

    所得控除の合計 1,680,000 + 360,000 = 2,040,000; 課税される所得金額 2,320,000;
    所得税 232,000 − 97,500 = 134,500; 復興特別所得税 2,824.5 → 2,824; 還付 62,676.
    """
    _gather(world)
    spouse = _relatives(world)[0]
    tax.correct_field(
        session=world.session,
        resident_id=world.taro,
        year=YEAR,
        field_id=spouse.field.id,
        value=1_000_000,
    )
    result = tax.compute_return(session=world.session, resident_id=world.taro, year=YEAR)
    assert (result.spouse_deduction, result.spouse_special_deduction) == (0, 360_000)
    assert result.refund == 62_676


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-1, "配偶者: 金額にマイナスは入力できません。"), (10**12 + 1, "が大きすぎます")],
)
def test_a_negative_or_absurd_income_of_a_relative_is_refused_in_japanese(
    world: TaxWorld, value: int, expected: str
) -> None:
    _gather(world)
    spouse = _relatives(world)[0]
    with pytest.raises(TaxInputError) as refused:
        tax.correct_field(
            session=world.session,
            resident_id=world.taro,
            year=YEAR,
            field_id=spouse.field.id,
            value=value,
        )
    i18n.set_locale("ja")
    assert expected in refused.value.localized()
    assert _relatives(world)[0].field.value == 250_000


def test_the_household_is_asked_once_through_the_hub_and_only_with_consent(
    world: TaxWorld,
) -> None:
    before = (world.exchanges("household"), world.exchanges("household-income"))
    _gather(world, DOCUMENTS)
    assert (world.exchanges("household"), world.exchanges("household-income")) == before
    assert _relatives(world) == []
    _again(world)
    assert world.exchanges("household") == before[0] + 1
    assert world.exchanges("household-income") == before[1] + 1


def test_gathering_again_keeps_a_corrected_income_and_drops_who_left(world: TaxWorld) -> None:
    set_household(world, [HANAKO, HARUTO, SAKURA], {2: 250_000})
    _gather(world)
    sakura = next(r for r in _relatives(world) if r.age == 17)
    tax.correct_field(
        session=world.session,
        resident_id=world.taro,
        year=YEAR,
        field_id=sakura.field.id,
        value=100_000,
    )
    spouse = _relatives(world)[0]
    tax.correct_field(
        session=world.session,
        resident_id=world.taro,
        year=YEAR,
        field_id=spouse.field.id,
        value=300_000,
    )
    set_household(world, [HANAKO, HARUTO], {2: 250_000})  # さくら moved out
    _again(world)
    listed = {(r.relation, r.age): r.field.value for r in _relatives(world)}
    assert listed == {("妻", 38): 300_000, ("子", 9): 0}
    corrections = tax.corrections(session=world.session, resident_id=world.taro, year=YEAR)
    assert [(c.old_value, c.new_value) for c in corrections] == [(250_000, 300_000)]


def test_without_the_members_dates_of_birth_no_relative_is_read(world: TaxWorld) -> None:
    link = network.link_code_for_resident(
        session=world.session, resident_id=world.taro, agency_code=CHIYODA
    )
    agencies.upsert_records(
        session=world.session,
        agency_code=CHIYODA,
        records=[
            RecordWrite(
                link_code=link,
                item_code="household",
                payload={
                    "is_head": True,
                    "relation_to_head": "世帯主",
                    "member_count": 3,
                    "member_relations": ["世帯主", "妻", "子"],
                },
                source="住民基本台帳",
                valid_from=date(2014, 4, 1),
            )
        ],
    )
    report = _gather(world)
    assert report.household == tax.INCOMPLETE
    assert report.notes == ("household-incomplete",)
    assert _relatives(world) == []


def test_a_municipality_that_does_not_answer_reads_nothing_and_says_so(
    world: TaxWorld,
) -> None:
    hub = world.hub()
    silent = Unanswering(hub.transport, {CHIYODA})
    hub.transport = silent
    tax.start_return(session=world.session, hub=world.hub(), resident_id=world.taro, year=YEAR)
    report = tax.gather(
        session=world.session,
        hub=hub,
        documents=world.box,
        resident_id=world.taro,
        year=YEAR,
        consents=WITH_HOUSEHOLD,
    )
    assert report.household == tax.UNAVAILABLE
    assert "household-unavailable" in report.notes
    assert _relatives(world) == []
    assert report.documents == 3  # the documents agreed to were read all the same
