"""Synthetic agency data: deterministic, valid, and consistent within each household."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

import pytest

from myna.agencies import (
    REFERENCE_DATE,
    GeneratedRecord,
    HouseholdMember,
    ResidentFacts,
    generate_records,
    load_catalog,
    validate_payload,
)
from myna.agencies.synthetic import (
    age_on,
    assess_resident_tax,
    insurer_check_digit,
    salary_income,
)
from myna.registry import Relation, Sex
from tests.unit.agencies.population import population_facts


@pytest.fixture(scope="module")
def generated(sample: list[ResidentFacts]) -> dict[int, list[GeneratedRecord]]:
    return {f.resident_id: generate_records(resident=f, seed=3) for f in sample}


def _items(records: list[GeneratedRecord]) -> set[str]:
    return {draft.item_code for _, draft in records}


def _age(facts: ResidentFacts) -> int:
    return age_on(facts.birth_date, REFERENCE_DATE)


def _share(sample: list[ResidentFacts], who, has) -> float:  # type: ignore[no-untyped-def]
    group = [f for f in sample if who(f)]
    assert group
    return sum(1 for f in group if has(f)) / len(group)


def test_the_same_seed_gives_the_same_records(sample: list[ResidentFacts]) -> None:
    for facts in sample[:300]:
        assert generate_records(resident=facts, seed=3) == generate_records(resident=facts, seed=3)


def test_another_seed_gives_other_records(sample: list[ResidentFacts]) -> None:
    first = [generate_records(resident=f, seed=3) for f in sample[:300]]
    second = [generate_records(resident=f, seed=4) for f in sample[:300]]
    assert first != second


def test_a_resident_gets_the_same_records_whatever_the_order() -> None:
    again = population_facts(400, seed=11)
    backwards = {f.resident_id: generate_records(resident=f, seed=3) for f in reversed(again)}
    for facts in again:
        assert generate_records(resident=facts, seed=3) == backwards[facts.resident_id]


def test_every_record_is_valid_and_held_by_an_agency_that_provides_it(
    generated: dict[int, list[GeneratedRecord]],
) -> None:
    catalog = load_catalog()
    seen: set[tuple[int, str, str, str]] = set()
    for resident_id, records in generated.items():
        for agency, draft in records:
            schema = catalog.item(draft.item_code)
            assert validate_payload(schema, draft.payload) == draft.payload
            assert catalog.provides(agency, draft.item_code), (agency, draft.item_code)
            key = (resident_id, agency, draft.item_code, draft.key)
            assert key not in seen
            seen.add(key)


def test_every_category_appears_in_the_sample(
    generated: dict[int, list[GeneratedRecord]],
) -> None:
    catalog = load_catalog()
    items = set().union(*(_items(r) for r in generated.values()))
    assert {catalog.category_of(i) for i in items} == set(catalog.categories)
    assert len(items) >= 17


def test_young_children_have_checkups_and_vaccinations(
    sample: list[ResidentFacts], generated: dict[int, list[GeneratedRecord]]
) -> None:
    def toddler(f: ResidentFacts) -> bool:
        return 2 <= _age(f) < 6

    assert (
        _share(sample, toddler, lambda f: "infant-checkup" in _items(generated[f.resident_id]))
        > 0.95
    )
    assert (
        _share(sample, toddler, lambda f: "vaccination" in _items(generated[f.resident_id])) > 0.97
    )


def test_each_child_is_paid_the_allowance_through_a_parent_in_the_household(
    sample: list[ResidentFacts], generated: dict[int, list[GeneratedRecord]]
) -> None:
    allowances: dict[int, set[str]] = defaultdict(set)
    for resident_id, records in generated.items():
        for agency, draft in records:
            if draft.item_code == "child-allowance":
                assert agency.startswith("muni-")
                allowances[resident_id].add(draft.payload["child_birth_date"])
    children = [
        f for f in sample if _age(f) < 15 and f.relation in (Relation.CHILD, Relation.GRANDCHILD)
    ]
    assert len(children) > 300
    for child in children:
        payers = [
            m.resident_id
            for m in child.members
            if child.birth_date.isoformat() in allowances.get(m.resident_id, set())
        ]
        assert len(payers) == 1, child
        assert payers[0] != child.resident_id
        assert _age(next(f for f in sample if f.resident_id == payers[0])) >= 18


def test_the_elderly_have_a_pension_and_some_a_care_level(
    sample: list[ResidentFacts], generated: dict[int, list[GeneratedRecord]]
) -> None:
    def elderly(f: ResidentFacts) -> bool:
        return _age(f) >= 65

    def items(f: ResidentFacts) -> set[str]:
        return _items(generated[f.resident_id])

    assert _share(sample, elderly, lambda f: "public-pension" in items(f)) > 0.99
    care = _share(sample, elderly, lambda f: "long-term-care" in items(f))
    assert 0.12 < care < 0.26  # about one in five of those 65 or over is certified
    very_old = _share(sample, lambda f: _age(f) >= 85, lambda f: "long-term-care" in items(f))
    assert very_old > 0.4


def test_rates_of_disability_and_assistance_are_a_few_percent(
    sample: list[ResidentFacts], generated: dict[int, list[GeneratedRecord]]
) -> None:
    counts = Counter(i for records in generated.values() for i in _items(records))
    people = len(sample)
    assert 0.015 < counts["disability-physical"] / people < 0.045
    assert 0.005 < counts["disability-mental"] / people < 0.02
    assert 0.003 < counts["disability-intellectual"] / people < 0.015
    assert 0.005 < counts["public-assistance"] / people < 0.03
    assert 0.003 < counts["employment-insurance"] / people < 0.02


def test_working_age_people_have_resident_tax_and_health_insurance(
    sample: list[ResidentFacts], generated: dict[int, list[GeneratedRecord]]
) -> None:
    def working_age(f: ResidentFacts) -> bool:
        return 20 <= _age(f) < 65

    def items(f: ResidentFacts) -> set[str]:
        return _items(generated[f.resident_id])

    assert _share(sample, working_age, lambda f: "resident-tax" in items(f)) == 1.0
    insured = _share(sample, working_age, lambda f: "health-insurance" in items(f))
    assert 0.97 < insured < 1.0  # public assistance replaces health insurance


def test_one_has_either_health_insurance_or_public_assistance(
    generated: dict[int, list[GeneratedRecord]],
) -> None:
    for records in generated.values():
        items = [d.item_code for _, d in records]
        assert ("health-insurance" in items) != ("public-assistance" in items)
        assert items.count("health-insurance") <= 1


def test_insurers_follow_age_and_work(
    sample: list[ResidentFacts], generated: dict[int, list[GeneratedRecord]]
) -> None:
    for facts in sample:
        insurers = [a for a, d in generated[facts.resident_id] if d.item_code == "health-insurance"]
        if not insurers:
            continue
        if _age(facts) >= 75:
            assert insurers[0] == f"koki-{facts.municipality_code[:2]}"
        else:
            assert not insurers[0].startswith("koki-")
    agencies = Counter(
        a.split("-")[0]
        for r in generated.values()
        for a, d in r
        if d.item_code == "health-insurance"
    )
    assert agencies["kyokai"] > agencies["kenpo"] > 0
    assert agencies["kokuho"] > 0


def test_dependants_share_the_insurer_of_the_parent_who_works(
    sample: list[ResidentFacts], generated: dict[int, list[GeneratedRecord]]
) -> None:
    insurer = {
        rid: (a, d.payload["insured_type"])
        for rid, records in generated.items()
        for a, d in records
        if d.item_code == "health-insurance"
    }
    dependants = [rid for rid, (_, kind) in insurer.items() if kind == "被扶養者"]
    assert len(dependants) > 300
    by_id = {f.resident_id: f for f in sample}
    for rid in dependants:
        family = [m.resident_id for m in by_id[rid].members if m.resident_id != rid]
        assert any(insurer.get(other) == (insurer[rid][0], "被保険者") for other in family), rid


def test_personas_get_their_hand_written_records_whatever_the_seed() -> None:
    haruto = ResidentFacts(
        resident_id=3,
        birth_date=date(2016, 6, 20),
        sex=Sex.MALE,
        municipality_code="131016",
        relation=Relation.CHILD,
        persona="haruto",
    )
    first = generate_records(resident=haruto, seed=1)
    assert first == generate_records(resident=haruto, seed=99)
    items = _items(first)
    assert {"vaccination", "infant-checkup", "health-insurance", "household"} <= items
    catalog = load_catalog()
    for agency, draft in first:
        validate_payload(catalog.item(draft.item_code), draft.payload)
        assert catalog.provides(agency, draft.item_code)


def test_the_personas_together_show_every_category() -> None:
    catalog = load_catalog()
    people = {
        "taro": (date(1985, 4, 12), Sex.MALE, "131016", Relation.HEAD),
        "hanako": (date(1987, 9, 3), Sex.FEMALE, "131016", Relation.WIFE),
        "haruto": (date(2016, 6, 20), Sex.MALE, "131016", Relation.CHILD),
        "misaki": (date(1992, 1, 30), Sex.FEMALE, "141003", Relation.HEAD),
        "ichiro": (date(1948, 11, 3), Sex.MALE, "011002", Relation.HEAD),
    }
    seen: dict[str, set[str]] = {}
    for number, (key, (birth, sex, code, relation)) in enumerate(people.items(), start=1):
        facts = ResidentFacts(number, birth, sex, code, relation, persona=key)
        records = generate_records(resident=facts, seed=0)
        for agency, draft in records:
            validate_payload(catalog.item(draft.item_code), draft.payload)
            assert catalog.provides(agency, draft.item_code), (key, agency, draft.item_code)
        seen[key] = _items(records)
    assert {catalog.category_of(i) for s in seen.values() for i in s} == set(catalog.categories)
    assert "child-allowance" in seen["taro"]
    assert {"pregnancy-notification", "pregnancy-checkup"} <= seen["hanako"]
    assert {"disability-mental", "employment-insurance"} <= seen["misaki"]
    assert {"public-pension", "long-term-care"} <= seen["ichiro"]


def test_everyone_from_20_has_a_pension_record_and_most_workers_are_insured(
    sample: list[ResidentFacts], generated: dict[int, list[GeneratedRecord]]
) -> None:
    def items(f: ResidentFacts) -> set[str]:
        return _items(generated[f.resident_id])

    def adult(f: ResidentFacts) -> bool:
        return _age(f) >= 20

    assert _share(sample, adult, lambda f: "pension-record" in items(f)) == 1.0
    assert _share(sample, lambda f: _age(f) < 18, lambda f: "pension-record" in items(f)) == 0.0
    working_age = _share(
        sample,
        lambda f: 25 <= _age(f) < 60,
        lambda f: "employment-insurance-qualification" in items(f),
    )
    assert 0.5 < working_age < 0.8
    for records in generated.values():
        payloads = {d.item_code: d.payload for _, d in records}
        if "employment-insurance" in payloads:  # the unemployed had been insured, until they left
            coverage = payloads.get("employment-insurance-qualification")
            if coverage is not None:
                assert coverage["lost_on"] < payloads["employment-insurance"]["qualified_on"]


def test_the_household_lists_birth_dates_and_the_others_assessed_income(
    sample: list[ResidentFacts], generated: dict[int, list[GeneratedRecord]]
) -> None:
    """Beside an adult's household, what each other adult member's resident tax says."""
    assessed = {
        resident_id: draft.payload["total_income"]
        for resident_id, records in generated.items()
        for _, draft in records
        if draft.item_code == "resident-tax"
    }
    checked = 0
    for facts in sample:
        records = [draft for _, draft in generated[facts.resident_id]]
        (household,) = [d.payload for d in records if d.item_code == "household"]
        members = facts.members
        assert household["member_birth_dates"] == [m.birth_date.isoformat() for m in members]
        incomes = {
            (d.payload["relation_to_head"], d.payload["birth_date"]): d.payload["total_income"]
            for d in records
            if d.item_code == "household-income"
        }
        if age_on(facts.birth_date, date(2026, 1, 1)) < 18:
            assert incomes == {}
            continue
        for member in members:
            if member.resident_id == facts.resident_id or member.resident_id not in assessed:
                continue
            key = (member.relation.value, member.birth_date.isoformat())
            assert incomes[key] == assessed[member.resident_id]
            checked += 1
    assert checked > 300


def test_a_household_member_list_is_optional() -> None:
    alone = ResidentFacts(7, date(1950, 1, 1), Sex.FEMALE, "011002")
    assert alone.members == (HouseholdMember(7, Relation.HEAD, date(1950, 1, 1), Sex.FEMALE),)
    assert "public-pension" in _items(generate_records(resident=alone, seed=1))


# -- the rules used -------------------------------------------------------------------------


def test_insurer_numbers_get_the_official_check_digit() -> None:
    assert insurer_check_digit("0113001") == "2"  # 協会けんぽ 東京支部 01130012
    assert insurer_check_digit("0101001") == "6"  # 協会けんぽ 北海道支部 01010016


@pytest.mark.parametrize(
    ("salary", "income"),
    [(1_000_000, 350_000), (1_900_000, 1_250_000), (3_000_000, 2_020_000), (6_200_000, 4_520_000),
     (10_000_000, 8_050_000)],
)  # fmt: skip
def test_salary_income_follows_the_employment_income_deduction(salary: int, income: int) -> None:
    assert salary_income(salary) == income


def test_a_small_income_is_not_taxed_and_a_larger_one_is_taxed_ten_percent() -> None:
    small = assess_resident_tax(salary=900_000, business_income=0, pension=0, dependants=0,
                                spouse_deduction=False, social_insurance=0)  # fmt: skip
    assert small.non_taxable
    assert small.tax_amount == 0
    taxed = assess_resident_tax(salary=6_200_000, business_income=0, pension=0, dependants=0,
                                spouse_deduction=True, social_insurance=899_000)  # fmt: skip
    assert taxed.taxable_income == 2_861_000
    assert taxed.income_levy == 283_600
    assert taxed.tax_amount == 288_600
