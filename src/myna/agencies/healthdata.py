"""What insurers learn of a person's care: 薬剤情報, 特定健診, 診療情報, 医療費通知 (pure).

The insurer holds these from the claims (レセプト) of clinics and pharmacies and from
the checkups it runs; オンライン資格確認 and the portal read them. For one insured person
:func:`care_records` draws, from a random generator seeded per person, a plausible
history consistent with age and sex:

* chronic care — high blood pressure, lipids, diabetes from the forties, more with age,
  and for the elderly stomach, sleep and constipation drugs: a visit to the same clinic
  every 28, 56 or 84 days, with a prescription filled at the pharmacy next door;
* acute episodes — colds, allergies, a stomach upset, more often for small children;
* dentistry for about a third of people;
* 特定健診 from 40 to 74, one a fiscal year for those who take it, judged by
  :func:`checkup_judgement`.

Every visit and dispensing costs 点数 × 10 yen; the month's total per institution is
the 医療費通知, and the patient's share is rounded to 10 yen as at the counter. The
details (薬剤・診療) go back a year; the expenses cover the calendar year before the
reference day and the months since, within the coverage.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# (item code, record key, payload, valid from)
CareRecord = tuple[str, str, dict[str, Any], date]

EXPENSES_FROM = date(2025, 1, 1)  # 令和7年分: the notices a tax return of 2025 reads
DETAIL_DAYS = 365  # 薬剤情報 and 診療情報 go back a year

MEDICATION_CAP = 40


def table_code(prefecture: str, table: str, district: str, number: str) -> str:
    """A 医療機関コード: prefecture 2, 点数表 1, 郡市区 2, number 4 and the MHLW check digit.

    The check digit is the one of 保険者番号 (weights 2, 1 … from the right, digit sums,
    10 minus the last digit of the sum).
    """
    body = f"{prefecture}{table}{district}{number}"
    total = 0
    for index, char in enumerate(reversed(body)):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return f"{body}{(10 - total % 10) % 10}"


def counter_share(total: int, percent: int) -> int:
    """一部負担金: ``percent`` of ``total`` yen, rounded to 10 yen (5 yen and up rounds up)."""
    return (total * percent + 500) // 1000 * 10


# -- 特定健診: the judgements -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measures:
    """The checkup's measures used by the judgements (None: not measured)."""

    male: bool
    age: int
    waist_cm: float | None
    bmi: float | None
    systolic_bp: int | None
    diastolic_bp: int | None
    hba1c: float | None
    triglycerides: int | None
    hdl_cholesterol: int | None
    medicated: frozenset[str] = frozenset()  # of "pressure", "glucose", "lipids"


def checkup_judgement(m: Measures) -> tuple[str, str]:
    """メタボリックシンドローム判定 and 保健指導レベル of a 特定健診.

    Per the MHLW 標準的な健診・保健指導プログラム (令和6年度版), in short:

    メタボ判定: 腹囲 85 cm or more for men, 90 cm for women, with two or more of the risks
    — blood pressure 130/85 mmHg or more, HbA1c (NGSP) 6.0 % or more, triglycerides
    150 mg/dL or more or HDL under 40 mg/dL, each also when treated with drugs — is
    基準該当; with one, 予備群該当; otherwise 非該当.

    保健指導レベル (階層化): step 1 sorts by 腹囲 (as above) or else BMI 25 or more; step 2
    counts the risks of guidance — blood pressure as above, HbA1c 5.6 % or more, lipids as
    above; 腹囲 with 2 risks or more, or BMI with 3, is 積極的支援, any fewer risk but one
    動機付け支援, none なし. Step 4: from 65 積極的支援 becomes 動機付け支援, and a person
    treated for pressure, glucose or lipids gets no 特定保健指導 (なし). A missing measure
    the rule needs gives 判定不能.
    """
    needed = (m.waist_cm, m.bmi, m.systolic_bp, m.diastolic_bp, m.hba1c)
    if any(v is None for v in needed) or (m.triglycerides is None and m.hdl_cholesterol is None):
        return "判定不能", "判定不能"
    assert m.waist_cm is not None and m.bmi is not None and m.hba1c is not None  # noqa: S101
    assert m.systolic_bp is not None and m.diastolic_bp is not None  # noqa: S101
    big_waist = m.waist_cm >= (85 if m.male else 90)
    pressure = m.systolic_bp >= 130 or m.diastolic_bp >= 85 or "pressure" in m.medicated
    lipids = (
        (m.triglycerides is not None and m.triglycerides >= 150)
        or (m.hdl_cholesterol is not None and m.hdl_cholesterol < 40)
        or "lipids" in m.medicated
    )
    glucose_metabolic = m.hba1c >= 6.0 or "glucose" in m.medicated
    metabolic_risks = sum((pressure, lipids, glucose_metabolic))
    if big_waist and metabolic_risks >= 2:
        judgement = "基準該当"
    elif big_waist and metabolic_risks == 1:
        judgement = "予備群該当"
    else:
        judgement = "非該当"
    if m.medicated:
        return judgement, "なし"
    risks = sum((pressure, lipids, m.hba1c >= 5.6))
    if big_waist:
        level = "積極的支援" if risks >= 2 else "動機付け支援" if risks else "なし"
    elif m.bmi >= 25:
        level = "積極的支援" if risks >= 3 else "動機付け支援" if risks else "なし"
    else:
        level = "なし"
    if level == "積極的支援" and m.age >= 65:
        level = "動機付け支援"
    return judgement, level


# -- drugs, procedures and institutions --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Drug:
    """A medicine as dispensed: name, YJ code, a day's amount, unit, directions, yen a unit."""

    name: str
    code: str
    daily: float
    unit: str
    usage: str
    price: float  # 薬価 per unit, yen
    max_days: int = 90


# YJ codes (個別医薬品コード): the first 9 characters name the ingredient, form and strength
# of the 薬価基準; the last 3 the product.
_AMLODIPINE = Drug("ノルバスク錠5mg", "2171022F2025", 1, "錠", "1日1回朝食後", 15.2)
_ATORVASTATIN = Drug("リピトール錠10mg", "2189015F2021", 1, "錠", "1日1回夕食後", 32.6)
_METFORMIN = Drug("メトグルコ錠500mg", "3962002F2027", 2, "錠", "1日2回朝夕食後", 10.4)
_FAMOTIDINE = Drug("ガスター錠20mg", "2325003F2020", 2, "錠", "1日2回朝食後・就寝前", 12.7)
_ZOLPIDEM = Drug("マイスリー錠5mg", "1129009F1025", 1, "錠", "1日1回就寝前", 19.7, 30)
_MAGNESIUM = Drug("酸化マグネシウム錠330mg「ヨシダ」", "2344009F2017", 3, "錠", "1日3回毎食後", 5.7)
_LOXOPROFEN = Drug("ロキソニン錠60mg", "1149019F1560", 3, "錠", "1日3回毎食後", 10.1)
_REBAMIPIDE = Drug("ムコスタ錠100mg", "2329021F1021", 3, "錠", "1日3回毎食後", 10.1)
_CARBOCISTEINE = Drug(
    "カルボシステイン錠500mg「サワイ」", "2233002F2103", 3, "錠", "1日3回毎食後", 6.3
)
_LEVOCETIRIZINE = Drug("ザイザル錠5mg", "4490028F1023", 1, "錠", "1日1回就寝前", 35.6)
_CARBOCISTEINE_DS = Drug("ムコダインDS50%", "2233002R2029", 1, "g", "1日3回毎食後", 19.5)
_LEVOCETIRIZINE_SYRUP = Drug(
    "ザイザルシロップ0.05%", "4490028Q1028", 5, "mL", "1日2回朝食後・就寝前", 15.3
)
_ACETAMINOPHEN = Drug("カロナール細粒20%", "1141007C1075", 0.9, "g", "発熱時（1日3回まで）", 9.2)

CHRONIC = {
    "pressure": _AMLODIPINE,
    "lipids": _ATORVASTATIN,
    "glucose": _METFORMIN,
    "stomach": _FAMOTIDINE,
    "sleep": _ZOLPIDEM,
    "bowels": _MAGNESIUM,
}
# Acute medicines by name, for hand-written histories.
ACUTE = {
    "loxoprofen": _LOXOPROFEN,
    "carbocisteine": _CARBOCISTEINE,
    "carbocisteine-ds": _CARBOCISTEINE_DS,
    "acetaminophen": _ACETAMINOPHEN,
    "levocetirizine": _LEVOCETIRIZINE,
}
_Episode = tuple[tuple[Drug, ...], int, float]  # medicines, days, share of episodes
_ADULT_EPISODES: tuple[_Episode, ...] = (
    ((_LOXOPROFEN, _CARBOCISTEINE, _REBAMIPIDE), 5, 0.55),  # a cold
    ((_LEVOCETIRIZINE,), 28, 0.3),  # hay fever
    ((_FAMOTIDINE, _REBAMIPIDE), 14, 0.15),  # stomach upset
)
_CHILD_EPISODES: tuple[_Episode, ...] = (
    ((_CARBOCISTEINE_DS, _ACETAMINOPHEN), 5, 0.6),
    ((_LEVOCETIRIZINE_SYRUP,), 14, 0.4),
)

# 診療行為コード (基本マスター) and 点数 of the 令和6年度 table.
FIRST_VISIT = ("初診料", "111000110", 291)
REVISIT = ("再診料", "112007410", 75)
MANAGEMENT = ("外来管理加算", "112011310", 52)
PRESCRIPTION = ("処方箋料（その他）", "120002910", 60)
BLOOD_COUNT = ("末梢血液一般検査", "160008010", 21)

_CLINIC_WORDS = ("さくら", "あおば", "ひかり", "みなみ", "やまだ", "すずらん", "なかむら", "けやき")
_PHARMACY_WORDS = ("ひまわり", "にじいろ", "あおぞら", "かえで", "たんぽぽ", "こもれび")
_CHECKUP_PLACES = ("健診センター", "総合病院 健診部", "クリニック", "医師会健診センター")


@dataclass(frozen=True, slots=True)
class Institution:
    """A clinic, dentist or pharmacy: its name and 医療機関コード."""

    name: str
    code: str


def _institution(municipality: str, table: str, index: int, name: str) -> Institution:
    # The same municipality and index give the same institution to everyone living there.
    district = f"{int(municipality[2:5]) % 97 + 1:02d}"
    number = f"{(int(municipality) * 37 + index * 1_009 + int(table) * 211) % 9_000 + 1_000:04d}"
    return Institution(name, table_code(municipality[:2], table, district, number))


def clinic_of(municipality: str, place: str, index: int, child: bool) -> Institution:
    """The ``index``-th clinic (内科, or for children 小児科) of a municipality."""
    word = _CLINIC_WORDS[index % len(_CLINIC_WORDS)]
    kind = "こどもクリニック" if child else "内科クリニック"
    return _institution(municipality, "1", index + (10 if child else 0), f"{place}{word}{kind}")


def pharmacy_of(municipality: str, place: str, index: int) -> Institution:
    """The ``index``-th pharmacy of a municipality."""
    word = _PHARMACY_WORDS[index % len(_PHARMACY_WORDS)]
    return _institution(municipality, "4", index, f"{word}薬局 {place}店")


def dentist_of(municipality: str, place: str, index: int) -> Institution:
    """The ``index``-th dentist of a municipality."""
    word = _CLINIC_WORDS[(index + 3) % len(_CLINIC_WORDS)]
    return _institution(municipality, "3", index, f"{place}{word}歯科医院")


# -- the history -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """What the history depends on: the person and their coverage at this insurer."""

    birth_date: date
    male: bool
    municipality_code: str
    place: str  # the municipality's own name, for the institutions' names
    copay_percent: int
    covered_from: date
    covered_until: date | None  # the day before 資格喪失, if lost
    employee: bool  # insured by an employees' insurer as the worker (checkup uptake)


@dataclass(slots=True)
class _Month:
    days: set[date] = field(default_factory=set)
    points: int = 0


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _chronic_conditions(rng: random.Random, age: int, male: bool) -> list[str]:
    if age < 30:
        return []
    band = min(age // 10, 7)
    odds = {
        "pressure": (0, 0, 0, 0.03, 0.1, 0.22, 0.38, 0.5)[band],
        "lipids": (0, 0, 0, 0.02, 0.06, 0.14, 0.22, 0.22)[band] * (0.8 if male else 1.2),
        "glucose": (0, 0, 0, 0.01, 0.04, 0.08, 0.12, 0.15)[band] * (1.4 if male else 0.7),
        "stomach": 0.08 if age >= 65 else 0.02,
        "sleep": 0.07 if age >= 65 else 0.015,
        "bowels": 0.08 if age >= 75 else 0.01,
    }
    found = [name for name, p in odds.items() if rng.random() < p]
    return found[:3]  # a clinic rarely starts more than three at once; keeps volumes bounded


def _drug_points(drug: Drug, days: int) -> int:
    # 薬剤料: the day's price in 点 (yen / 10, rounded), times the days.
    return max(1, round(drug.daily * drug.price / 10)) * days


class CareLedger:
    """Visits and dispensings of one person, turned into the insurer's records.

    Each visit bills its procedures at the clinic; a prescription is filled at the
    pharmacy (調剤基本料 45, 服薬管理指導料 45, 薬剤調製料 24 a drug up to 3, and the
    drugs). The months' totals per institution are the 医療費通知; the details of the
    last year are 薬剤情報 and 診療情報.
    """

    def __init__(
        self, *, clinic: Institution, pharmacy: Institution, person: Person, as_of: date
    ) -> None:
        self.clinic, self.pharmacy, self.person = clinic, pharmacy, person
        self.start = max(EXPENSES_FROM, person.covered_from)
        until = person.covered_until
        self.end = min(as_of, until) if until else as_of
        self.detail_from = as_of - timedelta(days=DETAIL_DAYS)
        self.medications: list[tuple[date, Drug, int]] = []
        self.clinical: list[tuple[date, tuple[str, str, int]]] = []
        self.months: dict[tuple[str, str, str, str], _Month] = defaultdict(_Month)

    def visit(
        self,
        day: date,
        procedures: Iterable[tuple[str, str, int]],
        drugs: Iterable[Drug] = (),
        days: int = 0,
        filled: date | None = None,
    ) -> None:
        """A visit to the clinic on ``day``, with ``drugs`` for ``days`` filled on ``filled``."""
        if not self.start <= day <= self.end:
            return
        at_clinic = self.months[(day.strftime("%Y-%m"), self.clinic.code, self.clinic.name,
                                 "医科外来")]  # fmt: skip
        at_clinic.days.add(day)
        for procedure in procedures:
            at_clinic.points += procedure[2]
            if day >= self.detail_from:
                self.clinical.append((day, procedure))
        drugs = list(drugs)
        filled = filled or day
        if not drugs or filled > self.end:
            return
        pharmacy = self.pharmacy
        slot = self.months[(filled.strftime("%Y-%m"), pharmacy.code, pharmacy.name, "調剤")]
        slot.days.add(filled)
        slot.points += 45 + 45 + 24 * min(3, len(drugs))
        for drug in drugs:
            supplied = min(days, drug.max_days)
            slot.points += _drug_points(drug, supplied)
            if filled >= self.detail_from:
                self.medications.append((filled, drug, supplied))

    def dental(self, day: date, dentist: Institution, points: int) -> None:
        """A visit to the dentist (医療費通知 only)."""
        if self.start <= day <= self.end:
            slot = self.months[(day.strftime("%Y-%m"), dentist.code, dentist.name, "歯科")]
            slot.days.add(day)
            slot.points += points

    def records(self) -> list[CareRecord]:
        """薬剤情報 (the latest MEDICATION_CAP), 診療情報 and 医療費通知."""
        out: list[CareRecord] = []
        per_day: dict[date, int] = defaultdict(int)
        for day, drug, supplied in sorted(self.medications, key=lambda m: m[0])[-MEDICATION_CAP:]:
            per_day[day] += 1
            payload = {
                "dispensed_on": day.isoformat(),
                "pharmacy": self.pharmacy.name,
                "pharmacy_code": self.pharmacy.code,
                "prescribed_by": self.clinic.name,
                "drug_name": drug.name,
                "drug_code": drug.code,
                "daily_amount": drug.daily,
                "unit": drug.unit,
                "usage": drug.usage,
                "days": supplied,
            }
            out.append(("medication", f"{day.isoformat()}-{per_day[day]}", payload, day))
        seen: set[tuple[date, str]] = set()
        for day, (name, code, _points) in sorted(self.clinical, key=lambda c: (c[0], c[1][1])):
            if (day, code) in seen:
                continue
            seen.add((day, code))
            payload = {
                "treated_on": day.isoformat(),
                "institution": self.clinic.name,
                "institution_code": self.clinic.code,
                "setting": "外来",
                "procedure_name": name,
                "procedure_code": code,
            }
            out.append(("clinical-record", f"{day.isoformat()}-{code}", payload, day))
        for (month, code, name, kind), slot in sorted(self.months.items()):
            total = slot.points * 10
            payload = {
                "month": month,
                "institution": name,
                "institution_code": code,
                "kind": kind,
                "days": len(slot.days),
                "total_cost": total,
                "paid": counter_share(total, self.person.copay_percent),
            }
            first = date.fromisoformat(f"{month}-01")
            out.append(("medical-expense", f"{month}-{code}-{kind}", payload, first))
        return out


def care_records(person: Person, rng: random.Random, as_of: date) -> list[CareRecord]:
    """The person's 薬剤情報, 診療情報, 医療費通知 and 特定健診 at their insurer."""
    age = _age(person.birth_date, as_of)
    muni, child = person.municipality_code, age < 15
    ledger = CareLedger(
        clinic=clinic_of(muni, person.place, rng.randrange(8), child),
        pharmacy=pharmacy_of(muni, person.place, rng.randrange(6)),
        person=person,
        as_of=as_of,
    )
    start, end = ledger.start, ledger.end
    if end < start:
        return []

    def filled(day: date) -> date:
        return day if rng.random() < 0.9 else day + timedelta(days=1)

    conditions = _chronic_conditions(rng, age, person.male)
    if conditions:
        interval = random_choice(rng, ((28, 0.25), (56, 0.45), (84, 0.3)))
        drugs = [CHRONIC[c] for c in conditions]
        day = start + timedelta(days=rng.randrange(interval))
        count = 0
        while day <= end:
            procedures = [REVISIT, PRESCRIPTION]
            if count % 4 == 0:
                procedures.append(BLOOD_COUNT)
            ledger.visit(day, procedures, drugs, interval, filled(day))
            count += 1
            day += timedelta(days=interval + rng.randrange(-3, 4))
    rate = 2.0 if age < 6 else 1.2 if child else 0.5
    episodes = int(rate * (end - start).days / 365.25 + rng.random())
    table = _CHILD_EPISODES if child else _ADULT_EPISODES
    for _ in range(episodes):
        day = start + timedelta(days=rng.randrange((end - start).days + 1))
        roll, chosen = rng.random(), table[-1]
        for option in table:
            roll -= option[2]
            if roll < 0:
                chosen = option
                break
        given, days, _share = chosen
        first = REVISIT if conditions else FIRST_VISIT
        ledger.visit(day, [first, PRESCRIPTION], given, days, filled(day))
        if rng.random() < 0.3:
            ledger.visit(day + timedelta(days=days + 2), [REVISIT, MANAGEMENT])
    if age >= 3 and rng.random() < 0.35:
        dentist = dentist_of(muni, person.place, rng.randrange(5))
        day = start + timedelta(days=rng.randrange((end - start).days + 1))
        for _ in range(rng.randrange(1, 5)):
            ledger.dental(day, dentist, rng.randrange(250, 1_200))
            day += timedelta(days=rng.randrange(7, 15))
    medicated = frozenset(conditions) & {"pressure", "lipids", "glucose"}
    return ledger.records() + _checkups(person, rng, as_of, end, medicated)


def random_choice(rng: random.Random, options: Iterable[tuple[int, float]]) -> int:
    """One of ``options`` (value, weight)."""
    choices = list(options)
    roll = rng.random() * sum(w for _, w in choices)
    for value, weight in choices:
        roll -= weight
        if roll < 0:
            return value
    return choices[-1][0]


def _fiscal_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _checkups(
    person: Person, rng: random.Random, as_of: date, end: date, medicated: frozenset[str]
) -> list[CareRecord]:
    """特定健診 of the fiscal years 2024 to now, for a person 40–74 who takes them."""
    age = _age(person.birth_date, as_of)
    if not 40 <= age <= 74:
        return []
    uptake = 0.75 if person.employee else 0.4
    if rng.random() >= uptake:
        return []
    male = person.male
    height = rng.gauss(171.0 if male else 158.0, 5.8 if male else 5.3) - 0.15 * (age - 40)
    bmi0 = max(16.0, rng.gauss(24.0 if male else 22.3, 3.3))
    place = _CHECKUP_PLACES[rng.randrange(len(_CHECKUP_PLACES))]
    institution = f"{person.place}{place}"
    out: list[CareRecord] = []
    for year in range(_fiscal_year(as_of) - 2, _fiscal_year(as_of) + 1):
        day = date(year, 5, 1) + timedelta(days=rng.randrange(280))
        if day > end or day < person.covered_from or rng.random() < 0.12:
            continue
        on_day = _age(person.birth_date, day)
        if not 40 <= on_day <= 74:
            continue
        h = round(height, 1)
        bmi_true = bmi0 + rng.gauss(0, 0.4)
        w = round(bmi_true * (h / 100) ** 2, 1)
        bmi = round(w / (h / 100) ** 2, 1)
        waist = round((2.1 * bmi + 36 if male else 2.2 * bmi + 31) + rng.gauss(0, 3), 1)
        systolic = int(112 + 0.5 * (on_day - 40) + 1.2 * (bmi - 22) + rng.gauss(0, 13))
        systolic += 6 if "pressure" in medicated else 0
        # The normal laws have tails a million people reach: kept to what a sheet records.
        systolic = min(250, max(80, systolic))
        diastolic = min(systolic - 15, 140, max(40, int(0.6 * systolic - 2 + rng.gauss(0, 7))))
        hba1c = round(
            (6.9 + rng.gauss(0, 0.6))
            if "glucose" in medicated
            else 5.3 + 0.01 * (on_day - 40) + 0.04 * (bmi - 22) + rng.gauss(0, 0.3),
            1,
        )
        ldl = min(400, max(30, int(rng.gauss(110 if "lipids" in medicated else 122, 28))))
        hdl = int((55 if male else 66) - 1.2 * (bmi - 22) + rng.gauss(0, 12))
        tg = int((120 if male else 90) * (1 + 0.05 * (bmi - 22)) * math.exp(rng.gauss(0, 0.45)))
        measures = Measures(
            male=male,
            age=on_day,
            waist_cm=waist,
            bmi=bmi,
            systolic_bp=systolic,
            diastolic_bp=diastolic,
            hba1c=hba1c,
            triglycerides=max(20, tg),
            hdl_cholesterol=max(20, hdl),
            medicated=medicated,
        )
        judgement, level = checkup_judgement(measures)
        payload = {
            "examined_on": day.isoformat(),
            "institution": institution,
            "height_cm": h,
            "weight_kg": w,
            "bmi": bmi,
            "waist_cm": waist,
            "systolic_bp": systolic,
            "diastolic_bp": diastolic,
            "hba1c": hba1c,
            "ldl_cholesterol": max(30, ldl),
            "hdl_cholesterol": max(20, hdl),
            "triglycerides": max(20, tg),
            "metabolic_judgement": judgement,
            "guidance_level": level,
        }
        out.append(("specific-checkup", str(year), payload, day))
    return out
