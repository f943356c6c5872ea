"""Hand-written agency records of the five personas, stable for tests and the demo.

Each has what a real person of their profile would have in every category of
わたしの情報 that applies to them (tests/unit/agencies/test_personas.py holds the list):

* ``taro`` — 41, employee of みなと電機 since 2008: health insurance of its society,
  employment insurance (一般被保険者) and the employees' pension (第2号被保険者),
  resident tax, and the child allowance for 陽翔 (he is the recipient, 受給者); 千代田区
  keeps 花子's assessed income beside his household (and his beside hers);
* ``hanako`` — his dependant (被扶養者) with a part-time job under 20 hours a week (so no
  employment insurance), not taxable, 第3号被保険者 of the pension, with the pregnancy
  notification and checkups of 2015–2016;
* ``haruto`` — their son, 10: infant checkups, routine vaccinations, insured as a
  dependant; no tax, pension or employment records at his age;
* ``misaki`` — left her job at the end of July 2026: her employment insurance coverage
  ended, she receives its basic allowance (300 days: holders of a certificate are
  就職困難者), National Health Insurance of 横浜市, 第1号被保険者 of the pension since, and
  a mental health and welfare certificate, grade 2;
* ``ichiro`` — 77, in 札幌市: old-age pensions and his pension record, 後期高齢者医療,
  care level 要介護1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from myna.agencies.healthdata import ACUTE as _ACUTE
from myna.agencies.healthdata import CHRONIC as _CHRONIC
from myna.agencies.healthdata import (
    FIRST_VISIT,
    PRESCRIPTION,
    REVISIT,
    CareLedger,
    Measures,
    Person,
    checkup_judgement,
    clinic_of,
    pharmacy_of,
)
from myna.agencies.synthetic import (
    ASSESSMENT_YEAR,
    REFERENCE_DATE,
    SOURCES,
    GeneratedRecord,
    RecordDraft,
    ResidentFacts,
    age_on,
    assess_resident_tax,
    insurer_check_digit,
    salary_income,
    vaccination_schedule,
    vaccine_lot,
)


def _record(agency: str, item: str, key: str, since: date, /, **payload: Any) -> GeneratedRecord:
    values = {k: v.isoformat() if isinstance(v, date) else v for k, v in payload.items()}
    return agency, RecordDraft(item, key, values, SOURCES[item], since)


def _household(
    facts: ResidentFacts, since: date, members: list[tuple[str, date]]
) -> GeneratedRecord:
    payload: dict[str, Any] = {
        "is_head": facts.relation.value == "世帯主",
        "relation_to_head": facts.relation.value,
        "member_count": len(members),
        "member_relations": [relation for relation, _ in members],
        "member_birth_dates": [born.isoformat() for _, born in members],
        "since": since,
    }
    if facts.address:
        payload["address"] = facts.address
    return _record(f"muni-{facts.municipality_code}", "household", "", since, **payload)


def _tax(
    municipality: str,
    *,
    social_insurance: int,
    salary: int = 0,
    pension: int = 0,
    spouse_deduction: bool = False,
) -> GeneratedRecord:
    # The personas have no business income and no dependants besides a spouse.
    tax = assess_resident_tax(
        salary=salary,
        business_income=0,
        pension=pension,
        dependants=0,
        spouse_deduction=spouse_deduction,
        social_insurance=social_insurance,
    )
    return _record(
        f"muni-{municipality}",
        "resident-tax",
        str(ASSESSMENT_YEAR),
        date(ASSESSMENT_YEAR, 6, 1),
        **tax.payload(),
    )


_CHIYODA = "131016"


@dataclass(frozen=True, slots=True)
class _Insured:
    """Who a coverage record is about and their 記号・番号・枝番."""

    name: str
    kana: str
    birth: date
    sex: int
    symbol: str
    number: str
    branch: str = "00"


_TARO = _Insured("山田 太郎", "ヤマダ タロウ", date(1985, 4, 12), 1, "12", "4086")
_HANAKO = _Insured("山田 花子", "ヤマダ ハナコ", date(1987, 9, 3), 2, "12", "4086", "01")
_HARUTO = _Insured("山田 陽翔", "ヤマダ ハルト", date(2016, 6, 20), 1, "12", "4086", "02")
_MISAKI = _Insured("佐藤 美咲", "サトウ ミサキ", date(1992, 1, 30), 2, "横浜07", "3184527")
_ICHIRO = _Insured("鈴木 一郎", "スズキ イチロウ", date(1948, 11, 3), 1, "", "01734682")
_YAMADA = [("世帯主", _TARO.birth), ("妻", _HANAKO.birth), ("子", _HARUTO.birth)]
# 2025's salaries (給与の収入金額) of the Yamadas, as their resident tax was assessed on.
_TARO_SALARY = 6_200_000
_HANAKO_SALARY = 900_000


def _household_income(position: int, salary: int) -> GeneratedRecord:
    """What 千代田区 assessed for another member of the household (合計所得金額 of 2025)."""
    relation, born = _YAMADA[position - 1]
    return _record(
        f"muni-{_CHIYODA}",
        "household-income",
        f"{ASSESSMENT_YEAR - 1}-{position}",
        date(ASSESSMENT_YEAR, 6, 1),
        income_year=ASSESSMENT_YEAR - 1,
        relation_to_head=relation,
        birth_date=born,
        total_income=salary_income(salary),
    )


def _health_insurance(
    agency: str,
    insurer: tuple[str, str],
    since: date,
    insured_type: str,
    copay: tuple[int, str],
    who: _Insured,
    valid_until: date | None = None,
) -> GeneratedRecord:
    """A health insurance record; ``insurer`` is its name and number without check digit,
    ``copay`` the percentage and the high-cost ceiling category (限度額区分)."""
    name, number = insurer
    copay_percent, limit_category = copay
    payload: dict[str, Any] = {
        "name": who.name,
        "name_kana": who.kana,
        "birth_date": who.birth,
        "sex": who.sex,
        "insurer_name": name,
        "insurer_number": number + insurer_check_digit(number),
        "insured_number": who.number,
        "insured_branch": who.branch,
        "insured_type": insured_type,
        "acquired_on": since,
        "copay_percent": copay_percent,
        "limit_category": limit_category,
    }
    if who.symbol:
        payload["insured_symbol"] = who.symbol
    if valid_until is not None:
        payload["valid_until"] = valid_until
    return _record(agency, "health-insurance", "", since, **payload)


def _minato(since: date, insured_type: str, who: _Insured) -> GeneratedRecord:
    insurer = ("みなと電機健康保険組合", "0613512")
    return _health_insurance("kenpo-minato-denki", insurer, since, insured_type, (30, "イ"), who)


def _care(agency: str, ledger: CareLedger) -> list[GeneratedRecord]:
    return [
        (agency, RecordDraft(item, key, payload, SOURCES[item], since))
        for item, key, payload, since in ledger.records()
    ]


def _ledger(who: _Insured, since: date, copay: int, *, child: bool = False) -> CareLedger:
    person = Person(
        birth_date=who.birth,
        male=who.sex == 1,
        municipality_code=_CHIYODA,
        place="千代田区",
        copay_percent=copay,
        covered_from=since,
        covered_until=None,
        employee=who.branch == "00",
    )
    return CareLedger(
        clinic=clinic_of(_CHIYODA, "千代田区", 0, child),
        pharmacy=pharmacy_of(_CHIYODA, "千代田区", 1),
        person=person,
        as_of=REFERENCE_DATE,
    )


def _taro_care() -> list[GeneratedRecord]:
    """特定健診 from his 40th year (FY2025): high blood pressure found in May 2025, treated
    since June with アムロジピン at the clinic near work, every 8 weeks after the first month."""
    ledger = _ledger(_TARO, date(2008, 4, 1), 30)
    amlodipine = [_CHRONIC["pressure"]]
    ledger.visit(date(2025, 6, 10), [FIRST_VISIT, PRESCRIPTION], amlodipine, 28)
    day = date(2025, 7, 8)
    while day <= REFERENCE_DATE:
        ledger.visit(day, [REVISIT, PRESCRIPTION], amlodipine, 56)
        day += timedelta(days=56)
    records = _care("kenpo-minato-denki", ledger)
    checkups = (
        # year, day, height, weight, waist, BP, HbA1c, LDL, HDL, TG, on medication
        (2025, date(2025, 5, 20), 172.4, 74.8, 87.5, (142, 92), 5.5, 128, 48, 162, False),
        (2026, date(2026, 5, 19), 172.3, 73.6, 86.0, (128, 82), 5.6, 124, 50, 141, True),
    )
    for year, day, height, weight, waist, (high, low), hba1c, ldl, hdl, tg, treated in checkups:
        bmi = round(weight / (height / 100) ** 2, 1)
        judgement, level = checkup_judgement(
            Measures(
                male=True,
                age=age_on(_TARO.birth, day),
                waist_cm=waist,
                bmi=bmi,
                systolic_bp=high,
                diastolic_bp=low,
                hba1c=hba1c,
                triglycerides=tg,
                hdl_cholesterol=hdl,
                medicated=frozenset({"pressure"}) if treated else frozenset(),
            )
        )
        records.append(
            _record(
                "kenpo-minato-denki",
                "specific-checkup",
                str(year),
                day,
                examined_on=day,
                institution="みなと電機健康保険組合 健診センター",
                height_cm=height,
                weight_kg=weight,
                bmi=bmi,
                waist_cm=waist,
                systolic_bp=high,
                diastolic_bp=low,
                hba1c=hba1c,
                ldl_cholesterol=ldl,
                hdl_cholesterol=hdl,
                triglycerides=tg,
                metabolic_judgement=judgement,
                guidance_level=level,
            )
        )
    return records


def _haruto_care() -> list[GeneratedRecord]:
    """A cold in February 2026 at the children's clinic: cough syrup and a fever powder."""
    ledger = _ledger(_HARUTO, date(2016, 6, 20), 30, child=True)
    cold = [_ACUTE["carbocisteine-ds"], _ACUTE["acetaminophen"]]
    ledger.visit(date(2026, 2, 9), [FIRST_VISIT, PRESCRIPTION], cold, 5)
    return _care("kenpo-minato-denki", ledger)


def _employment_coverage(
    number: str, employer: str, since: date, lost: date | None = None
) -> GeneratedRecord:
    payload: dict[str, Any] = {
        "insured_number": number,
        "employer_name": employer,
        "insured_type": "一般被保険者",
        "acquired_on": since,
    }
    if lost is not None:
        payload["lost_on"] = lost
    return _record(
        "hellowork", "employment-insurance-qualification", since.isoformat(), since, **payload
    )


def _pension_record(
    category: str, since: date, months: int, employees_months: int = 0
) -> GeneratedRecord:
    """The pension record; ``since`` is when the current coverage began (for 加入なし,
    when the record began: the 20th birthday)."""
    payload: dict[str, Any] = {"insured_category": category, "insured_months": months}
    if category != "加入なし":
        payload["acquired_on"] = since
    if employees_months:
        payload["employees_months"] = employees_months
    return _record("jps", "pension-record", "", since, **payload)


def _taro_return_2024() -> GeneratedRecord:
    """令和6年分: 太郎 filed through e-Tax for his family's medical expenses.

    Salary 6,000,000 → 給与所得 6,000,000 × 80 % − 440,000 = 4,360,000. Deductions:
    social insurance 870,000, life insurance 40,000, earthquake 30,000, 配偶者控除 380,000
    (花子's 給与所得 350,000 ≤ 48万円), 基礎控除 480,000, 医療費控除 180,000 − 100,000 =
    80,000: 1,880,000. Taxable 2,480,000 → 所得税 248,000 − 97,500 = 150,500, less the
    定額減税 of 令和6年 (30,000 each for him, 花子 and 陽翔) = 60,500; 復興特別所得税 60,500 ×
    2.1 % = 1,270: 61,770. Withheld at the 年末調整 (without the medical expenses: taxable
    2,560,000 → 158,500 − 90,000 = 68,500, × 1.021 = 69,938 → 69,900): refund 8,130.
    """
    return _record(
        "nta",
        "income-tax-return",
        "2024",
        date(2025, 2, 17),
        income_year=2024,
        office_name="神田税務署",
        receipt_number="20250217101530482913",
        filed_on=date(2025, 2, 17),
        total_income=4_360_000,
        taxable_income=2_480_000,
        total_tax=61_770,
        withheld=69_900,
        due=0,
        refund=8_130,
    )


def _taro(facts: ResidentFacts) -> list[GeneratedRecord]:
    # 20 on 2005-04-12: a student paying under 学生納付特例 until he started work in 2008.
    hired = date(2008, 4, 1)
    return [
        _household(facts, date(2014, 4, 1), _YAMADA),
        _tax(_CHIYODA, salary=_TARO_SALARY, social_insurance=899_000, spouse_deduction=True),
        _household_income(2, _HANAKO_SALARY),
        _taro_return_2024(),
        _minato(hired, "被保険者", _TARO),
        *_taro_care(),
        _employment_coverage("5012-148306-2", "みなと電機株式会社", hired),
        _pension_record("第2号被保険者", hired, 257, employees_months=222),
        _record(
            f"muni-{_CHIYODA}",
            "child-allowance",
            "child-1",
            date(2016, 7, 1),
            category="3歳以上高校生年代まで",
            child_order=1,
            child_birth_date=date(2016, 6, 20),
            started_on=date(2016, 7, 1),
            monthly_amount=10_000,
        ),
    ]


def _hanako(facts: ResidentFacts) -> list[GeneratedRecord]:
    conception = date(2015, 10, 2)
    notified = date(2015, 11, 16)
    records = [
        _household(facts, date(2015, 6, 20), _YAMADA),
        _tax(_CHIYODA, salary=_HANAKO_SALARY, social_insurance=0),
        _household_income(1, _TARO_SALARY),
        _minato(date(2015, 6, 20), "被扶養者", _HANAKO),
        # 20 on 2007-09-03; an employee from April 2010 until she married in June 2015,
        # 第3号 since, as taro's dependant.
        _pension_record("第3号被保険者", date(2015, 6, 20), 228, employees_months=62),
        _record(
            f"muni-{_CHIYODA}",
            "pregnancy-notification",
            "2016-06-24",
            notified,
            notified_on=notified,
            expected_delivery=date(2016, 6, 24),
            handbook_issued_on=notified,
        ),
    ]
    weeks = (12, 16, 20, 24, 26, 28, 30, 32, 34, 35, 36, 37, 38)
    for visit, week in enumerate(weeks, start=1):
        day = conception + timedelta(days=(week - 2) * 7)
        records.append(
            _record(
                f"muni-{_CHIYODA}",
                "pregnancy-checkup",
                f"2016-06-24-{visit:02d}",
                day,
                visit=visit,
                weeks=week,
                examined_on=day,
                result="要経過観察" if week == 28 else "異常なし",
            )
        )
    return records


def _haruto(facts: ResidentFacts) -> list[GeneratedRecord]:
    birth = date(2016, 6, 20)
    records = [
        _household(facts, birth, _YAMADA),
        _minato(birth, "被扶養者", _HARUTO),
        *_haruto_care(),
    ]
    checkups = (
        ("3〜4か月児", 3, date(2016, 10, 14), "異常なし"),
        ("9〜10か月児", 9, date(2017, 4, 7), "異常なし"),
        ("1歳6か月児", 18, date(2018, 1, 12), "要経過観察"),
        ("3歳児", 36, date(2019, 7, 5), "異常なし"),
    )
    for name, months, day, result in checkups:
        records.append(
            _record(
                f"muni-{_CHIYODA}",
                "infant-checkup",
                name,
                day,
                checkup=name,
                age_months=months,
                examined_on=day,
                result=result,
            )
        )
    for vaccine, dose, days in vaccination_schedule(facts.as_member()):
        day = birth + timedelta(days=days + 7)
        records.append(
            _record(
                f"muni-{_CHIYODA}",
                "vaccination",
                f"{vaccine}-{dose}",
                day,
                vaccine=vaccine,
                dose=dose,
                vaccinated_on=day,
                municipality="東京都千代田区",
                lot=vaccine_lot(vaccine, dose, day, "東京都千代田区"),
            )
        )
    return records


def _misaki(facts: ResidentFacts) -> list[GeneratedRecord]:
    yokohama = "141003"
    kokuho = ("神奈川県横浜市 国民健康保険", yokohama[:5])
    return [
        _household(facts, date(2018, 4, 1), [("世帯主", _MISAKI.birth)]),
        _tax(yokohama, salary=3_800_000, social_insurance=551_000),
        _health_insurance(
            f"kokuho-{yokohama}", kokuho, date(2026, 8, 1), "被保険者", (30, "ウ"), _MISAKI
        ),
        # Worked from April 2014 to 31 July 2026: the coverage ends the next day.
        _employment_coverage(
            "1407-523816-4", "株式会社ひかりシステム", date(2014, 4, 1), date(2026, 8, 1)
        ),
        _pension_record("第1号被保険者", date(2026, 8, 1), 176, employees_months=148),
        _record(
            f"muni-{yokohama}",
            "disability-mental",
            "",
            date(2025, 4, 15),
            certificate_number="第214735号",
            grade="2級",
            issued_on=date(2025, 4, 15),
            valid_until=date(2027, 4, 14),
        ),
        _record(
            "hellowork",
            "employment-insurance",
            "",
            date(2026, 8, 20),
            qualified_on=date(2026, 8, 20),
            benefit_days=300,
            daily_amount=5_680,
            remaining_days=265,
        ),
    ]


def _pension(pension_type: str, annual_amount: int, started: date) -> GeneratedRecord:
    return _record(
        "jps",
        "public-pension",
        pension_type,
        started,
        pension_type=pension_type,
        annual_amount=annual_amount,
        started_on=started,
    )


def _ichiro(facts: ResidentFacts) -> list[GeneratedRecord]:
    sapporo = "011002"
    koki = ("北海道後期高齢者医療広域連合", "3901001")
    started = date(2013, 11, 2)
    return [
        _household(facts, date(1975, 4, 1), [("世帯主", _ICHIRO.birth)]),
        _tax(sapporo, pension=2_100_000, social_insurance=150_000),
        _health_insurance(
            "koki-01",
            koki,
            date(2023, 11, 3),
            "被保険者",
            (10, "一般"),
            _ICHIRO,
            valid_until=date(2027, 7, 31),
        ),
        _pension("老齢基礎年金", 780_000, started),
        _pension("老齢厚生年金", 1_320_000, started),
        # 20 in 1968; 450 of the 480 months counted (the rest before he joined in 1971).
        _pension_record("加入なし", date(1968, 11, 3), 450, employees_months=462),
        _record(
            f"muni-{sapporo}",
            "long-term-care",
            "",
            date(2026, 4, 1),
            insured_number="0110028814",
            care_level="要介護1",
            certified_from=date(2026, 4, 1),
            certified_until=date(2028, 3, 31),
            copay_percent=10,
        ),
    ]


_PERSONAS = {
    "taro": _taro,
    "hanako": _hanako,
    "haruto": _haruto,
    "misaki": _misaki,
    "ichiro": _ichiro,
}


def persona_records(facts: ResidentFacts) -> list[GeneratedRecord] | None:
    """The hand-written records of ``facts.persona``, or None for another name."""
    build = _PERSONAS.get(facts.persona or "")
    return None if build is None else build(facts)
