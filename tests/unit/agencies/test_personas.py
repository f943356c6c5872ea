"""The personas' records: every category of わたしの情報 that applies to them is filled."""

from __future__ import annotations

from datetime import date

import pytest

from myna.agencies import (
    REFERENCE_DATE,
    GeneratedRecord,
    ResidentFacts,
    generate_records,
    load_catalog,
    validate_payload,
)
from myna.agencies.synthetic import age_on
from myna.medical.records import CheckupRecord, CoverageRecord, MedicationRecord
from myna.registry import Relation, Sex

PEOPLE = {
    "taro": (date(1985, 4, 12), Sex.MALE, "131016", Relation.HEAD),
    "hanako": (date(1987, 9, 3), Sex.FEMALE, "131016", Relation.WIFE),
    "haruto": (date(2016, 6, 20), Sex.MALE, "131016", Relation.CHILD),
    "misaki": (date(1992, 1, 30), Sex.FEMALE, "141003", Relation.HEAD),
    "ichiro": (date(1948, 11, 3), Sex.MALE, "011002", Relation.HEAD),
}

# Categories that apply to each persona's profile, and why. 世帯 and 健康・医療 apply to
# everyone (a household; health insurance or 医療扶助), 地方税 to every adult, 雇用・年金
# to everyone from 20 (the pension record) and to every employee.
APPLICABLE = {
    # employee, father and recipient of the child allowance; filed 令和6年分 (medical expenses)
    "taro": {"household", "local-tax", "health", "child", "employment", "national-tax"},
    # dependant wife, 妊娠届 of 2015, 第3号被保険者
    "hanako": {"household", "local-tax", "health", "child", "employment"},
    # a 10-year-old: no tax, no pension, nothing of 子育て held about the child himself
    "haruto": {"household", "health"},
    # unemployed with a certificate
    "misaki": {"household", "local-tax", "health", "welfare", "employment"},
    # pensioner with a care level
    "ichiro": {"household", "local-tax", "health", "welfare", "employment"},
}


def _facts(key: str) -> ResidentFacts:
    birth, sex, code, relation = PEOPLE[key]
    number = list(PEOPLE).index(key) + 1
    return ResidentFacts(number, birth, sex, code, relation, persona=key)


def _records(key: str) -> list[GeneratedRecord]:
    return generate_records(resident=_facts(key), seed=0)


@pytest.mark.parametrize("key", list(PEOPLE))
def test_every_applicable_category_has_a_record_with_valid_values(key: str) -> None:
    catalog = load_catalog()
    categories: set[str] = set()
    for agency, draft in _records(key):
        schema = catalog.item(draft.item_code)
        assert validate_payload(schema, draft.payload) == draft.payload, draft.item_code
        assert catalog.provides(agency, draft.item_code), (agency, draft.item_code)
        categories.add(schema.category)
    assert categories == APPLICABLE[key]


@pytest.mark.parametrize("key", list(PEOPLE))
def test_everyone_from_20_has_a_pension_record(key: str) -> None:
    items = {draft.item_code for _, draft in _records(key)}
    adult = age_on(PEOPLE[key][0], REFERENCE_DATE) >= 20
    assert ("pension-record" in items) is adult


def test_an_employee_is_insured_against_unemployment_and_in_the_employees_pension() -> None:
    records = {draft.item_code: draft.payload for _, draft in _records("taro")}
    coverage = records["employment-insurance-qualification"]
    assert coverage["insured_type"] == "一般被保険者" and "lost_on" not in coverage
    assert coverage["employer_name"] == "みなと電機株式会社"
    assert records["pension-record"]["insured_category"] == "第2号被保険者"
    # The same start as his health insurance with the company's society.
    assert coverage["acquired_on"] == records["health-insurance"]["acquired_on"] == "2008-04-01"


def test_a_dependant_spouse_is_third_category_and_a_job_leaver_first() -> None:
    hanako = {d.item_code: d.payload for _, d in _records("hanako")}
    assert hanako["pension-record"]["insured_category"] == "第3号被保険者"
    assert "employment-insurance-qualification" not in hanako  # under 20 hours a week
    misaki = {d.item_code: d.payload for _, d in _records("misaki")}
    assert misaki["pension-record"]["insured_category"] == "第1号被保険者"
    coverage = misaki["employment-insurance-qualification"]
    # Coverage ended the day her National Health Insurance and 第1号 began.
    assert coverage["lost_on"] == misaki["health-insurance"]["acquired_on"] == "2026-08-01"
    assert misaki["pension-record"]["acquired_on"] == "2026-08-01"
    assert coverage["lost_on"] < misaki["employment-insurance"]["qualified_on"]


def test_the_personas_coverage_medicines_and_checkups_read_as_medical_reads_them() -> None:
    def coverage(key: str) -> CoverageRecord:
        found = [d.payload for _, d in _records(key) if d.item_code == "health-insurance"]
        return CoverageRecord.from_payload(found[0])

    taro, hanako, haruto = coverage("taro"), coverage("hanako"), coverage("haruto")
    assert (taro.branch, hanako.branch, haruto.branch) == ("00", "01", "02")
    assert {(c.symbol, c.number) for c in (taro, hanako, haruto)} == {("12", "4086")}
    assert haruto.name == "山田 陽翔" and haruto.insured_type == "被扶養者"
    ichiro = coverage("ichiro")
    assert ichiro.symbol == "" and ichiro.valid_until == date(2027, 7, 31)
    records = _records("taro")
    checkups = [CheckupRecord.from_payload(d.payload) for _, d in records
                if d.item_code == "specific-checkup"]  # fmt: skip
    assert [c.metabolic_judgement for c in checkups] == ["基準該当", "予備群該当"]
    assert [c.guidance_level for c in checkups] == ["積極的支援", "なし"]  # treated since
    medicines = [MedicationRecord.from_payload(d.payload) for _, d in records
                 if d.item_code == "medication"]  # fmt: skip
    assert len(medicines) >= 6 and {m.drug_name for m in medicines} == {"ノルバスク錠5mg"}
    assert any(d.item_code == "medication" for _, d in _records("haruto"))


def test_the_yamadas_household_gives_birth_dates_and_the_spouses_assessed_income() -> None:
    """千代田区 assessed 花子 on 900,000 of salary: 900,000 − 650,000 = 250,000 (and 太郎 on
    6,200,000: 6,200,000 × 80 % − 440,000 = 4,520,000)."""
    records = {draft.item_code: draft.payload for _, draft in _records("taro")}
    assert records["household"]["member_birth_dates"] == [
        "1985-04-12",
        "1987-09-03",
        "2016-06-20",
    ]
    assert records["household-income"] == {
        "income_year": 2025,
        "relation_to_head": "妻",
        "birth_date": "1987-09-03",
        "total_income": 250_000,
    }
    hanako = {draft.item_code: draft.payload for _, draft in _records("hanako")}
    assert (
        hanako["household-income"]["relation_to_head"],
        hanako["household-income"]["total_income"],
    ) == (
        "世帯主",
        4_520_000,
    )
    assert "household-income" not in {draft.item_code for _, draft in _records("haruto")}
