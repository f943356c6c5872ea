"""A deterministic synthetic population: the same size and seed give the same people.

Pure (no I/O): it yields households, the writer in ``seeding.py`` stores them.

How it is drawn (sources and figures in docs/registry.md):

1. Ages: every person's age is drawn first from the 2020 census age pyramid
   (総務省統計局「令和2年国勢調査」, population by 5-year age group), sex from the
   census sex ratio of the age group. The whole pyramid is kept as counts per age and
   sex, and households then *take* people from it, so the age structure of the result
   is the census one whatever the household mix.
2. Households are built around the people that constrain them most: every minor lives
   with a couple (or one parent; some with grandparents too); part of the young adults
   still live with their parents; the remaining adults pair into couples (sometimes
   with an elderly parent) or live alone. The shares were tuned to the 2020 census
   household types (単独 38 %, 夫婦のみ 20 %, 夫婦と子 25 %, ひとり親と子 9 %,
   その他 8 %).
3. Names are kanji/katakana pairs from Faker's ja_JP pools (family names weighted by
   frequency); addresses are a town of the municipality plus 丁目/番/号; municipalities
   are weighted by population.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

from myna.reference import Relation, Sex
from myna.registry.domain import (
    AddressChangeReason,
    street_address,
)

# Ages are "as of" this day, so a seed gives the same birth dates whenever it runs.
REFERENCE_DATE = date(2026, 10, 1)
MAX_AGE = 105

# 令和2年国勢調査 (2020 census), population by 5-year age group in thousands
# (age not stated excluded; 100+ spread over 100-105). Approximate, rounded.
AGE_PYRAMID_2020: tuple[tuple[int, int, int], ...] = (
    (0, 4, 4541),
    (5, 9, 5114),
    (10, 14, 5376),
    (15, 19, 5706),
    (20, 24, 6320),
    (25, 29, 6128),
    (30, 34, 6712),
    (35, 39, 7522),
    (40, 44, 8458),
    (45, 49, 9750),
    (50, 54, 8669),
    (55, 59, 7939),
    (60, 64, 7432),
    (65, 69, 8197),
    (70, 74, 9145),
    (75, 79, 7005),
    (80, 84, 5378),
    (85, 89, 3693),
    (90, 94, 1760),
    (95, 99, 483),
    (100, MAX_AGE, 80),
)

# Share of men in each age group (same census): women outlive men.
_MALE_SHARE: tuple[tuple[int, float], ...] = (
    (50, 0.510),
    (65, 0.500),
    (75, 0.475),
    (85, 0.430),
    (95, 0.330),
    (MAX_AGE + 1, 0.200),
)

# 2020 census shares of general households by family type (一般世帯の家族類型).
HOUSEHOLD_TYPE_SHARES_2020: dict[str, float] = {
    "single": 0.380,
    "couple": 0.201,
    "couple_with_children": 0.250,
    "single_parent": 0.090,
    "extended": 0.079,
}


class HouseholdType(StrEnum):
    """The census family types (家族類型) the generator produces."""

    SINGLE = "single"
    COUPLE = "couple"
    COUPLE_WITH_CHILDREN = "couple_with_children"
    SINGLE_PARENT = "single_parent"
    EXTENDED = "extended"  # three generations, or a couple with a parent (その他)


@dataclass(frozen=True, slots=True)
class MunicipalityWeight:
    """A municipality to place households in, weighted by its population."""

    code: str
    population: int
    wards: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NamePools:
    """Kanji/katakana name pairs to draw from."""

    family: tuple[tuple[str, str], ...]
    family_weights: tuple[float, ...]
    male: tuple[tuple[str, str], ...]
    female: tuple[tuple[str, str], ...]
    towns: tuple[str, ...]


@cache
def faker_name_pools() -> NamePools:
    """The ja_JP name and town pools of Faker, read once (drawing stays with our RNG)."""
    from faker.providers.address.ja_JP import Provider as AddressProvider  # noqa: PLC0415
    from faker.providers.person.ja_JP import Provider as PersonProvider  # noqa: PLC0415

    family = [(k[0], k[1], float(w)) for k, w in PersonProvider.last_name_pairs.items()]
    return NamePools(
        family=tuple((kanji, kana) for kanji, kana, _ in family),
        family_weights=tuple(weight for _, _, weight in family),
        male=tuple((p[0], p[1]) for p in PersonProvider.first_name_male_pairs),
        female=tuple((p[0], p[1]) for p in PersonProvider.first_name_female_pairs),
        towns=tuple(AddressProvider.towns),
    )


@dataclass(slots=True)
class GeneratedPerson:
    """One synthetic resident, before a MyNumber and ids are given."""

    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    relation: Relation
    registered_on: date = REFERENCE_DATE
    reason: AddressChangeReason = AddressChangeReason.MOVE_IN


@dataclass(slots=True)
class GeneratedHousehold:
    """One synthetic household at one address."""

    kind: HouseholdType
    municipality_code: str
    address: str
    members: list[GeneratedPerson] = field(default_factory=list)


def _male_share(age: int) -> float:
    for upper, share in _MALE_SHARE:
        if age < upper:
            return share
    return _MALE_SHARE[-1][1]


def _age_counts(rng: random.Random, residents: int) -> list[list[int]]:
    """Counts of people by [sex index][age] drawn from the census pyramid."""
    bands = AGE_PYRAMID_2020
    cum = list(itertools.accumulate(band[2] for band in bands))
    counts = [[0] * (MAX_AGE + 1) for _ in range(2)]
    for band_index in rng.choices(range(len(bands)), cum_weights=cum, k=residents):
        lo, hi, _ = bands[band_index]
        age = rng.randint(lo, hi)
        counts[0 if rng.random() < _male_share(age) else 1][age] += 1
    return counts


_MALE, _FEMALE = 0, 1


class _Builder:
    """Draws households from the remaining counts of people by age and sex."""

    def __init__(
        self,
        rng: random.Random,
        residents: int,
        municipalities: Sequence[MunicipalityWeight],
        names: NamePools,
        as_of: date,
    ) -> None:
        self.rng = rng
        self.names = names
        self.as_of = as_of
        self.counts = _age_counts(rng, residents)
        self.municipalities = list(municipalities)
        self.municipality_cum = list(itertools.accumulate(m.population for m in municipalities))
        self.family_cum = list(itertools.accumulate(names.family_weights))
        self.towns = {
            m.code: random.Random(f"towns:{m.code}").sample(names.towns, 8)  # noqa: S311
            for m in municipalities
        }
        # The day after one's birthday-minus-one-year: birth dates giving age `a` on as_of.
        self.birth_start = [self._birth_window(age) for age in range(MAX_AGE + 1)]

    def _birth_window(self, age: int) -> tuple[int, int]:
        latest = self.as_of.replace(year=self.as_of.year - age)
        earliest = self.as_of.replace(year=self.as_of.year - age - 1) + timedelta(days=1)
        return earliest.toordinal(), latest.toordinal()

    # -- taking people out of the pyramid --------------------------------------------

    def take(self, sex: int, target: int, lo: int, hi: int) -> int | None:
        """Remove someone of ``sex`` aged as close to ``target`` as [lo, hi] allows."""
        lo, hi = max(lo, 0), min(hi, MAX_AGE)
        if lo > hi:
            return None
        counts = self.counts[sex]
        target = min(max(target, lo), hi)
        for distance in range(max(target - lo, hi - target) + 1):
            for age in (target + distance, target - distance):
                if lo <= age <= hi and counts[age]:
                    counts[age] -= 1
                    return age
        return None

    def tokens(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """Everyone aged lo..hi still unplaced, as (age, sex), in random order."""
        found = [
            (age, sex)
            for sex in (_MALE, _FEMALE)
            for age in range(lo, hi + 1)
            for _ in range(self.counts[sex][age])
        ]
        self.rng.shuffle(found)
        return found

    def claim(self, age: int, sex: int) -> bool:
        """Take the person a token stands for, unless they were placed meanwhile."""
        if self.counts[sex][age]:
            self.counts[sex][age] -= 1
            return True
        return False

    # -- making people and households ------------------------------------------------

    def birth_date(self, age: int) -> date:
        start, end = self.birth_start[age]
        return date.fromordinal(self.rng.randint(start, end))

    def family_name(self) -> tuple[str, str]:
        index = bisect.bisect(self.family_cum, self.rng.random() * self.family_cum[-1])
        return self.names.family[min(index, len(self.names.family) - 1)]

    def person(
        self, family: tuple[str, str], age: int, sex: int, relation: Relation
    ) -> GeneratedPerson:
        given = self.rng.choice(self.names.male if sex == _MALE else self.names.female)
        return GeneratedPerson(
            family_name=family[0],
            given_name=given[0],
            family_name_kana=family[1],
            given_name_kana=given[1],
            birth_date=self.birth_date(age),
            sex=Sex.MALE if sex == _MALE else Sex.FEMALE,
            relation=relation,
        )

    def household(self, kind: HouseholdType, members: list[GeneratedPerson]) -> GeneratedHousehold:
        rng = self.rng
        index = bisect.bisect(self.municipality_cum, rng.random() * self.municipality_cum[-1])
        municipality = self.municipalities[min(index, len(self.municipalities) - 1)]
        address = street_address(
            ward=rng.choice(municipality.wards) if municipality.wards else "",
            town=rng.choice(self.towns[municipality.code]),
            chome=rng.randint(1, 5),
            ban=rng.randint(1, 30),
            go=rng.randint(1, 20),
        )
        # Everyone moved in together; those born later were registered at birth (出生).
        since = self.as_of - timedelta(days=rng.randint(0, 9000))
        for member in members:
            if member.birth_date >= since:
                member.registered_on, member.reason = member.birth_date, AddressChangeReason.BIRTH
            else:
                member.registered_on, member.reason = since, AddressChangeReason.MOVE_IN
        return GeneratedHousehold(kind, municipality.code, address, members)

    def sibling_ages(self, anchor: int, lo: int, hi: int, extra: int) -> list[tuple[int, int]]:
        found = [(anchor, -1)]
        for _ in range(extra):
            sex = _MALE if self.rng.random() < 0.51 else _FEMALE
            gap = self.rng.randint(1, 6) * self.rng.choice((-1, 1))
            age = self.take(sex, anchor + gap, lo, hi)
            if age is not None:
                found.append((age, sex))
        return found

    def family(
        self, children: list[tuple[int, int]], *, with_father: bool, grandparents: int
    ) -> GeneratedHousehold | None:
        """Parents (and grandparents) for ``children``: a household built around them."""
        rng = self.rng
        eldest = max(age for age, _ in children)
        mother = self.take(_FEMALE, eldest + rng.randint(24, 36), eldest + 18, eldest + 50)
        father = None
        if with_father or mother is None:
            base = mother if mother is not None else eldest + 30
            father = self.take(_MALE, base + rng.randint(0, 4), base - 4, base + 12)
        if mother is None and father is None:
            return None
        family = self.family_name()
        members: list[GeneratedPerson] = []
        if father is not None:
            members.append(self.person(family, father, _MALE, Relation.HEAD))
            if mother is not None:
                members.append(self.person(family, mother, _FEMALE, Relation.WIFE))
        else:
            assert mother is not None  # noqa: S101 - both-missing returned above
            members.append(self.person(family, mother, _FEMALE, Relation.HEAD))
        for age, sex in sorted(children, reverse=True):
            members.append(self.person(family, age, sex, Relation.CHILD))
        head_age = father if father is not None else mother
        assert head_age is not None  # noqa: S101
        added = 0
        for sex, relation in ((_MALE, Relation.FATHER), (_FEMALE, Relation.MOTHER)):
            if grandparents == 2 or (grandparents == 1 and rng.random() < 0.3 + 0.5 * sex):
                elder = self.take(sex, head_age + rng.randint(25, 33), head_age + 18, MAX_AGE)
                if elder is not None:
                    members.append(self.person(family, elder, sex, relation))
                    added += 1
        if added:
            kind = HouseholdType.EXTENDED
        elif len(members) - len(children) == 2:
            kind = HouseholdType.COUPLE_WITH_CHILDREN
        else:
            kind = HouseholdType.SINGLE_PARENT
        return self.household(kind, members)

    # -- the three passes --------------------------------------------------------------

    def minors(self) -> Iterator[GeneratedHousehold]:
        rng = self.rng
        for age, sex in self.tokens(0, 17):
            if not self.claim(age, sex):
                continue
            extra = rng.choices((0, 1, 2), weights=(45, 40, 15))[0]
            children = [(a, sex if s == -1 else s) for a, s in self.sibling_ages(age, 0, 17, extra)]
            roll = rng.random()
            grandparents = 0 if roll < 0.84 else (2 if roll > 0.93 else 1)
            household = self.family(children, with_father=roll >= 0.16, grandparents=grandparents)
            if household is None:
                household = self._orphans(children)
            yield household

    def adult_children(self) -> Iterator[GeneratedHousehold]:
        rng = self.rng
        for age, sex in self.tokens(18, 59):
            if rng.random() >= _living_with_parents(age) or not self.claim(age, sex):
                continue
            extra = 1 if rng.random() < 0.25 else 0
            children = [
                (a, sex if s == -1 else s) for a, s in self.sibling_ages(age, 18, 59, extra)
            ]
            eldest = max(a for a, _ in children)
            with_father = rng.random() < (0.80 if eldest < 35 else 0.45 if eldest < 45 else 0.2)
            household = self.family(children, with_father=with_father, grandparents=0)
            yield household if household is not None else self._orphans(children)

    def adults(self) -> Iterator[GeneratedHousehold]:
        rng = self.rng
        for age, sex in self.tokens(18, MAX_AGE):
            if not self.claim(age, sex):
                continue
            partner = None
            if rng.random() < _couple_probability(age, sex):
                if sex == _MALE:
                    partner = self.take(_FEMALE, age - rng.randint(0, 4), age - 12, age + 6)
                else:
                    partner = self.take(_MALE, age + rng.randint(0, 4), age - 6, age + 12)
            family = self.family_name()
            if partner is None:
                yield self.household(
                    HouseholdType.SINGLE, [self.person(family, age, sex, Relation.HEAD)]
                )
                continue
            husband, wife = (age, partner) if sex == _MALE else (partner, age)
            members = [
                self.person(family, husband, _MALE, Relation.HEAD),
                self.person(family, wife, _FEMALE, Relation.WIFE),
            ]
            kind = HouseholdType.COUPLE
            if 35 <= husband < 75 and rng.random() < 0.40:
                parent_sex = _FEMALE if rng.random() < 0.7 else _MALE
                parent = self.take(parent_sex, husband + rng.randint(25, 33), husband + 18, MAX_AGE)
                if parent is not None:
                    relation = Relation.MOTHER if parent_sex == _FEMALE else Relation.FATHER
                    members.append(self.person(family, parent, parent_sex, relation))
                    kind = HouseholdType.EXTENDED
            yield self.household(kind, members)

    def _orphans(self, children: list[tuple[int, int]]) -> GeneratedHousehold:
        # No adult left in range: the children are registered as a household of their
        # own (rare; happens only in tiny populations).
        family = self.family_name()
        ordered = sorted(children, reverse=True)
        members = [self.person(family, ordered[0][0], ordered[0][1], Relation.HEAD)]
        for age, sex in ordered[1:]:
            younger = Relation.YOUNGER_BROTHER if sex == _MALE else Relation.YOUNGER_SISTER
            members.append(self.person(family, age, sex, younger))
        kind = HouseholdType.SINGLE if len(members) == 1 else HouseholdType.EXTENDED
        return self.household(kind, members)


def _living_with_parents(age: int) -> float:
    """Share of never-married adults of ``age`` living with a parent (approximate)."""
    if age < 20:
        return 0.80
    if age < 25:
        return 0.55
    if age < 30:
        return 0.40
    if age < 35:
        return 0.28
    if age < 45:
        return 0.18
    return 0.09


# (age below which, chance for a man, chance for a woman) that an adult left alone by
# the earlier passes lives as a couple; tuned so the household mix meets the census.
_COUPLE_PROBABILITY: tuple[tuple[int, float, float], ...] = (
    (25, 0.04, 0.04),
    (30, 0.25, 0.25),
    (40, 0.50, 0.50),
    (65, 0.52, 0.52),
    (75, 0.62, 0.55),
    (85, 0.62, 0.35),
    (MAX_AGE + 1, 0.35, 0.08),
)


def _couple_probability(age: int, sex: int) -> float:
    """Chance that an adult left alone by the earlier passes lives as a couple."""
    for upper, male, female in _COUPLE_PROBABILITY:
        if age < upper:
            return male if sex == _MALE else female
    return 0.0


def generate_population(
    *,
    residents: int,
    seed: int,
    municipalities: Sequence[MunicipalityWeight],
    names: NamePools | None = None,
    as_of: date = REFERENCE_DATE,
) -> Iterator[GeneratedHousehold]:
    """Yield households holding exactly ``residents`` people, the same for the same seed."""
    if residents < 0:
        msg = "the number of residents cannot be negative"
        raise ValueError(msg)
    if not municipalities:
        msg = "at least one municipality is needed"
        raise ValueError(msg)
    builder = _Builder(
        random.Random(seed),  # noqa: S311 - reproducible synthetic data, not secrets
        residents,
        municipalities,
        names or faker_name_pools(),
        as_of,
    )
    yield from builder.minors()
    yield from builder.adult_children()
    yield from builder.adults()
