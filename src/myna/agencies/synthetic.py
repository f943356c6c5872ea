"""Consistent synthetic replica data for a synthetic population (pure, deterministic).

For each resident the generator decides, from the seed and the resident's id only, a
life situation — work and insurer, income, disability, care, public assistance,
pregnancy — consistently with the other members of the household (a child is insured
as the dependant of the parent who works for an employer; the parent receives the
child allowance; a household on public assistance has no health insurance because
医療扶助 covers it), then writes the records each agency would hold. The same seed
gives the same records whatever order residents come in.

Figures (sources and shares in docs/agencies.md) are rounded from public statistics
and the rules in force in 2025–2026; amounts follow the rules of 令和7年度 where the
2026 ones were not yet published. The five personas get hand-written, stable records
(:mod:`myna.agencies.personas`).
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from myna.agencies.domain import (
    KOKI_PREFIX,
    KOKUHO_PREFIX,
    koki_agency_code,
    kokuho_agency_code,
    municipality_agency_code,
)
from myna.agencies.healthdata import Person, care_records
from myna.agencies.schemas import RecordWrite
from myna.platform.attributes import from_attributes
from myna.reference import Relation, Sex

# The day "now" is for the generator; the registry's population uses the same one.
REFERENCE_DATE = date(2026, 10, 1)
ASSESSMENT_YEAR = 2026  # 令和8年度 住民税, on the income of 2025

JLIS = "jlis"
OQS = "oqs"  # the eligibility service (オンライン資格確認等システム)
NTA = "nta"  # the National Tax Agency (国税庁), keeping the returns filed
INSURED_INDEX = "insured-index"
SOURCES = {
    "basic-info": "住民基本台帳ネットワークシステム（本人確認情報）",
    "household": "住民基本台帳",
    "resident-tax": "個人住民税課税台帳",
    "household-income": "個人住民税課税台帳",
    "income-tax-return": "国税庁 申告書データ（e-Tax）",
    "health-insurance": "被保険者資格台帳",
    "insured-index": "加入者情報（医療保険者等向け中間サーバー）",
    "vaccination": "予防接種台帳",
    "infant-checkup": "乳幼児健康診査記録",
    "pregnancy-checkup": "妊婦健康診査記録",
    "pregnancy-notification": "妊娠届出受理簿",
    "child-allowance": "児童手当受給者台帳",
    "child-rearing-allowance": "児童扶養手当受給者台帳",
    "high-school-support": "就学支援金受給資格認定",
    "disability-physical": "身体障害者手帳交付台帳",
    "disability-mental": "精神障害者保健福祉手帳交付台帳",
    "disability-intellectual": "療育手帳交付台帳",
    "public-assistance": "被保護者台帳",
    "long-term-care": "介護保険受給者台帳",
    "employment-insurance": "雇用保険受給資格者台帳",
    "workers-compensation": "労災保険給付台帳",
    "public-pension": "年金受給権者台帳",
    "employment-insurance-qualification": "雇用保険被保険者台帳",
    "pension-record": "年金記録（被保険者記録）",
    "medication": "調剤報酬明細書（レセプト）",
    "specific-checkup": "特定健康診査結果",
    "clinical-record": "診療報酬明細書（レセプト）",
    "medical-expense": "医療費通知（レセプト）",
}

KYOKAI = "kyokai"
KUMIAI = ("kenpo-minato-denki", "kenpo-sakura-shoji")
# 地方職員共済組合: local public servants' mutual aid association (法別番号 32), one
# branch (支部) per prefecture like 協会けんぽ; its members have no 雇用保険.
KYOSAI = "kyosai-chiho"
_INSURER_NAMES = {
    "kenpo-minato-denki": "みなと電機健康保険組合",
    "kenpo-sakura-shoji": "さくら商事健康保険組合",
}
# 法別番号 06 (組合管掌健康保険), the society's prefecture and its own number.
_KUMIAI_NUMBERS = {"kenpo-minato-denki": "0613512", "kenpo-sakura-shoji": "0627083"}

_PREFECTURE = re.compile(r"^(北海道|東京都|大阪府|京都府|.{2,3}?県)")


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    """A member of the resident's household (世帯員), as the generator needs them."""

    resident_id: int
    relation: Relation
    birth_date: date
    sex: Sex


@dataclass(frozen=True, slots=True)
class ResidentFacts:
    """What the generator knows of a resident. The id is an input only, never stored.

    ``household`` lists every member, the resident included, head first; empty means
    the resident lives alone. ``persona`` names a demo persona (taro, hanako ...), whose
    records are hand-written.
    """

    resident_id: int
    birth_date: date
    sex: Sex
    municipality_code: str
    relation: Relation = Relation.HEAD
    household_id: int = 0
    household: tuple[HouseholdMember, ...] = ()
    municipality_name: str = ""
    address: str = ""
    registered_on: date | None = None
    persona: str | None = None
    name: str = ""
    name_kana: str = ""

    def as_member(self) -> HouseholdMember:
        """This resident as a household member."""
        return HouseholdMember(self.resident_id, self.relation, self.birth_date, self.sex)

    @property
    def members(self) -> tuple[HouseholdMember, ...]:
        """Every member of the household, this resident included."""
        return self.household or (self.as_member(),)


@dataclass(frozen=True, slots=True)
class RecordDraft:
    """A record before its link code is known: the caller gets codes from the hub."""

    item_code: str
    key: str
    payload: dict[str, Any]
    source: str
    valid_from: date

    def bind(self, link_code: str) -> RecordWrite:
        """The record to store under ``link_code``."""
        return from_attributes(RecordWrite, self, link_code=link_code)


GeneratedRecord = tuple[str, RecordDraft]


# -- small helpers -----------------------------------------------------------------------


def age_on(birth: date, on: date) -> int:
    """Age in completed years on ``on`` (年齢計算ニ関スル法律: a year ends the day before)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError(month)  # pragma: no cover - day 28 exists in every month


def _first_of_next_month(day: date) -> date:
    return _add_months(day.replace(day=1), 1)


def _weighted(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    roll = rng.random() * sum(weight for _, weight in options)
    for value, weight in options:
        roll -= weight
        if roll < 0:
            return value
    return options[-1][0]


def _lognormal_yen(rng: random.Random, median: float, sigma: float) -> int:
    return int(round(median * math.exp(rng.gauss(0.0, sigma)), -3))


def insurer_check_digit(body: str) -> str:
    """The check digit (検証番号) of a 保険者番号: weights 2,1,2... from the right, digit sums."""
    total = 0
    for index, char in enumerate(reversed(body)):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def _prefecture_name(municipality_name: str) -> str:
    found = _PREFECTURE.match(municipality_name)
    return found.group(1) if found else ""


def _day_between(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def koki_valid_until(on: date) -> date:
    """有効期限 of 後期高齢者医療 coverage on ``on``: 31 July after the 1 August that began it."""
    year = on.year if on.month >= 8 else on.year - 1
    return date(year + 1, 7, 31)


def _allowance_ends(birth: date) -> date:
    """The first 31 March on or after the 18th birthday (高校生年代の終わり)."""
    eighteen = _add_years(birth, 18)
    year = eighteen.year if (eighteen.month, eighteen.day) <= (3, 31) else eighteen.year + 1
    return date(year, 3, 31)


# -- the life situation of each member --------------------------------------------------


class Work(StrEnum):
    """What a person does for a living, as far as the agencies see it."""

    CHILD = "child"
    STUDENT = "student"
    EMPLOYEE = "employee"
    SELF_EMPLOYED = "self_employed"
    UNEMPLOYED = "unemployed"  # left a job recently, receives the basic allowance
    NONE = "none"
    RETIRED = "retired"


_SPOUSES = {
    Relation.HEAD: (Relation.WIFE, Relation.HUSBAND),
    Relation.WIFE: (Relation.HEAD,),
    Relation.HUSBAND: (Relation.HEAD,),
    Relation.CHILD: (Relation.CHILDS_WIFE, Relation.CHILDS_HUSBAND),
    Relation.CHILDS_WIFE: (Relation.CHILD,),
    Relation.CHILDS_HUSBAND: (Relation.CHILD,),
    Relation.FATHER: (Relation.MOTHER,),
    Relation.MOTHER: (Relation.FATHER,),
    Relation.WIFES_FATHER: (Relation.WIFES_MOTHER,),
    Relation.WIFES_MOTHER: (Relation.WIFES_FATHER,),
    Relation.HUSBANDS_FATHER: (Relation.HUSBANDS_MOTHER,),
    Relation.HUSBANDS_MOTHER: (Relation.HUSBANDS_FATHER,),
    Relation.GRANDFATHER: (Relation.GRANDMOTHER,),
    Relation.GRANDMOTHER: (Relation.GRANDFATHER,),
}

# (male, female) median yearly salary of full-time employees by age band, 2025 (円).
_SALARY_MEDIANS = ((20, 2_600_000), (25, 3_700_000), (30, 4_300_000), (40, 5_000_000),
                   (50, 5_400_000), (60, 4_000_000), (65, 2_800_000))  # fmt: skip


def _work_odds(age: int, sex: Sex) -> list[tuple[Work, float]]:  # noqa: PLR0911 - one per age band
    female = sex == Sex.FEMALE
    if age < 15:
        return [(Work.CHILD, 1.0)]
    if age < 18:
        return [(Work.STUDENT, 1.0)]
    if age < 22:
        return [(Work.EMPLOYEE, 0.35), (Work.STUDENT, 0.6), (Work.NONE, 0.05)]
    if age < 60:
        if female:
            return [(Work.EMPLOYEE, 0.66), (Work.SELF_EMPLOYED, 0.05),
                    (Work.UNEMPLOYED, 0.012), (Work.NONE, 0.278)]  # fmt: skip
        return [(Work.EMPLOYEE, 0.82), (Work.SELF_EMPLOYED, 0.08),
                (Work.UNEMPLOYED, 0.014), (Work.NONE, 0.086)]  # fmt: skip
    if age < 65:
        if female:
            return [(Work.EMPLOYEE, 0.48), (Work.SELF_EMPLOYED, 0.06),
                    (Work.UNEMPLOYED, 0.015), (Work.NONE, 0.445)]  # fmt: skip
        return [(Work.EMPLOYEE, 0.66), (Work.SELF_EMPLOYED, 0.10),
                (Work.UNEMPLOYED, 0.025), (Work.NONE, 0.215)]  # fmt: skip
    if age < 75:
        share = 0.17 if female else 0.30
        return [(Work.EMPLOYEE, share), (Work.SELF_EMPLOYED, 0.06), (Work.RETIRED, 1 - share)]
    return [(Work.SELF_EMPLOYED, 0.04), (Work.RETIRED, 0.96)]


@dataclass(slots=True)
class Profile:
    """One member's situation: work, insurer, income (of 2025) and benefits."""

    member: HouseholdMember
    age: int
    work: Work
    employer_insurer: str | None = None  # the employees' insurer of an employee
    salary: int = 0  # 給与収入 of 2025
    business_income: int = 0  # 事業所得 of 2025
    old_age_basic: int = 0
    old_age_employees: int = 0
    survivors: int = 0
    employed_since: date | None = None
    part_time: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def pension_income(self) -> int:
        """Taxable pension: only the old-age pensions are (障害・遺族 are not taxed)."""
        return self.old_age_basic + self.old_age_employees

    @property
    def low_earner(self) -> bool:
        """Earns little enough to be a dependant (被扶養者: under 1.3 million yen)."""
        return self.salary + self.business_income + self.pension_income < 1_300_000


class _Household:
    """A household's members, their profiles and household-wide facts, for one seed."""

    def __init__(self, facts: ResidentFacts, seed: int, as_of: date) -> None:
        self.facts = facts
        self.seed = seed
        self.as_of = as_of
        self.members = facts.members
        self.by_id = {m.resident_id: m for m in self.members}
        self.ages = {m.resident_id: age_on(m.birth_date, as_of) for m in self.members}
        household_key = facts.household_id or facts.resident_id
        rng = random.Random(f"{seed}:household:{household_key}")  # noqa: S311
        head = self.members[0]
        minors = [m for m in self.members if self.ages[m.resident_id] < 18]
        spouses = [m for m in self.members if m.relation in (Relation.WIFE, Relation.HUSBAND)]
        self.single_parent = (
            bool(minors)
            and not spouses
            and head.relation == Relation.HEAD
            and (any(m.relation == Relation.CHILD for m in minors))
        )
        elderly_alone = len(self.members) == 1 and self.ages[head.resident_id] >= 65
        odds = 0.08 if self.single_parent else 0.05 if elderly_alone else 0.009
        self.assistance = rng.random() < odds
        self.assistance_since = _day_between(
            rng, _add_years(as_of, -10), as_of - timedelta(days=30)
        )
        self._profiles: dict[int, Profile] = {}

    def profile(self, member: HouseholdMember) -> Profile:
        """The member's situation (computed once per household)."""
        found = self._profiles.get(member.resident_id)
        if found is None:
            found = self._draw(member)
            self._profiles[member.resident_id] = found
        return found

    def _draw(self, member: HouseholdMember) -> Profile:
        rng = random.Random(f"{self.seed}:person:{member.resident_id}")  # noqa: S311
        age = self.ages[member.resident_id]
        work: Work = _weighted(rng, _work_odds(age, member.sex))
        if self.assistance and work in (Work.EMPLOYEE, Work.SELF_EMPLOYED) and rng.random() < 0.8:
            work = Work.NONE
        profile = Profile(member=member, age=age, work=work)
        female = member.sex == Sex.FEMALE
        if work is Work.EMPLOYEE or work is Work.UNEMPLOYED:
            median: float = next((m for lo, m in reversed(_SALARY_MEDIANS) if age >= lo), 2_000_000)
            profile.part_time = female and rng.random() < 0.45
            if profile.part_time:
                median = 1_250_000
            elif female:
                median *= 0.78
            profile.salary = max(600_000, _lognormal_yen(rng, median, 0.42))
            profile.employer_insurer = _weighted(
                rng, [(KYOKAI, 0.54), (KUMIAI[0], 0.24), (KUMIAI[1], 0.15), (KYOSAI, 0.07)]
            )
            if work is Work.UNEMPLOYED and profile.employer_insurer == KYOSAI:
                # A public servant who leaves gets 退職手当, not 雇用保険's benefits: the
                # recently unemployed of the generator left private employers.
                profile.employer_insurer = KYOKAI
            start = max(_add_years(member.birth_date, 18), _add_years(self.as_of, -25))
            profile.employed_since = _day_between(rng, start, self.as_of - timedelta(days=60))
        elif work is Work.SELF_EMPLOYED:
            profile.business_income = max(0, _lognormal_yen(rng, 2_400_000, 0.8))
        if age >= 65:
            self._pension(rng, profile)
        return profile

    def _pension(self, rng: random.Random, profile: Profile) -> None:
        member = profile.member
        full = 831_696 if member.birth_date >= date(1956, 4, 2) else 829_296
        years_paid = rng.uniform(0.62, 1.0)
        profile.old_age_basic = int(round(full * years_paid, -2))
        female = member.sex == Sex.FEMALE
        if rng.random() < (0.55 if female else 0.86):
            median = 620_000 if female else 1_150_000
            profile.old_age_employees = int(round(median * math.exp(rng.gauss(0, 0.35)), -2))
        widowed = female and not self.spouse(member) and age_on(member.birth_date, self.as_of) >= 65
        if widowed and rng.random() < 0.45:
            profile.survivors = int(round(880_000 * math.exp(rng.gauss(0, 0.3)), -2))

    def spouse(self, member: HouseholdMember) -> HouseholdMember | None:
        """The member's spouse in the household, if any."""
        partners = _SPOUSES.get(member.relation, ())
        for other in self.members:
            if other.resident_id != member.resident_id and other.relation in partners:
                return other
        return None

    def parents(self, child: HouseholdMember) -> list[HouseholdMember]:
        """The child's parents present in the household (head generation or the child's)."""
        if child.relation == Relation.CHILD:
            wanted: tuple[Relation, ...] = (Relation.HEAD, Relation.WIFE, Relation.HUSBAND)
        elif child.relation == Relation.GRANDCHILD:
            wanted = (Relation.CHILD, Relation.CHILDS_WIFE, Relation.CHILDS_HUSBAND)
        else:
            return []
        return [
            m
            for m in self.members
            if m.relation in wanted and self.ages[m.resident_id] >= 18 and m is not child
        ]

    def recipient(self, child: HouseholdMember) -> HouseholdMember | None:
        """Who receives allowances for ``child`` (受給者): the main earner among its parents."""
        parents = self.parents(child)
        if not parents:
            head = self.members[0]
            minor = self.ages[child.resident_id] < 18
            return head if minor and child.resident_id != head.resident_id else None
        return max(parents, key=lambda p: (self.profile(p).salary, -p.resident_id))

    def mother(self, child: HouseholdMember) -> HouseholdMember | None:
        """The child's mother, if she lives in the household."""
        for parent in self.parents(child):
            if parent.sex == Sex.FEMALE:
                return parent
        return None

    def insurer(self, member: HouseholdMember) -> tuple[str | None, bool]:
        """The member's health insurer agency and whether they are a dependant (被扶養者)."""
        agency, earner = self.coverage(member)
        return agency, earner is not None

    def coverage(self, member: HouseholdMember) -> tuple[str | None, HouseholdMember | None]:
        """The member's health insurer agency and, for a dependant, the insured earner.

        Some of the recently unemployed have not joined 国民健康保険 yet: their record is
        still their former employer's insurer's, with the day they lost it (資格喪失).
        """
        if self.assistance:
            return None, None  # 医療扶助 replaces health insurance
        profile = self.profile(member)
        age = profile.age
        if age >= 75:
            return koki_agency_code(self.facts.municipality_code[:2]), None
        if profile.work is Work.EMPLOYEE:
            return profile.employer_insurer, None
        earners: list[HouseholdMember] = []
        if age < 22:
            earners = self.parents(member)
        elif profile.low_earner:
            partner = self.spouse(member)
            earners = [partner] if partner is not None else []
        for earner in sorted(earners, key=lambda e: -self.profile(e).salary):
            earner_profile = self.profile(earner)
            if earner_profile.work is Work.EMPLOYEE and earner_profile.age < 75:
                return earner_profile.employer_insurer, earner
        lost = self.coverage_lost_on(member)
        if lost is not None:
            return profile.employer_insurer, None
        return kokuho_agency_code(self.facts.municipality_code), None

    def coverage_lost_on(self, member: HouseholdMember) -> date | None:
        """資格喪失年月日 of a job leaver still on the former employer's insurer's record.

        Half of those who left a job recently (Work.UNEMPLOYED): the day after the last
        day of work, three weeks to four months ago.
        """
        profile = self.profile(member)
        if profile.work is not Work.UNEMPLOYED or profile.employer_insurer is None:
            return None
        if "coverage_lost_on" not in profile.extras:
            rng = random.Random(f"{self.seed}:coverage-lost:{member.resident_id}")  # noqa: S311
            lost = None
            if rng.random() < 0.5:
                lost = self.as_of - timedelta(days=rng.randrange(20, 120))
                if profile.employed_since is not None:  # worked a month at least
                    lost = max(lost, profile.employed_since + timedelta(days=30))
            profile.extras["coverage_lost_on"] = lost
        found = profile.extras["coverage_lost_on"]
        return found if isinstance(found, date) else None

    def insured_id(self, member: HouseholdMember) -> tuple[str, str, str]:
        """被保険者記号・番号・枝番 of the member at their insurer (see :func:`insured_id`)."""
        agency, earner = self.coverage(member)
        assert agency is not None  # noqa: S101 - only asked of the insured
        holder, branch = (earner or member), 0
        if earner is not None:  # dependants count 01, 02 … in household order
            dependants = [m for m in self.members if self.coverage(m) == (agency, earner)]
            branch = 1 + dependants.index(member)
        elif agency.startswith(KOKUHO_PREFIX):  # 国保 numbers the household (世帯単位)
            insured = [m for m in self.members if self.coverage(m) == (agency, None)]
            holder, branch = insured[0], insured.index(member)
        symbol, number = insured_id(
            agency, holder.resident_id, self.seed, self.facts.municipality_name
        )
        return symbol, number, f"{branch:02d}"


_SYMBOL_CHARS = re.compile(r"[0-9A-Za-z\u3040-\u30ff\u4e00-\u9fff]")


def insured_id(agency: str, holder_id: int, seed: int, municipality_name: str) -> tuple[str, str]:
    """(記号, 番号) an insurer gives the insured person ``holder_id`` (their dependants share it).

    協会けんぽ: an 8-digit 記号 of the employer's office and a number of up to 7 digits;
    health insurance societies: a short 記号 and a number; 国保: a 記号 of the district
    (two characters of the municipality and two digits) and a 7-digit number per
    household; 後期高齢者医療: no 記号 and an 8-digit 被保険者番号. The number is an affine
    bijection of the holder's id, so no two holders at one insurer share it.
    """
    rng = random.Random(f"{seed}:insured:{agency}:{holder_id}")  # noqa: S311
    offset = random.Random(f"{seed}:numbers:{agency}").randrange(10**8)  # noqa: S311
    if agency.startswith(KOKI_PREFIX):
        return "", f"{(holder_id * 7_919 + offset) % 10**8:08d}"
    if agency.startswith(KOKUHO_PREFIX):
        local = municipality_name.removeprefix(_prefecture_name(municipality_name))
        letters = "".join(c for c in local if _SYMBOL_CHARS.fullmatch(c))[:2] or "国保"
        number = (holder_id * 7_919 + offset) % 9_000_000 + 1_000_000
        return f"{letters}{rng.randrange(1, 40):02d}", str(number)
    if agency == KYOKAI:
        number = (holder_id * 7_919 + offset) % 10**7
        return f"{rng.randrange(10**7, 10**8)}", str(number or 10**7 - 1)
    return f"{rng.randrange(1, 300)}", str((holder_id * 7_919 + offset) % 10**6 + 1)


# -- resident tax (個人住民税) ----------------------------------------------------------------


def salary_income(salary: int) -> int:
    """給与所得: salary less the employment income deduction (給与所得控除, 2025 reform)."""
    if salary <= 1_900_000:
        deduction = 650_000
    elif salary <= 3_600_000:
        deduction = salary * 30 // 100 + 80_000
    elif salary <= 6_600_000:
        deduction = salary * 20 // 100 + 440_000
    elif salary <= 8_500_000:
        deduction = salary * 10 // 100 + 1_100_000
    else:
        deduction = 1_950_000
    return max(0, salary - deduction)


def pension_income(pension: int) -> int:
    """雑所得 of public pensions at 65 or over (公的年金等控除, other income under 10 million)."""
    if pension <= 3_300_000:
        deduction = 1_100_000
    elif pension <= 4_100_000:
        deduction = pension * 25 // 100 + 275_000
    elif pension <= 7_700_000:
        deduction = pension * 15 // 100 + 685_000
    else:
        deduction = pension * 5 // 100 + 1_455_000
    return max(0, pension - deduction)


@dataclass(frozen=True, slots=True)
class ResidentTax:
    """A 住民税 assessment: 所得割 10 % of the taxable income, 均等割 5,000 yen."""

    total_income: int
    taxable_income: int
    income_levy: int
    per_capita_levy: int
    non_taxable: bool

    @property
    def tax_amount(self) -> int:
        """年税額."""
        return self.income_levy + self.per_capita_levy

    def payload(self) -> dict[str, Any]:
        """The assessment as a resident-tax record of ASSESSMENT_YEAR (on the prior year)."""
        return {
            "assessment_year": ASSESSMENT_YEAR,
            "income_year": ASSESSMENT_YEAR - 1,
            "total_income": self.total_income,
            "taxable_income": self.taxable_income,
            "income_levy": self.income_levy,
            "per_capita_levy": self.per_capita_levy,
            "tax_amount": self.tax_amount,
            "non_taxable": self.non_taxable,
        }


def assess_resident_tax(
    *,
    salary: int,
    business_income: int,
    pension: int,
    dependants: int,
    spouse_deduction: bool,
    social_insurance: int,
    exempt_status: bool = False,
) -> ResidentTax:
    """The 住民税 of one person (地方税法 第295条, 1級地 limits; simplified deductions)."""
    total = salary_income(salary) + business_income + pension_income(pension)
    family = 1 + dependants + (1 if spouse_deduction else 0)
    limit = 450_000 if family == 1 else 350_000 * family + 310_000
    if total <= limit or (exempt_status and total <= 1_350_000):
        return ResidentTax(total, 0, 0, 0, True)
    deductions = 430_000 + social_insurance + 330_000 * dependants
    deductions += 330_000 if spouse_deduction else 0
    taxable = max(0, total - deductions) // 1000 * 1000
    levy = max(0, taxable // 10 - 2_500) // 100 * 100
    return ResidentTax(total, taxable, levy, 5_000, False)


# 所得税の速算表 (所得税法第89条第1項): (the top of the band, rate %, deduction).
_INCOME_TAX_BANDS = (
    (1_949_000, 5, 0),
    (3_299_000, 10, 97_500),
    (6_949_000, 20, 427_500),
    (8_999_000, 23, 636_000),
    (17_999_000, 33, 1_536_000),
    (39_999_000, 40, 2_796_000),
)


def national_income_tax(taxable: int) -> int:
    """所得税 on a 課税所得金額 (rounded down to 1,000 yen) by the 速算表."""
    for top, rate, deduction in _INCOME_TAX_BANDS:
        if taxable <= top:
            return max(0, taxable * rate // 100 - deduction)
    return taxable * 45 // 100 - 4_796_000


# -- the generator ----------------------------------------------------------------------


def _draft(item: str, key: str, payload: dict[str, Any], valid_from: date) -> RecordDraft:
    return RecordDraft(item, key, payload, SOURCES[item], valid_from)


class _Writer:
    """Collects one resident's records, agency by agency."""

    def __init__(self, facts: ResidentFacts, household: _Household, seed: int) -> None:
        self.facts = facts
        self.household = household
        self.as_of = household.as_of
        self.me = facts.as_member()
        for member in household.members:
            if member.resident_id == facts.resident_id:
                self.me = member
        self.profile = household.profile(self.me)
        self.age = self.profile.age
        self.rng = random.Random(f"{seed}:records:{facts.resident_id}")  # noqa: S311
        self.municipality = municipality_agency_code(facts.municipality_code)
        self.place = facts.municipality_name or facts.municipality_code
        self.seed = seed
        self.coverage: tuple[str, dict[str, Any], date | None] | None = None
        self.out: list[GeneratedRecord] = []

    def add(self, agency: str, item: str, key: str, payload: dict[str, Any], since: date) -> None:
        self.out.append((agency, _draft(item, key, payload, since)))

    def run(self) -> list[GeneratedRecord]:
        self.household_record()
        tax = self.resident_tax()
        self.health_insurance(tax)
        self.children_records()
        self.pregnancy()
        self.allowances()
        self.high_school()
        disabled = self.disabilities()
        self.pensions(disabled)
        self.care(tax)
        self.assistance()
        self.employment()
        # After every other draw, so that adding these records left the others unchanged.
        self.employment_coverage()
        self.pension_record()
        self.medical_history()
        self.household_income()
        self.income_tax_return()
        return self.out

    def medical_history(self) -> None:
        """薬剤・診療・医療費通知・特定健診 at the person's insurer (their own random stream)."""
        if self.coverage is None:
            return
        insurer, payload, lost = self.coverage
        person = Person(
            birth_date=self.me.birth_date,
            male=self.me.sex == Sex.MALE,
            municipality_code=self.facts.municipality_code,
            place=self.place.removeprefix(_prefecture_name(self.place)),
            copay_percent=payload["copay_percent"],
            covered_from=date.fromisoformat(payload["acquired_on"]),
            covered_until=None if lost is None else lost - timedelta(days=1),
            employee=payload["insured_type"] == "被保険者"
            and not insurer.startswith((KOKUHO_PREFIX, KOKI_PREFIX)),
        )
        rng = random.Random(f"{self.seed}:care:{self.facts.resident_id}")  # noqa: S311
        for item, key, record, since in care_records(person, rng, self.as_of):
            self.add(insurer, item, key, record, since)

    # 世帯
    def household_record(self) -> None:
        members = self.household.members
        payload: dict[str, Any] = {
            "is_head": self.me.relation == Relation.HEAD,
            "relation_to_head": self.me.relation.value,
            "member_count": len(members),
            "member_relations": [m.relation.value for m in members],
            "member_birth_dates": [m.birth_date.isoformat() for m in members],
        }
        if self.facts.address:
            payload["address"] = self.facts.address
        since = self.facts.registered_on or self.me.birth_date
        payload["since"] = since.isoformat()
        self.add(self.municipality, "household", "", payload, since)

    # 地方税
    def household_income(self) -> None:
        """The other adult members' assessed 合計所得金額, beside an adult's household.

        The same figure as each member's own resident-tax record (their income of the year
        before ASSESSMENT_YEAR); drawn from their profiles, so no random number is used.
        """
        assessed_on = date(ASSESSMENT_YEAR, 1, 1)
        if age_on(self.me.birth_date, assessed_on) < 18:
            return
        for position, member in enumerate(self.household.members, start=1):
            if member.resident_id == self.me.resident_id:
                continue
            if age_on(member.birth_date, assessed_on) < 18:
                continue
            profile = self.household.profile(member)
            total = (
                salary_income(profile.salary)
                + profile.business_income
                + pension_income(profile.pension_income)
            )
            year = ASSESSMENT_YEAR - 1
            born = member.birth_date.isoformat()
            self.add(
                self.municipality,
                "household-income",
                f"{year}-{position}",  # twins share a 続柄 and a date of birth
                {
                    "income_year": year,
                    "relation_to_head": member.relation.value,
                    "birth_date": born,
                    "total_income": total,
                },
                date(ASSESSMENT_YEAR, 6, 1),
            )

    # 国税
    def income_tax_return(self) -> None:
        """The 令和6年分 return of those who had to file one (所得税法第120条, 第121条).

        The self-employed, salaries over 2,000万円 and public pensions over 400万円 — filed
        through e-Tax before Myna. The figures follow this person's income of 2025 (the
        profile's), taxed simply: 基礎控除 48万円, social insurance as for 住民税, 38万円 for a
        spouse or a relative of 16 or more in the person's care, the 速算表, 2.1 %
        復興特別所得税; without 定額減税 or other credits. Employers and pension payers
        withheld about nine tenths of it; the self-employed nothing.
        """
        profile = self.profile
        year = ASSESSMENT_YEAR - 2
        if age_on(self.me.birth_date, date(year, 12, 31)) < 18:
            return
        if not (
            profile.business_income > 0
            or profile.salary > 20_000_000
            or profile.pension_income > 4_000_000
        ):
            return
        total = (
            salary_income(profile.salary)
            + profile.business_income
            + pension_income(profile.pension_income)
        )
        in_care = sum(
            1
            for m in self.household.members
            if self.household.recipient(m) == self.me and self.household.ages[m.resident_id] >= 16
        )
        partner = self.household.spouse(self.me)
        spouse = partner is not None and self.household.profile(partner).low_earner
        social = profile.salary * 145 // 1000 + profile.business_income // 10
        deductions = 480_000 + social + 380_000 * (in_care + (1 if spouse else 0))
        taxable = max(0, total - deductions) // 1000 * 1000
        income_tax = national_income_tax(taxable)
        total_tax = income_tax + income_tax * 21 // 1000
        withheld = 0 if profile.business_income > 0 else total_tax * 9 // 10 // 100 * 100
        balance = total_tax - withheld
        filed = date(year + 1, 3, 10)
        self.add(
            NTA,
            "income-tax-return",
            str(year),
            {
                "income_year": year,
                "office_name": "住所地の所轄税務署",
                "receipt_number": f"{filed:%Y%m%d}1{self.facts.resident_id:011d}",
                "filed_on": filed.isoformat(),
                "total_income": total,
                "taxable_income": taxable,
                "total_tax": total_tax,
                "withheld": withheld,
                "due": max(0, balance) // 100 * 100,
                "refund": max(0, -balance),
            },
            filed,
        )

    def resident_tax(self) -> ResidentTax | None:
        profile = self.profile
        if age_on(self.me.birth_date, date(ASSESSMENT_YEAR, 1, 1)) < 18:
            return None
        dependants = [
            m
            for m in self.household.members
            if self.household.recipient(m) == self.me
            and 16 <= self.household.ages[m.resident_id] < 23
        ]
        partner = self.household.spouse(self.me)
        spouse_deduction = (
            partner is not None
            and self.household.profile(partner).low_earner
            and profile.salary + profile.business_income > self.household.profile(partner).salary
        )
        social = profile.salary * 145 // 1000 + profile.business_income // 10
        tax = assess_resident_tax(
            salary=profile.salary,
            business_income=profile.business_income,
            pension=profile.pension_income,
            dependants=len(dependants),
            spouse_deduction=spouse_deduction,
            social_insurance=social,
            exempt_status=self.household.single_parent and self.me.relation == Relation.HEAD,
        )
        if self.household.assistance:
            tax = ResidentTax(tax.total_income, 0, 0, 0, True)
        self.add(
            self.municipality,
            "resident-tax",
            str(ASSESSMENT_YEAR),
            tax.payload(),
            date(ASSESSMENT_YEAR, 6, 1),
        )
        return tax

    # 健康・医療
    def health_insurance(self, tax: ResidentTax | None) -> None:
        insurer, dependant = self.household.insurer(self.me)
        if insurer is None:
            return
        pref_code = self.facts.municipality_code[:2]
        prefecture = _prefecture_name(self.place)
        if insurer == KYOKAI:
            name = f"全国健康保険協会 {prefecture}支部" if prefecture else "全国健康保険協会"
            body = f"01{pref_code}001"
        elif insurer == KYOSAI:
            name = f"地方職員共済組合 {prefecture}支部" if prefecture else "地方職員共済組合"
            body = f"32{pref_code}001"
        elif insurer in _INSURER_NAMES:
            name, body = _INSURER_NAMES[insurer], _KUMIAI_NUMBERS[insurer]
        elif insurer.startswith("koki-"):
            name, body = f"{prefecture}後期高齢者医療広域連合", f"39{pref_code}001"
        else:
            name, body = f"{self.place} 国民健康保険", self.facts.municipality_code[:5]
        earner = self.profile
        if dependant or self.age < 18:
            candidates = self.household.parents(self.me) or [
                m for m in [self.household.spouse(self.me)] if m is not None
            ]
            if candidates:
                earner = max(
                    (self.household.profile(c) for c in candidates), key=lambda p: p.salary
                )
        if dependant or self.profile.work is Work.EMPLOYEE:
            start = earner.employed_since or self.me.birth_date
            acquired = max(start, self.me.birth_date)
        elif self.age >= 75:
            acquired = _add_years(self.me.birth_date, 75)
        else:
            acquired = max(
                self.me.birth_date,
                _day_between(
                    self.rng, _add_years(self.as_of, -15), self.as_of - timedelta(days=30)
                ),
            )
            if self.household.coverage_lost_on(self.me) and self.profile.employed_since:
                acquired = self.profile.employed_since  # the former employer's coverage
        self._write_coverage(insurer, name, body, dependant, acquired, tax, earner)

    def _write_coverage(
        self,
        insurer: str,
        name: str,
        body: str,
        dependant: bool,
        acquired: date,
        tax: ResidentTax | None,
        earner: Profile,
    ) -> None:
        symbol, number, branch = self.household.insured_id(self.me)
        payload: dict[str, Any] = {
            "name": self.facts.name,
            "name_kana": self.facts.name_kana,
            "birth_date": self.me.birth_date.isoformat(),
            "sex": int(self.me.sex),
            "insurer_name": name,
            "insurer_number": body + insurer_check_digit(body),
            "insured_number": number,
            "insured_branch": branch,
            "insured_type": "被扶養者" if dependant else "被保険者",
            "acquired_on": acquired.isoformat(),
            "copay_percent": self._copay(tax),
            "limit_category": self._limit_category(earner, tax, insurer),
        }
        if symbol:
            payload["insured_symbol"] = symbol
        lost = self.household.coverage_lost_on(self.me)
        if lost is not None and insurer == self.profile.employer_insurer and not dependant:
            payload["lost_on"] = lost.isoformat()
        if insurer.startswith(KOKI_PREFIX):
            payload["valid_until"] = koki_valid_until(self.as_of).isoformat()
        self.add(insurer, "health-insurance", "", payload, acquired)
        self.coverage = (insurer, payload, lost if "lost_on" in payload else None)

    def _copay(self, tax: ResidentTax | None) -> int:
        if self.age < 6:
            return 20
        if self.age < 70:
            return 30
        taxable = tax.taxable_income if tax else 0
        if taxable >= 1_450_000:
            return 30
        if self.age < 75:
            return 20
        return 20 if taxable >= 280_000 and (tax and tax.total_income >= 2_000_000) else 10

    def _limit_category(  # noqa: PLR0911 - one return per category
        self, earner: Profile, tax: ResidentTax | None, insurer: str
    ) -> str:
        if self.age >= 70:
            taxable = tax.taxable_income if tax else 0
            if taxable >= 6_900_000:
                return "現役並みⅢ"
            if taxable >= 3_800_000:
                return "現役並みⅡ"
            if taxable >= 1_450_000:
                return "現役並みⅠ"
            if tax is None or tax.non_taxable:
                return "低所得Ⅰ" if self.profile.pension_income <= 800_000 else "低所得Ⅱ"
            return "一般"
        if earner.member == self.me and tax is not None and tax.non_taxable:
            return "オ"
        # dependants and children share the category of the person who supports them
        if earner.member != self.me and earner.salary + earner.business_income < 1_000_000:
            return "オ"
        if insurer.startswith("kokuho-"):
            base = salary_income(earner.salary) + earner.business_income - 430_000
            bands = ((9_010_000, "ア"), (6_000_000, "イ"), (2_100_000, "ウ"))
        else:
            base = earner.salary // 12
            bands = ((810_000, "ア"), (515_000, "イ"), (270_000, "ウ"))
        for floor, category in bands:
            if base > floor:
                return category
        return "エ"

    def children_records(self) -> None:
        if self.age >= 17:
            return
        birth = self.me.birth_date
        if self.age < 6:
            for checkup, months in (
                ("3〜4か月児", 3),
                ("9〜10か月児", 9),
                ("1歳6か月児", 18),
                ("3歳児", 36),
            ):
                day = _add_months(birth, months) + timedelta(days=self.rng.randrange(5, 40))
                if day > self.as_of or self.rng.random() < 0.04:
                    continue
                result = _weighted(
                    self.rng, [("異常なし", 0.85), ("要経過観察", 0.12), ("要精密検査", 0.03)]
                )
                payload = {
                    "checkup": checkup,
                    "age_months": (day.year - birth.year) * 12
                    + day.month
                    - birth.month
                    - (day.day < birth.day),
                    "examined_on": day.isoformat(),
                    "result": result,
                }
                self.add(self.municipality, "infant-checkup", checkup, payload, day)
        for vaccine, dose, days in vaccination_schedule(self.me):
            if self.rng.random() < (0.6 if vaccine == "HPV" else 0.015):
                continue
            day = birth + timedelta(days=days + self.rng.randrange(0, 28))
            if day > self.as_of:
                continue
            payload = {
                "vaccine": vaccine,
                "dose": dose,
                "vaccinated_on": day.isoformat(),
                "municipality": self.place,
                "lot": vaccine_lot(vaccine, dose, day, self.place),
            }
            self.add(self.municipality, "vaccination", f"{vaccine}-{dose}", payload, day)

    # 子育て
    def pregnancy(self) -> None:
        if self.me.sex != Sex.FEMALE or not 16 <= self.age <= 46:
            return
        pregnancies: list[date] = []  # conception dates
        for member in self.household.members:
            months = (self.as_of - member.birth_date).days / 30.4
            if months < 12 and self.household.mother(member) == self.me:
                pregnancies.append(member.birth_date - timedelta(days=266))
        odds = {20: 0.02, 25: 0.05, 30: 0.06, 35: 0.035, 40: 0.008}
        chance = next((p for lo, p in sorted(odds.items(), reverse=True) if self.age >= lo), 0.003)
        married = self.household.spouse(self.me) is not None
        if self.rng.random() < chance * (1.0 if married else 0.15):
            pregnancies.append(self.as_of - timedelta(days=self.rng.randrange(60, 265)))
        for conception in pregnancies:
            notified = conception + timedelta(days=self.rng.randrange(45, 80))
            expected = conception + timedelta(days=266)
            key = expected.isoformat()
            payload: dict[str, Any] = {
                "notified_on": notified.isoformat(),
                "expected_delivery": expected.isoformat(),
                "handbook_issued_on": notified.isoformat(),
            }
            self.add(self.municipality, "pregnancy-notification", key, payload, notified)
            for visit, week in enumerate(_CHECKUP_WEEKS, start=1):
                day = conception + timedelta(days=(week - 2) * 7 + self.rng.randrange(0, 5))
                if day > self.as_of or day <= notified:
                    continue
                result = _weighted(
                    self.rng, [("異常なし", 0.9), ("要経過観察", 0.08), ("要精密検査", 0.02)]
                )
                payload = {
                    "visit": visit,
                    "weeks": week,
                    "examined_on": day.isoformat(),
                    "result": result,
                }
                self.add(self.municipality, "pregnancy-checkup", f"{key}-{visit:02d}", payload, day)

    def allowances(self) -> None:
        household = self.household
        kids = sorted(
            (m for m in household.members if household.recipient(m) == self.me and m != self.me),
            key=lambda m: m.birth_date,
        )
        supported = [k for k in kids if household.ages[k.resident_id] < 22]
        eligible = [k for k in supported if self.as_of <= _allowance_ends(k.birth_date)]
        for order, kid in enumerate(supported, start=1):
            if kid not in eligible:
                continue
            if order >= 3:
                category, amount = "第3子以降", 30_000
            elif age_on(kid.birth_date, self.as_of) < 3:
                category, amount = "3歳未満", 15_000
            else:
                category, amount = "3歳以上高校生年代まで", 10_000
            started = _first_of_next_month(kid.birth_date)
            if age_on(kid.birth_date, date(2024, 10, 1)) >= 15:
                started = max(started, date(2024, 10, 1))  # high-school age joined in 2024
            payload = {
                "category": category,
                "child_order": order,
                "child_birth_date": kid.birth_date.isoformat(),
                "started_on": started.isoformat(),
                "monthly_amount": amount,
            }
            self.add(self.municipality, "child-allowance", f"child-{order}", payload, started)
        if household.single_parent and self.me.relation == Relation.HEAD and eligible:
            self._child_rearing(len(eligible), eligible[-1].birth_date)

    def _child_rearing(self, children: int, youngest: date) -> None:
        income = salary_income(self.profile.salary) + self.profile.business_income
        full_limit, partial_limit = (
            690_000 + 380_000 * (children - 1),
            2_080_000 + 380_000 * (children - 1),
        )
        if income >= partial_limit or self.rng.random() < 0.12:
            return
        if income < full_limit:
            category, first, extra = "全部支給", 46_690, 11_030
        else:
            share = (income - full_limit) / (partial_limit - full_limit)
            category = "一部支給"
            first = int(round(46_680 - share * (46_680 - 11_010), -1))
            extra = int(round(11_020 - share * (11_020 - 5_520), -1))
        started = max(_first_of_next_month(youngest), _add_years(self.as_of, -8)).replace(day=1)
        payload = {
            "category": category,
            "children": children,
            "started_on": started.isoformat(),
            "monthly_amount": first + extra * (children - 1),
        }
        self.add(self.municipality, "child-rearing-allowance", "", payload, started)

    def high_school(self) -> None:
        school_year = self.as_of.year if self.as_of.month >= 4 else self.as_of.year - 1
        on_april_first = age_on(self.me.birth_date, date(school_year, 4, 1))
        if not 15 <= on_april_first <= 17 or self.rng.random() < 0.015:
            return
        earner = self.household.recipient(self.me)
        income = self.household.profile(earner).salary if earner else 0
        private = self.rng.random() < 0.33
        amount = 396_000 if private and income < 5_900_000 else 118_800
        payload = {
            "eligible": True,
            "school_year": school_year,
            "school_type": "私立" if private else "国公立",
            "annual_amount": amount,
        }
        self.add("mext", "high-school-support", str(school_year), payload, date(school_year, 4, 1))

    # 福祉・介護
    def disabilities(self) -> str | None:
        """Write the certificates; the grade that entitles to a disability pension, if any."""
        age, rng, pension_grade = self.age, self.rng, None
        physical = 0.004 if age < 18 else 0.012 if age < 65 else 0.04 if age < 75 else 0.09
        if rng.random() < physical:
            grade = _weighted(
                rng, [("1級", 26), ("2級", 15), ("3級", 17), ("4級", 26), ("5級", 9), ("6級", 7)]
            )
            kind = _weighted(
                rng,
                [("肢体不自由", 45), ("内部障害", 30), ("聴覚・平衡機能障害", 9),
                 ("視覚障害", 7), ("音声・言語・そしゃく機能障害", 2)],
            )  # fmt: skip
            issued = _day_between(
                rng, max(self.me.birth_date, _add_years(self.as_of, -30)), self.as_of
            )
            payload = {
                "certificate_number": f"第{rng.randrange(10**5, 10**6)}号",
                "grade": grade,
                "disability": kind,
                "issued_on": issued.isoformat(),
            }
            self.add(self.municipality, "disability-physical", "", payload, issued)
            pension_grade = grade if grade in ("1級", "2級") else pension_grade
        mental = 0.0 if age < 15 else 0.004 if age < 20 else 0.017 if age < 65 else 0.006
        if rng.random() < mental:
            grade = _weighted(rng, [("1級", 11), ("2級", 55), ("3級", 34)])
            issued = _day_between(rng, self.as_of - timedelta(days=700), self.as_of)
            payload = {
                "certificate_number": f"第{rng.randrange(10**5, 10**6)}号",
                "grade": grade,
                "issued_on": issued.isoformat(),
                "valid_until": (_add_years(issued, 2) - timedelta(days=1)).isoformat(),
            }
            self.add(self.municipality, "disability-mental", "", payload, issued)
            pension_grade = pension_grade or (grade if grade != "3級" else None)
        intellectual = 0.015 if age < 20 else 0.008 if age < 65 else 0.002
        if rng.random() < intellectual:
            grade = _weighted(rng, [("A", 40), ("B", 60)])
            issued = _day_between(rng, _add_years(self.me.birth_date, 2), self.as_of)
            issued = min(max(issued, self.me.birth_date), self.as_of)
            payload = {
                "certificate_number": f"第{rng.randrange(10**5, 10**6)}号",
                "grade": grade,
                "issued_on": issued.isoformat(),
            }
            if age < 18:
                payload["valid_until"] = _add_years(self.as_of.replace(day=1), 2).isoformat()
            self.add(self.municipality, "disability-intellectual", "", payload, issued)
            pension_grade = pension_grade or ("1級" if grade == "A" else "2級")
        return pension_grade

    def pensions(self, disability_grade: str | None) -> None:
        profile, jps = self.profile, "jps"
        if self.age >= 65:
            start = _add_years(self.me.birth_date, 65) - timedelta(days=1)
            for kind, amount in (
                ("老齢基礎年金", profile.old_age_basic),
                ("老齢厚生年金", profile.old_age_employees),
                ("遺族厚生年金", profile.survivors),
            ):
                if amount:
                    payload = {
                        "pension_type": kind,
                        "annual_amount": amount,
                        "started_on": start.isoformat(),
                    }
                    self.add(jps, "public-pension", kind, payload, start)
        elif self.age >= 20 and disability_grade is not None and self.rng.random() < 0.75:
            amount = 1_039_625 if disability_grade == "1級" else 831_700
            start = _add_years(self.me.birth_date, 20)
            payload = {
                "pension_type": "障害基礎年金",
                "annual_amount": amount,
                "started_on": start.isoformat(),
                "grade": disability_grade,
            }
            self.add(jps, "public-pension", "障害基礎年金", payload, start)

    def care(self, tax: ResidentTax | None) -> None:
        if self.age < 65:
            return
        odds = ((90, 0.72), (85, 0.48), (80, 0.26), (75, 0.12), (70, 0.06), (65, 0.03))
        if self.rng.random() >= next(p for lo, p in odds if self.age >= lo):
            return
        level = _weighted(
            self.rng,
            [("要支援1", 14), ("要支援2", 14), ("要介護1", 21), ("要介護2", 17),
             ("要介護3", 13), ("要介護4", 12), ("要介護5", 9)],
        )  # fmt: skip
        months = 12 if level.startswith("要支援") else 36
        start = _add_months(self.as_of.replace(day=1), -self.rng.randrange(0, months))
        income = tax.total_income if tax else 0
        copay = 30 if income >= 3_400_000 else 20 if income >= 2_200_000 else 10
        payload = {
            "insured_number": f"{self.rng.randrange(10**9, 10**10)}",
            "care_level": level,
            "certified_from": start.isoformat(),
            "certified_until": (_add_months(start, months) - timedelta(days=1)).isoformat(),
            "copay_percent": copay,
        }
        self.profile.extras["care"] = True
        self.add(self.municipality, "long-term-care", "", payload, start)

    def assistance(self) -> None:
        if not self.household.assistance:
            return
        kinds = ["生活扶助", "住宅扶助", "医療扶助"]
        if 6 <= self.age <= 15:
            kinds.append("教育扶助")
        if self.profile.extras.get("care"):
            kinds.append("介護扶助")
        since = max(self.household.assistance_since, self.me.birth_date)
        office = f"{self.place}福祉事務所"
        payload = {
            "started_on": since.isoformat(),
            "assistance_types": kinds,
            "welfare_office": office,
        }
        self.add(self.municipality, "public-assistance", "", payload, since)

    # 雇用・年金
    def employment(self) -> None:
        profile, rng = self.profile, self.rng
        if profile.work is Work.UNEMPLOYED:
            qualified = self.as_of - timedelta(days=rng.randrange(10, 85))
            lost = self.household.coverage_lost_on(self.me)
            if lost is not None:  # the health insurance record says when the job ended
                qualified = max(qualified, lost + timedelta(days=7))
            profile.extras["qualified_on"] = qualified
            dismissed = rng.random() < 0.3
            days = (
                _weighted(rng, [(180, 3), (210, 2), (240, 2), (270, 1), (330, 1)])
                if dismissed
                else (_weighted(rng, [(90, 6), (120, 3), (150, 2)]))
            )
            rate = rng.uniform(0.5, 0.8)
            daily = min(8_870, max(2_411, int(profile.salary / 365 * rate)))
            used = max(0, (self.as_of - qualified).days - 7)
            payload = {
                "qualified_on": qualified.isoformat(),
                "benefit_days": days,
                "daily_amount": daily,
                "remaining_days": max(0, days - used),
            }
            self.add("hellowork", "employment-insurance", "", payload, qualified)
        if profile.work is Work.EMPLOYEE and rng.random() < 0.004:
            kind = _weighted(
                rng, [("休業補償等給付", 7), ("障害補償等年金", 2), ("傷病補償等年金", 1)]
            )
            started = self.as_of - timedelta(days=rng.randrange(10, 700))
            if kind == "休業補償等給付":
                amount, basis = int(profile.salary / 365 * 0.8), "日額"
            else:
                amount, basis = int(round(profile.salary * rng.uniform(0.3, 0.8), -2)), "年額"
            payload = {
                "benefit_type": kind,
                "started_on": started.isoformat(),
                "amount": amount,
                "amount_basis": basis,
            }
            self.add("mhlw", "workers-compensation", "", payload, started)

    def employment_coverage(self) -> None:
        """雇用保険の被保険者資格: employees of 20 hours a week or more, and the recently
        unemployed until they left (資格喪失 the day after the last day of work)."""
        profile, rng = self.profile, self.rng
        if profile.employed_since is None or profile.work not in (Work.EMPLOYEE, Work.UNEMPLOYED):
            return
        if profile.employer_insurer == KYOSAI:
            return  # 雇用保険法 第6条: public servants are not insured
        if profile.part_time and rng.random() < 0.3:
            return  # under 20 hours a week: not insured
        employer = _EMPLOYERS.get(profile.employer_insurer or "") or (
            f"株式会社{rng.choice(_COMPANY_WORDS)}{rng.choice(_COMPANY_KINDS)}"
        )
        payload: dict[str, Any] = {
            "insured_number": (
                f"{rng.randrange(1000, 10_000)}-{rng.randrange(10**5, 10**6)}-{rng.randrange(10)}"
            ),
            "employer_name": employer,
            "insured_type": "高年齢被保険者" if self.age >= 65 else "一般被保険者",
            "acquired_on": profile.employed_since.isoformat(),
        }
        qualified = profile.extras.get("qualified_on")
        if profile.work is Work.UNEMPLOYED and isinstance(qualified, date):
            lost = max(profile.employed_since, qualified - timedelta(days=rng.randrange(7, 30)))
            lost = self.household.coverage_lost_on(self.me) or lost
            payload["lost_on"] = lost.isoformat()
        key = profile.employed_since.isoformat()
        self.add(
            "hellowork", "employment-insurance-qualification", key, payload, profile.employed_since
        )

    def pension_record(self) -> None:
        """年金加入記録 from 20 (or the first day of work): the current coverage and months."""
        profile, me = self.profile, self.me
        employed = profile.work is Work.EMPLOYEE and profile.employed_since is not None
        if self.age < 20 and not employed:
            return
        twenty = _add_years(me.birth_date, 20)
        sixty = _add_years(me.birth_date, 60)
        insured, dependant = self.household.insurer(me)
        partner = self.household.spouse(me)
        partner_employed = (
            partner is not None and self.household.profile(partner).work is Work.EMPLOYEE
        )
        acquired: date | None
        if employed and self.age < 70:
            assert profile.employed_since is not None  # noqa: S101 - employed says so
            category = "第2号被保険者" if self.age < 65 else "厚生年金保険の被保険者（65歳以上）"
            acquired = profile.employed_since
        elif self.age < 60 and dependant and partner_employed and insured is not None:
            assert partner is not None  # noqa: S101 - partner_employed says so
            since = self.household.profile(partner).employed_since or twenty
            category, acquired = "第3号被保険者", max(twenty, since)
        elif self.age < 60:
            category = "第1号被保険者"
            left = profile.extras.get("qualified_on")
            acquired = left if isinstance(left, date) else twenty
        else:
            category, acquired = "加入なし", None
        counted_until = min(self.as_of, sixty)
        months = max(0, _months_between(twenty, counted_until))
        if self.age >= 65 and profile.old_age_basic:
            months = min(480, round(480 * profile.old_age_basic / 831_696))
        elif category == "第1号被保険者" and not profile.extras.get("qualified_on"):
            months = round(months * self.rng.uniform(0.6, 1.0))  # unpaid or exempt months
        payload: dict[str, Any] = {
            "insured_category": category,
            "insured_months": min(480, months),
        }
        if acquired is not None:
            payload["acquired_on"] = max(acquired, me.birth_date).isoformat()
        employees_months = 0
        if profile.employed_since is not None:
            left = profile.extras.get("qualified_on")
            until = left if isinstance(left, date) else self.as_of
            employees_months = _months_between(profile.employed_since, until)
        elif profile.old_age_employees:
            employees_months = min(540, round(480 * profile.old_age_employees / 1_150_000))
        if employees_months:
            payload["employees_months"] = min(720, employees_months)
        since = acquired or twenty
        self.add("jps", "pension-record", "", payload, max(since, me.birth_date))


def _months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 when ``end`` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    return max(0, months)


# The employers behind the two societies, and words for the others' (fictitious) names.
_EMPLOYERS = {
    "kenpo-minato-denki": "みなと電機株式会社",
    "kenpo-sakura-shoji": "さくら商事株式会社",
}
_COMPANY_WORDS = (
    "あおば",
    "ひかり",
    "みどり",
    "やまと",
    "はるかぜ",
    "つばさ",
    "ことぶき",
    "あさひ",
)
_COMPANY_KINDS = ("工業", "物産", "建設", "運輸", "食品", "サービス", "印刷", "システム")


_CHECKUP_WEEKS = (12, 16, 20, 24, 26, 28, 30, 32, 34, 35, 36, 37, 38, 39)


# The manufacturer's letters of each vaccine's lot numbers (ロット番号), as printed on the
# vial and copied into the 予診票 and the 予防接種台帳.
_LOT_PREFIXES = {
    "Hib": "HB", "小児用肺炎球菌": "PC", "B型肝炎": "BH", "ロタウイルス": "RV", "四種混合": "DQ",
    "五種混合": "DP", "BCG": "KH", "MR（麻しん風しん）": "MR", "水痘": "VZ", "日本脳炎": "JE",
    "HPV": "HP",
}  # fmt: skip


def vaccine_lot(vaccine: str, dose: int, day: date, place: str) -> str:
    """The lot number of a dose: the same vaccine on the same day and place, the same lot.

    Derived from the dose's facts, not drawn from the generator, so adding it changed no
    other record of a seed.
    """
    digest = hashlib.sha256(f"{vaccine}|{day.isoformat()}|{place}".encode()).digest()
    number = int.from_bytes(digest[:4], "big")
    del dose  # every dose given that day there came from the clinic's same lot
    return f"{_LOT_PREFIXES.get(vaccine, 'VX')}{number % 1000:03d}{chr(ord('A') + number % 26)}"


def vaccination_schedule(child: HouseholdMember) -> list[tuple[str, int, int]]:
    """Routine vaccinations (定期接種) as (vaccine, dose, age in days), by birth date."""
    birth = child.birth_date
    doses: list[tuple[str, int, int]] = [
        ("小児用肺炎球菌", 1, 61), ("小児用肺炎球菌", 2, 89), ("小児用肺炎球菌", 3, 117),
        ("小児用肺炎球菌", 4, 395), ("BCG", 1, 150), ("MR（麻しん風しん）", 1, 372),
        ("MR（麻しん風しん）", 2, 5 * 365 + 150), ("水痘", 1, 380), ("水痘", 2, 560),
        ("日本脳炎", 1, 3 * 365 + 30), ("日本脳炎", 2, 3 * 365 + 60),
        ("日本脳炎", 3, 4 * 365 + 60), ("日本脳炎", 4, 9 * 365 + 100),
    ]  # fmt: skip
    if birth >= date(2024, 2, 1):  # 五種混合 (with Hib) became routine in April 2024
        doses += [("五種混合", n, d) for n, d in ((1, 61), (2, 89), (3, 117), (4, 540))]
    else:
        doses += [("四種混合", n, d) for n, d in ((1, 89), (2, 117), (3, 145), (4, 540))]
        doses += [("Hib", n, d) for n, d in ((1, 61), (2, 89), (3, 117), (4, 395))]
    if birth >= date(2016, 4, 1):  # B型肝炎 routine from October 2016
        doses += [("B型肝炎", 1, 61), ("B型肝炎", 2, 89), ("B型肝炎", 3, 230)]
    if birth >= date(2020, 8, 1):  # ロタウイルス routine from October 2020
        doses += [("ロタウイルス", 1, 61), ("ロタウイルス", 2, 89)]
    if child.sex == Sex.FEMALE:
        doses += [("HPV", 1, 12 * 365 + 200), ("HPV", 2, 12 * 365 + 380)]
    return doses


PersonaRecords = Callable[[ResidentFacts], list[GeneratedRecord]]


def generate_records(
    *, resident: ResidentFacts, seed: int, as_of: date = REFERENCE_DATE
) -> list[GeneratedRecord]:
    """Every record the agencies hold about ``resident``, as (agency code, draft) pairs.

    Pure and deterministic: the same facts and seed give the same records. Personas get
    their hand-written records whatever the seed.
    """
    identity = _identity(resident)
    records: list[GeneratedRecord] | None = None
    if resident.persona is not None:
        from myna.agencies.personas import persona_records  # noqa: PLC0415 - avoids a cycle

        records = persona_records(resident)
    if records is None:
        records = _Writer(resident, _Household(resident, seed, as_of), seed).run()
    return identity + records + _insured_index(records)


def _insured_index(records: list[GeneratedRecord]) -> list[GeneratedRecord]:
    """加入者情報: the insurer registers whom it covers with the eligibility service.

    One record in the service's own store (``oqs``), keyed by the insured id as
    保険者番号:記号:番号:枝番, so an institution can confirm by number (資格確認書) without
    the card; the date of birth is what the institution must match.
    """
    for agency, draft in records:
        if draft.item_code != "health-insurance":
            continue
        coverage = draft.payload
        key = ":".join(
            (
                coverage["insurer_number"],
                coverage.get("insured_symbol", ""),
                coverage["insured_number"],
                coverage["insured_branch"],
            )
        )
        payload = {
            "insurer": agency,
            "insurer_number": coverage["insurer_number"],
            "birth_date": coverage["birth_date"],
        }
        return [(OQS, _draft(INSURED_INDEX, key, payload, draft.valid_from))]
    return []


def _identity(resident: ResidentFacts) -> list[GeneratedRecord]:
    """J-LIS's 本人確認情報 of the resident: the four facts the municipality sent."""
    if not resident.name:
        return []
    payload = {
        "name": resident.name,
        "name_kana": resident.name_kana,
        "address": resident.address,
        "birth_date": resident.birth_date.isoformat(),
        "sex": int(resident.sex),
    }
    since = resident.registered_on or resident.birth_date
    return [(JLIS, _draft("basic-info", "", payload, since))]
