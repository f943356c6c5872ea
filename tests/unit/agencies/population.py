"""A synthetic population, as the registry draws it, seen through ResidentFacts."""

from __future__ import annotations

from myna.agencies import HouseholdMember, ResidentFacts
from myna.registry.population import generate_population
from myna.registry.shipped import shipped_weights


def population_facts(residents: int, seed: int) -> list[ResidentFacts]:
    """``residents`` people in households, ids assigned in order (as the seed does)."""
    facts: list[ResidentFacts] = []
    resident_id = 0
    weights = list(shipped_weights())
    for household_id, household in enumerate(
        generate_population(residents=residents, seed=seed, municipalities=weights), start=1
    ):
        members = []
        names = []
        for person in household.members:
            resident_id += 1
            members.append(
                HouseholdMember(resident_id, person.relation, person.birth_date, person.sex)
            )
            names.append(
                (
                    f"{person.family_name} {person.given_name}",
                    f"{person.family_name_kana} {person.given_name_kana}",
                )
            )
        for member, (name, kana) in zip(members, names, strict=True):
            facts.append(
                ResidentFacts(
                    resident_id=member.resident_id,
                    birth_date=member.birth_date,
                    sex=member.sex,
                    municipality_code=household.municipality_code,
                    relation=member.relation,
                    household_id=household_id,
                    household=tuple(members),
                    municipality_name="東京都千代田区",
                    address=household.address,
                    name=name,
                    name_kana=kana,
                )
            )
    return facts
