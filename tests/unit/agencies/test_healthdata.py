"""Insurers' health data: coverage with 記号・番号・枝番, medicines, checkups, treatments and
expenses, consistent with age, household and the coverage, and readable by medical."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest

from myna.agencies import REFERENCE_DATE, GeneratedRecord, ResidentFacts, generate_records
from myna.agencies.healthdata import Measures, checkup_judgement, counter_share, table_code
from myna.agencies.synthetic import age_on, koki_valid_until
from myna.medical.domain import InstitutionCode, InsuredId, InsurerNumber, ScoreTable
from myna.medical.records import (
    CheckupRecord,
    ClinicalRecord,
    CoverageRecord,
    ExpenseRecord,
    MedicationRecord,
)
from tests.unit.agencies.population import population_facts

CARE_ITEMS = ("medication", "specific-checkup", "clinical-record", "medical-expense")


@pytest.fixture(scope="module")
def people() -> list[ResidentFacts]:
    return population_facts(600, seed=5)


@pytest.fixture(scope="module")
def records(people: list[ResidentFacts]) -> dict[int, list[GeneratedRecord]]:
    return {f.resident_id: generate_records(resident=f, seed=8) for f in people}


def _of(records: list[GeneratedRecord], item: str) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    return [(agency, d.payload) for agency, d in records if d.item_code == item]


def test_every_coverage_reads_as_medical_reads_it_with_valid_numbers(
    people: list[ResidentFacts], records: dict[int, list[GeneratedRecord]]
) -> None:
    for facts in people:
        for _agency, payload in _of(records[facts.resident_id], "health-insurance"):
            coverage = CoverageRecord.from_payload(payload)
            assert coverage.name == facts.name and coverage.birth_date == facts.birth_date
            assert coverage.sex == int(facts.sex)
            insurer = InsurerNumber.parse(coverage.insurer_number)
            InsuredId(insurer, coverage.symbol, coverage.number, coverage.branch)
            late = insurer.law is not None and insurer.law.value == "39"
            assert (coverage.symbol == "") is late
            assert (coverage.valid_until is not None) is late
            if late:
                assert coverage.valid_until == koki_valid_until(REFERENCE_DATE)
                assert len(coverage.number) == 8


def test_dependants_share_the_earners_symbol_and_number_with_their_own_branch(
    people: list[ResidentFacts], records: dict[int, list[GeneratedRecord]]
) -> None:
    by_household: dict[int, list[tuple[str, CoverageRecord]]] = defaultdict(list)
    for facts in people:
        for agency, payload in _of(records[facts.resident_id], "health-insurance"):
            by_household[facts.household_id].append((agency, CoverageRecord.from_payload(payload)))
    dependants = 0
    seen: set[tuple[str, str, str, str]] = set()
    for members in by_household.values():
        for agency, coverage in members:
            ident = (agency, coverage.symbol, coverage.number, coverage.branch)
            assert ident not in seen  # no two people share a 記号・番号・枝番
            seen.add(ident)
            if coverage.insured_type == "被扶養者":
                dependants += 1
                assert coverage.branch != "00"
                assert any(
                    a == agency
                    and c.insured_type == "被保険者"
                    and c.branch == "00"
                    and (c.symbol, c.number) == (coverage.symbol, coverage.number)
                    for a, c in members
                )
    assert dependants > 40


def test_a_few_job_leavers_lost_their_coverage_recently(
    people: list[ResidentFacts],
) -> None:
    many = population_facts(3_000, seed=5)
    lost = [
        CoverageRecord.from_payload(p)
        for f in many
        for _, p in _of(generate_records(resident=f, seed=8), "health-insurance")
        if "lost_on" in p
    ]
    working = [f for f in many if 20 <= age_on(f.birth_date, REFERENCE_DATE) < 65]
    assert 0.002 < len(lost) / len(working) < 0.02
    for coverage in lost:
        assert coverage.lost_on is not None
        assert coverage.acquired_on < coverage.lost_on < REFERENCE_DATE
        assert not coverage.valid_on(REFERENCE_DATE)


def test_the_care_records_read_as_medical_reads_them_with_valid_codes(
    records: dict[int, list[GeneratedRecord]],
) -> None:
    counts: dict[str, int] = defaultdict(int)
    for person in records.values():
        insurers = {a for a, d in person if d.item_code == "health-insurance"}
        for agency, draft in person:
            if draft.item_code not in CARE_ITEMS:
                continue
            counts[draft.item_code] += 1
            assert {agency} == insurers  # held by the person's own insurer
            payload = draft.payload
            if draft.item_code == "medication":
                medicine = MedicationRecord.from_payload(payload)
                code = InstitutionCode.parse(medicine.pharmacy_code)
                assert code.table is ScoreTable.PHARMACY
                assert len(medicine.drug_code) == 12
                assert 1 <= medicine.days <= 90
            elif draft.item_code == "clinical-record":
                treatment = ClinicalRecord.from_payload(payload)
                assert InstitutionCode.parse(treatment.institution_code).table is ScoreTable.MEDICAL
                assert len(treatment.procedure_code) == 9 and treatment.procedure_code.isdigit()
            elif draft.item_code == "medical-expense":
                expense = ExpenseRecord.from_payload(payload)
                InstitutionCode.parse(expense.institution_code)
            else:
                CheckupRecord.from_payload(payload)
    assert all(counts[item] > 50 for item in CARE_ITEMS), counts


def test_medicines_are_capped_and_prescribed_where_the_person_was_treated(
    records: dict[int, list[GeneratedRecord]],
) -> None:
    for person in records.values():
        medicines = _of(person, "medication")
        assert len(medicines) <= 40
        clinics = {p["institution"] for _, p in _of(person, "clinical-record")}
        for _, payload in medicines:
            assert payload["prescribed_by"] in clinics or not clinics
        keys = [d.key for _, d in person if d.item_code in CARE_ITEMS]
        assert len(keys) == len(set(keys))


def test_only_those_40_to_74_have_checkups_whose_bmi_is_their_weight_over_height_squared(
    people: list[ResidentFacts], records: dict[int, list[GeneratedRecord]]
) -> None:
    checked = 0
    for facts in people:
        for _, payload in _of(records[facts.resident_id], "specific-checkup"):
            checked += 1
            assert 40 <= age_on(facts.birth_date, REFERENCE_DATE) <= 74
            examined = date.fromisoformat(payload["examined_on"])
            assert 40 <= age_on(facts.birth_date, examined) <= 74
            bmi = payload["weight_kg"] / (payload["height_cm"] / 100) ** 2
            assert payload["bmi"] == round(bmi, 1)
    assert checked > 30


def test_the_counter_share_is_the_persons_copay_of_the_total_rounded_to_ten_yen(
    records: dict[int, list[GeneratedRecord]],
) -> None:
    years: set[str] = set()
    for person in records.values():
        coverage = _of(person, "health-insurance")
        for _, payload in _of(person, "medical-expense"):
            percent = coverage[0][1]["copay_percent"]
            assert payload["paid"] == counter_share(payload["total_cost"], percent)
            assert payload["paid"] % 10 == 0
            assert payload["month"] <= REFERENCE_DATE.strftime("%Y-%m")
            years.add(payload["month"][:4])
    assert {"2025", "2026"} <= years


def test_people_without_insurance_have_no_care_records(
    records: dict[int, list[GeneratedRecord]],
) -> None:
    for person in records.values():
        items = {d.item_code for _, d in person}
        if "health-insurance" not in items:
            assert not items & set(CARE_ITEMS)


def test_the_history_is_deterministic(people: list[ResidentFacts]) -> None:
    for facts in people[:100]:
        assert generate_records(resident=facts, seed=8) == generate_records(resident=facts, seed=8)


# -- the rules -----------------------------------------------------------------------------


def _measures(**changes: object) -> Measures:
    base: dict[str, object] = {
        "male": True, "age": 50, "waist_cm": 80.0, "bmi": 22.0, "systolic_bp": 120,
        "diastolic_bp": 75, "hba1c": 5.3, "triglycerides": 100, "hdl_cholesterol": 60,
    }  # fmt: skip
    return Measures(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ("非該当", "なし")),
        ({"waist_cm": 85.0}, ("非該当", "なし")),
        ({"waist_cm": 85.0, "systolic_bp": 130}, ("予備群該当", "動機付け支援")),
        ({"waist_cm": 85.0, "diastolic_bp": 85, "triglycerides": 150}, ("基準該当", "積極的支援")),
        ({"waist_cm": 85.0, "hdl_cholesterol": 39, "hba1c": 5.6}, ("予備群該当", "積極的支援")),
        ({"waist_cm": 85.0, "hba1c": 6.0, "systolic_bp": 140}, ("基準該当", "積極的支援")),
        ({"male": False, "waist_cm": 89.9, "systolic_bp": 140}, ("非該当", "なし")),
        ({"male": False, "waist_cm": 90.0, "systolic_bp": 140}, ("予備群該当", "動機付け支援")),
        # BMI 25 without the waist: guidance only, 3 risks for 積極的支援
        ({"bmi": 25.0, "systolic_bp": 140, "hba1c": 5.6}, ("非該当", "動機付け支援")),
        ({"bmi": 25.0, "systolic_bp": 140, "hba1c": 5.6, "triglycerides": 200},
         ("非該当", "積極的支援")),
        # from 65, 積極的支援 becomes 動機付け支援; the treated get no guidance
        ({"age": 65, "waist_cm": 90.0, "systolic_bp": 140, "triglycerides": 200},
         ("基準該当", "動機付け支援")),
        ({"waist_cm": 90.0, "medicated": frozenset({"pressure"}), "triglycerides": 200},
         ("基準該当", "なし")),
        ({"waist_cm": None}, ("判定不能", "判定不能")),
    ],
)  # fmt: skip
def test_the_checkup_judgement_follows_the_programme(
    changes: dict[str, object], expected: tuple[str, str]
) -> None:
    assert checkup_judgement(_measures(**changes)) == expected


def test_institution_codes_and_the_counter_share() -> None:
    code = table_code("13", "4", "01", "2345")
    assert InstitutionCode.parse(code).table is ScoreTable.PHARMACY
    assert counter_share(12_340, 30) == 3_700
    assert counter_share(12_350, 30) == 3_710  # 3,705 rounds up
    assert counter_share(1_870, 10) == 190
    assert koki_valid_until(date(2026, 10, 1)) == date(2027, 7, 31)
    assert koki_valid_until(date(2026, 7, 31)) == date(2026, 7, 31)


def test_public_servants_are_insured_by_the_mutual_aid_association_without_employment_insurance(
    people: list[ResidentFacts], records: dict[int, list[GeneratedRecord]]
) -> None:
    members = 0
    for facts in people:
        held = records[facts.resident_id]
        for agency, payload in _of(held, "health-insurance"):
            if agency != "kyosai-chiho":
                continue
            members += 1
            insurer = InsurerNumber.parse(payload["insurer_number"])
            assert insurer.law is not None and insurer.law.value == "32"
            assert payload["insurer_name"].startswith("地方職員共済組合")
            if payload["insured_type"] == "被保険者":
                assert _of(held, "employment-insurance-qualification") == []
    assert members > 0
