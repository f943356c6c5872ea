"""The synthetic population: deterministic, census-shaped, names that match their kana."""

from __future__ import annotations

from collections import Counter

import pytest

from myna.registry import Relation, Sex, age_on
from myna.registry.domain import is_katakana, validate_my_number
from myna.registry.population import (
    AGE_PYRAMID_2020,
    HOUSEHOLD_TYPE_SHARES_2020,
    REFERENCE_DATE,
    GeneratedHousehold,
    HouseholdType,
    faker_name_pools,
    generate_population,
)
from myna.registry.seeding import synthetic_my_number
from myna.registry.shipped import shipped_weights


def _generate(residents: int, seed: int) -> list[GeneratedHousehold]:
    return list(
        generate_population(residents=residents, seed=seed, municipalities=shipped_weights())
    )


@pytest.fixture(scope="module")
def sample() -> list[GeneratedHousehold]:
    return _generate(5000, 2026)


def test_the_same_size_and_seed_give_the_same_people() -> None:
    assert _generate(800, 42) == _generate(800, 42)


def test_another_seed_gives_other_people() -> None:
    assert _generate(800, 42) != _generate(800, 43)


def test_it_yields_exactly_the_number_of_residents_asked_for(
    sample: list[GeneratedHousehold],
) -> None:
    assert sum(len(h.members) for h in sample) == 5000
    assert _generate(0, 1) == []


def test_the_age_structure_follows_the_2020_census_within_a_point_and_a_half(
    sample: list[GeneratedHousehold],
) -> None:
    people = [p for h in sample for p in h.members]
    total = sum(weight for _, _, weight in AGE_PYRAMID_2020)
    ages = Counter(age_on(p.birth_date, REFERENCE_DATE) for p in people)
    for lo, hi, weight in AGE_PYRAMID_2020:
        share = sum(ages[a] for a in range(lo, hi + 1)) / len(people)
        assert share == pytest.approx(weight / total, abs=0.015), (lo, hi)
    elderly = sum(n for age, n in ages.items() if age >= 65) / len(people)
    assert elderly == pytest.approx(0.286, abs=0.02)


def test_household_types_follow_the_2020_census_within_four_points(
    sample: list[GeneratedHousehold],
) -> None:
    kinds = Counter(h.kind for h in sample)
    for kind, share in HOUSEHOLD_TYPE_SHARES_2020.items():
        assert kinds[HouseholdType(kind)] / len(sample) == pytest.approx(share, abs=0.04), kind
    size = sum(len(h.members) for h in sample) / len(sample)
    assert 2.0 <= size <= 2.4  # census 2020: 2.21 people per general household


def test_households_are_coherent(sample: list[GeneratedHousehold]) -> None:
    for household in sample:
        heads = [p for p in household.members if p.relation == Relation.HEAD]
        assert len(heads) == 1
        head_age = age_on(heads[0].birth_date, REFERENCE_DATE)
        for person in household.members:
            age = age_on(person.birth_date, REFERENCE_DATE)
            if person.relation == Relation.CHILD:
                assert head_age - age >= 18
            if person.relation in (Relation.FATHER, Relation.MOTHER):
                assert age - head_age >= 18
            if person.relation == Relation.WIFE:
                assert person.sex == Sex.FEMALE and heads[0].sex == Sex.MALE
            assert person.registered_on >= person.birth_date
        if household.kind == HouseholdType.SINGLE:
            assert len(household.members) == 1
        if household.kind == HouseholdType.COUPLE:
            assert {p.relation for p in household.members} == {Relation.HEAD, Relation.WIFE}


def test_every_minor_lives_with_an_adult(sample: list[GeneratedHousehold]) -> None:
    for household in sample:
        ages = [age_on(p.birth_date, REFERENCE_DATE) for p in household.members]
        if min(ages) < 18:
            assert max(ages) >= 18


def test_names_are_faker_kanji_kana_pairs(sample: list[GeneratedHousehold]) -> None:
    pools = faker_name_pools()
    family = set(pools.family)
    given = {Sex.MALE: set(pools.male), Sex.FEMALE: set(pools.female)}
    for household in sample:
        for person in household.members:
            assert (person.family_name, person.family_name_kana) in family
            assert (person.given_name, person.given_name_kana) in given[person.sex]
            assert is_katakana(person.family_name_kana + person.given_name_kana)


def test_addresses_belong_to_their_municipality(sample: list[GeneratedHousehold]) -> None:
    weights = {w.code: w for w in shipped_weights()}
    towns_by_code: dict[str, set[str]] = {}
    for household in sample:
        weight = weights[household.municipality_code]
        assert household.address.endswith("号") and "丁目" in household.address
        if weight.wards:
            assert household.address.startswith(weight.wards)
        towns_by_code.setdefault(household.municipality_code, set()).add(
            household.address.split("丁目")[0]
        )
    # Households land in many municipalities, the big cities most.
    codes = Counter(h.municipality_code for h in sample)
    assert len(codes) > 40
    assert codes["141003"] > codes["131016"]  # 横浜市 is ~57 times 千代田区


def test_synthetic_my_numbers_are_valid_and_distinct_per_id() -> None:
    numbers = [synthetic_my_number(i, 12345) for i in range(1, 20001)]
    assert len(set(numbers)) == len(numbers)
    for number in numbers[:2000]:
        assert validate_my_number(number) == number
