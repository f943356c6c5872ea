"""FHIR R4 (JP Core) resources built from what insurers hold, validated with fhir.resources."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure

from myna.medical import (
    InstitutionCode,
    InsuranceNumberError,
    InsurerNumber,
    LawNumber,
    ScoreTable,
    fhir,
)
from myna.medical.records import (
    DEPENDANT,
    INSURED,
    CheckupRecord,
    ClinicalRecord,
    CoverageRecord,
    ExpenseRecord,
    MedicationRecord,
)

SEED = "test-seed"
JST = timezone(timedelta(hours=9))
SOCIETY = InsurerNumber.build(prefecture="13", serial="001", law=LawNumber.SOCIETY)
NATIONAL = InsurerNumber.build(prefecture="13", serial="101")  # 国民健康保険, 6 digits
LATE_ELDERLY = InsurerNumber.build(prefecture="13", serial="101", law=LawNumber.LATE_ELDERLY)
PHARMACY = InstitutionCode.build(
    prefecture="13", table=ScoreTable.PHARMACY, district="01", number="2345"
)
CLINIC = InstitutionCode.build(
    prefecture="27", table=ScoreTable.MEDICAL, district="10", number="0042"
)
MEMBER_ID = re.compile(r"[0-9]{8}:[^:\s\u3000]*:[^:\s\u3000]*:[0-9]{2}")

INSURED_COVERAGE = CoverageRecord(
    name="山田　太郎",
    name_kana="ヤマダ　タロウ",
    birth_date=date(1970, 1, 1),
    sex=1,
    insurer_number=SOCIETY.value,
    insurer_name="ひまわり健康保険組合",
    symbol="あいう",
    number="187",
    branch="00",
    insured_type=INSURED,
    acquired_on=date(2020, 4, 1),
    lost_on=None,
    valid_until=None,
    copay_percent=30,
    limit_category="ウ",
)
DEPENDANT_COVERAGE = replace(
    INSURED_COVERAGE,
    name="山田　花子",
    name_kana="ヤマダ　ハナコ",
    birth_date=date(1972, 5, 5),
    sex=2,
    branch="01",
    insured_type=DEPENDANT,
)
MEDICATION = MedicationRecord(
    dispensed_on=date(2024, 5, 1),
    pharmacy="さくら薬局",
    pharmacy_code=PHARMACY.value,
    prescribed_by="太郎花子クリニック",
    drug_name="ムコダイン錠250mg",
    drug_code="2233002F1023",
    daily_amount=3,
    unit="錠",
    usage="1日3回毎食後",
    days=7,
)
CHECKUP = CheckupRecord(
    examined_on=date(2024, 6, 10),
    institution="けんしんセンター",
    measures=(
        ("height_cm", 170.2),
        ("weight_kg", 72.0),
        ("bmi", 24.9),
        ("waist_cm", 86.0),
        ("systolic_bp", 130.0),
        ("diastolic_bp", 84.0),
        ("hba1c", 5.5),
        ("ldl_cholesterol", 119.0),
        ("hdl_cholesterol", 39.0),
        ("triglycerides", 150.0),
    ),
    metabolic_judgement="予備群該当",
    guidance_level="動機付け支援",
)
CLINICAL = ClinicalRecord(
    treated_on=date(2024, 5, 1),
    institution="太郎花子クリニック",
    institution_code=CLINIC.value,
    setting="外来",
    procedure_name="初診料",
    procedure_code="111000110",
)
EXPENSE = ExpenseRecord(
    month="2024-02",
    institution="さくら薬局",
    institution_code=PHARMACY.value,
    kind="調剤",
    days=2,
    total_cost=4560,
    paid=1370,
)


def _resources() -> dict[str, Any]:
    person = fhir.patient(INSURED_COVERAGE, patient_id="resident-1")
    me = fhir.full_url(person, seed=SEED)
    insurer = fhir.organization_insurer(SOCIETY, INSURED_COVERAGE.insurer_name)
    pharmacy = fhir.organization_institution(PHARMACY.value, MEDICATION.pharmacy)
    clinic = fhir.organization_institution(CLINIC, CLINICAL.institution)
    insurer_ref = fhir.full_url(insurer, seed=SEED)
    cover = fhir.coverage(INSURED_COVERAGE, patient_ref=me, insurer_ref=insurer_ref)
    return {
        "patient": person,
        "insurer": insurer,
        "pharmacy": pharmacy,
        "clinic": clinic,
        "coverage": cover,
        "dispense": fhir.medication_dispense(
            MEDICATION, patient_ref=me, pharmacy_ref=fhir.full_url(pharmacy, seed=SEED)
        ),
        "observations": fhir.checkup_observations(CHECKUP, patient_ref=me, sex=1),
        "procedure": fhir.procedure(
            CLINICAL, patient_ref=me, institution_ref=fhir.full_url(clinic, seed=SEED)
        ),
        "eob": fhir.explanation_of_benefit(
            EXPENSE,
            patient_ref=me,
            insurer_ref=insurer_ref,
            coverage_ref=fhir.full_url(cover, seed=SEED),
            provider_ref=fhir.full_url(pharmacy, seed=SEED),
            created=date(2024, 4, 20),
        ),
    }


def _all(resources: dict[str, Any]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for value in resources.values():
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def _observation(observations: list[dict[str, Any]], loinc: str) -> dict[str, Any]:
    return next(o for o in observations if any(c["code"] == loinc for c in o["code"]["coding"]))


def _flag(observation: dict[str, Any]) -> str | None:
    if "interpretation" not in observation:
        return None
    code: str = observation["interpretation"][0]["coding"][0]["code"]
    return code


def _checkup_with(field: str, value: float) -> CheckupRecord:
    return replace(CHECKUP, measures=((field, value),))


@pytest.mark.parametrize(
    ("key", "model"),
    [
        ("patient", Patient),
        ("insurer", Organization),
        ("pharmacy", Organization),
        ("coverage", Coverage),
        ("dispense", MedicationDispense),
        ("procedure", Procedure),
        ("eob", ExplanationOfBenefit),
    ],
)
def test_each_resource_validates_as_fhir(key: str, model: type[Any]) -> None:
    resource = _resources()[key]
    parsed = model.model_validate(resource)
    assert parsed.model_dump(mode="json", exclude_none=True)["resourceType"] == model.__name__


def test_every_checkup_observation_validates_as_fhir() -> None:
    observations = _resources()["observations"]
    assert len(observations) == len(CHECKUP.measures) + 2  # and the two judgements
    for observation in observations:
        Observation.model_validate(observation)


def test_the_bundle_validates_and_every_reference_points_inside_it() -> None:
    entries = _all(_resources())
    built = fhir.bundle(entries, seed=SEED, timestamp=datetime(2024, 7, 1, 9, 0, tzinfo=JST))
    Bundle.model_validate(built)
    urls = {entry["fullUrl"] for entry in built["entry"]}
    assert len(urls) == len(entries)
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", url) for url in urls)
    references = re.findall(r"'reference': '([^']+)'", str(entries))
    assert references
    assert set(references) <= urls
    assert built["timestamp"] == "2024-07-01T09:00:00+09:00"


def test_the_same_seed_gives_the_same_bundle_and_another_seed_other_ids() -> None:
    stamp = datetime(2024, 7, 1, tzinfo=JST)
    first = fhir.bundle(_all(_resources()), seed=SEED, timestamp=stamp)
    again = fhir.bundle(_all(_resources()), seed=SEED, timestamp=stamp)
    other = fhir.bundle(_all(_resources()), seed="another", timestamp=stamp)
    assert first == again
    assert {e["fullUrl"] for e in first["entry"]}.isdisjoint(e["fullUrl"] for e in other["entry"])


def test_the_bundle_refuses_a_naive_timestamp_and_a_repeated_entry() -> None:
    person = _resources()["patient"]
    with pytest.raises(ValueError, match="time zone"):
        fhir.bundle([person], seed=SEED, timestamp=datetime(2024, 7, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="two entries"):
        fhir.bundle([person, person], seed=SEED, timestamp=datetime(2024, 7, 1, tzinfo=JST))


def test_the_patient_carries_kanji_and_kana_names_sex_and_the_insured_person_id() -> None:
    person = _resources()["patient"]
    assert person["meta"]["profile"] == [fhir.JP_PATIENT]
    assert person["id"] == "resident-1"
    kanji, kana = person["name"]
    assert kanji["extension"][0]["valueCode"] == "IDE"
    assert (kanji["family"], kanji["given"]) == ("山田", ["太郎"])
    assert kana["extension"][0]["valueCode"] == "SYL"
    assert kana["text"] == "ヤマダ　タロウ"
    assert person["gender"] == "male"
    assert person["birthDate"] == "1970-01-01"
    (identifier,) = person["identifier"]
    assert identifier["system"] == "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"
    assert identifier["value"] == f"{SOCIETY.value}:あいう:187:00"


def test_the_patient_refuses_an_id_fhir_does_not_allow() -> None:
    with pytest.raises(ValueError):
        fhir.patient(INSURED_COVERAGE, patient_id="住民/1")


@pytest.mark.parametrize(
    ("insurer", "symbol", "number", "expected"),
    [
        ("06130017", "あいう", "187", "06130017:あいう:187:05"),
        ("131011", "12", "345", "00131011:12:345:05"),  # 国保: zero-padded to 8 digits
        ("39131015", "", "12345678", "39131015::12345678:05"),  # 後期高齢者: no 記号
        ("06130017", "あ1", "１2-3", "06130017:あ１:１２－３:05"),  # mixed: all full-width
    ],
)
def test_the_insured_person_identifier_follows_jp_core(
    insurer: str, symbol: str, number: str, expected: str
) -> None:
    value = fhir.insured_person_identifier(insurer, symbol, number, "05")
    assert value == expected
    assert MEMBER_ID.fullmatch(value)


def test_the_insurer_organization_keeps_its_number_as_printed_under_the_mhlw_oid() -> None:
    for number in (SOCIETY, NATIONAL):
        insurer = fhir.organization_insurer(number.value, "保険者")
        Organization.model_validate(insurer)
        (identifier,) = insurer["identifier"]
        assert identifier == {"system": "urn:oid:1.2.392.100495.20.3.61", "value": number.value}
        assert len(identifier["value"]) in (6, 8)
    assert insurer["meta"]["profile"] == [fhir.JP_ORGANIZATION]


def test_the_insurer_organization_refuses_a_number_with_a_wrong_check_digit() -> None:
    wrong = SOCIETY.value[:-1] + str((int(SOCIETY.value[-1]) + 1) % 10)
    with pytest.raises(InsuranceNumberError):
        fhir.organization_insurer(wrong, "保険者")


def test_the_institution_organization_has_the_10_digit_code_and_jp_core_extensions() -> None:
    pharmacy = _resources()["pharmacy"]
    assert pharmacy["identifier"] == [{"system": fhir.INSTITUTION_CODE, "value": PHARMACY.value}]
    extensions = {e["url"]: e for e in pharmacy["extension"]}
    assert extensions[fhir.EXT_PREFECTURE]["valueCoding"]["code"] == "13"
    assert extensions[fhir.EXT_SCORE_TABLE]["valueCoding"] == {
        "system": "urn:oid:1.2.392.100495.20.3.22",
        "code": "4",
    }
    assert extensions[fhir.EXT_INSTITUTION_NUMBER]["valueIdentifier"] == {
        "system": "urn:oid:1.2.392.100495.20.3.23",
        "value": PHARMACY.value[3:],
    }


def test_the_coverage_carries_symbol_number_branch_and_the_copay() -> None:
    cover = _resources()["coverage"]
    assert cover["meta"]["profile"] == [fhir.JP_COVERAGE]
    assert cover["status"] == "active"
    assert cover["period"] == {"start": "2020-04-01"}
    values = {e["url"]: e["valueString"] for e in cover["extension"]}
    assert values == {
        fhir.EXT_INSURED_SYMBOL: "あいう",
        fhir.EXT_INSURED_NUMBER: "187",
        fhir.EXT_INSURED_BRANCH: "00",
    }
    assert cover["identifier"][0]["value"] == f"{SOCIETY.value}:あいう:187:00"
    assert cover["subscriberId"] == "あいう:187"
    assert cover["dependent"] == "00"
    assert cover["costToBeneficiary"][0]["valueQuantity"]["value"] == 30
    assert cover["costToBeneficiary"][0]["type"]["coding"][0]["code"] == "copaypct"


def test_the_limit_category_is_left_out_unless_asked_for() -> None:
    refs = {"patient_ref": "urn:uuid:p", "insurer_ref": "urn:uuid:i"}
    without = fhir.coverage(INSURED_COVERAGE, **refs)
    with_limit = fhir.coverage(INSURED_COVERAGE, **refs, include_limit=True)
    assert fhir.EXT_LIMIT_CATEGORY not in {e["url"] for e in without["extension"]}
    assert "ウ" not in str(without)
    assert {"url": fhir.EXT_LIMIT_CATEGORY, "valueString": "ウ"} in with_limit["extension"]
    Coverage.model_validate(with_limit)


def test_a_lost_coverage_is_cancelled_and_ends_the_day_before_the_loss() -> None:
    lost = replace(INSURED_COVERAGE, lost_on=date(2024, 4, 1))
    cover = fhir.coverage(lost, patient_ref="urn:uuid:p", insurer_ref="urn:uuid:i")
    Coverage.model_validate(cover)
    assert cover["status"] == "cancelled"
    assert cover["period"] == {"start": "2020-04-01", "end": "2024-03-31"}


def test_a_validity_date_ends_the_period_when_it_comes_first() -> None:
    late = replace(
        INSURED_COVERAGE,
        insurer_number=LATE_ELDERLY.value,
        symbol="",
        valid_until=date(2025, 7, 31),
    )
    cover = fhir.coverage(late, patient_ref="urn:uuid:p", insurer_ref="urn:uuid:i")
    assert cover["status"] == "active"
    assert cover["period"]["end"] == "2025-07-31"
    assert cover["type"]["text"] == "後期高齢者医療"
    assert fhir.EXT_INSURED_SYMBOL not in {e["url"] for e in cover["extension"]}
    assert cover["identifier"][0]["value"] == f"{LATE_ELDERLY.value}::187:00"


def test_a_dependants_relationship_differs_from_the_insureds() -> None:
    refs = {"patient_ref": "urn:uuid:p", "insurer_ref": "urn:uuid:i"}
    insured = fhir.coverage(INSURED_COVERAGE, **refs)["relationship"]
    dependant = fhir.coverage(DEPENDANT_COVERAGE, **refs)["relationship"]
    assert insured != dependant
    assert {c["code"] for c in insured["coding"]} == {"self", "1"}
    assert [c["code"] for c in dependant["coding"]] == ["2"]
    assert dependant["coding"][0]["system"] == fhir.INSURED_PERSON_CATEGORY_CS
    assert fhir.patient(DEPENDANT_COVERAGE, patient_id="p2")["gender"] == "female"


def test_the_dispense_codes_the_drug_by_yj_and_counts_the_days() -> None:
    dispense = _resources()["dispense"]
    assert dispense["meta"]["profile"] == [fhir.JP_MEDICATION_DISPENSE]
    assert dispense["medicationCodeableConcept"]["coding"] == [
        {
            "system": "urn:oid:1.2.392.100495.20.1.73",
            "code": "2233002F1023",
            "display": "ムコダイン錠250mg",
        }
    ]
    assert dispense["quantity"] == {
        "value": 21,
        "unit": "錠",
        "system": "urn:oid:1.2.392.100495.20.2.101",
        "code": "TAB",
    }
    assert dispense["daysSupply"]["value"] == 7
    assert dispense["whenHandedOver"] == "2024-05-01"
    assert dispense["dosageInstruction"][0]["text"] == "1日3回毎食後"
    assert {i["system"] for i in dispense["identifier"]} == {fhir.RP_NUMBER, fhir.ORDER_IN_RP}


def test_a_unit_without_a_known_merit9_code_travels_as_text() -> None:
    powder = replace(MEDICATION, unit="包", daily_amount=1.5, days=2)
    dispense = fhir.medication_dispense(powder, patient_ref="urn:uuid:p", pharmacy_ref="urn:uuid:o")
    MedicationDispense.model_validate(dispense)
    assert dispense["quantity"] == {"value": 3, "unit": "包"}


def test_checkup_items_carry_loinc_jlac10_ucum_and_the_date() -> None:
    observations = _resources()["observations"]
    height = _observation(observations, "8302-2")
    assert {c["system"] for c in height["code"]["coding"]} == {fhir.LOINC, fhir.JLAC10_CS}
    assert height["valueQuantity"] == {
        "value": 170.2,
        "unit": "cm",
        "system": "http://unitsofmeasure.org",
        "code": "cm",
    }
    assert height["effectiveDateTime"] == "2024-06-10"
    assert "interpretation" not in height
    systolic = _observation(observations, "8480-6")
    assert systolic["meta"]["profile"] == [fhir.JP_OBSERVATION_VITAL_SIGNS]
    assert systolic["valueQuantity"]["code"] == "mm[Hg]"
    hba1c = _observation(observations, "4548-4")
    assert hba1c["meta"]["profile"] == [fhir.JP_OBSERVATION_LAB_RESULT]
    assert hba1c["category"][0]["coding"][0]["code"] == "laboratory"


@pytest.mark.parametrize(
    ("field", "loinc", "value", "flag"),
    [
        ("bmi", "39156-5", 24.9, "N"),
        ("bmi", "39156-5", 25.0, "H"),
        ("systolic_bp", "8480-6", 129, "N"),
        ("systolic_bp", "8480-6", 130, "H"),
        ("diastolic_bp", "8462-4", 84, "N"),
        ("diastolic_bp", "8462-4", 85, "H"),
        ("hba1c", "4548-4", 5.5, "N"),
        ("hba1c", "4548-4", 5.6, "H"),
        ("ldl_cholesterol", "2089-1", 119, "N"),
        ("ldl_cholesterol", "2089-1", 120, "H"),
        ("hdl_cholesterol", "2085-9", 39, "L"),
        ("hdl_cholesterol", "2085-9", 40, "N"),
        ("triglycerides", "2571-8", 149, "N"),
        ("triglycerides", "2571-8", 150, "H"),
    ],
)
def test_the_interpretation_follows_the_guidance_limit_at_its_boundary(
    field: str, loinc: str, value: float, flag: str
) -> None:
    observations = fhir.checkup_observations(
        _checkup_with(field, value), patient_ref="urn:uuid:p", sex=1
    )
    assert _flag(_observation(observations, loinc)) == flag


@pytest.mark.parametrize(
    ("sex", "value", "flag"),
    [(1, 84.9, "N"), (1, 85.0, "H"), (2, 89.9, "N"), (2, 90.0, "H"), (0, 120.0, None)],
)
def test_the_waist_limit_depends_on_sex(sex: int, value: float, flag: str | None) -> None:
    observations = fhir.checkup_observations(
        _checkup_with("waist_cm", value), patient_ref="urn:uuid:p", sex=sex
    )
    waist = _observation(observations, "8280-0")
    assert _flag(waist) == flag
    assert ("referenceRange" in waist) is (flag is not None)


def test_the_reference_range_states_the_limit_as_inclusive_bounds() -> None:
    observations = _resources()["observations"]
    (bmi_range,) = _observation(observations, "39156-5")["referenceRange"]
    assert bmi_range["high"]["value"] == 24.9
    assert "low" not in bmi_range
    assert "25未満" in bmi_range["text"]
    (hdl_range,) = _observation(observations, "2085-9")["referenceRange"]
    assert hdl_range["low"]["value"] == 40
    assert "high" not in hdl_range


def test_the_checkup_judgements_are_observations_of_their_own() -> None:
    observations = _resources()["observations"]
    values = {
        o["code"]["coding"][0]["code"]: o["valueString"] for o in observations if "valueString" in o
    }
    assert values == {
        fhir.METABOLIC_JUDGEMENT: "予備群該当",
        fhir.GUIDANCE_LEVEL: "動機付け支援",
    }


def test_the_procedure_is_coded_in_the_medical_procedure_master() -> None:
    done = _resources()["procedure"]
    assert done["code"]["coding"][0] == {
        "system": fhir.PROCEDURE_CODE_CS,
        "code": "111000110",
        "display": "初診料",
    }
    assert done["performedDateTime"] == "2024-05-01"
    assert done["status"] == "completed"


def test_the_expense_notice_splits_the_cost_between_patient_and_insurer() -> None:
    eob = _resources()["eob"]
    totals = {t["category"]["coding"][0]["code"]: t["amount"]["value"] for t in eob["total"]}
    assert totals == {"submitted": 4560, "copay": 1370, "benefit": 3190}
    assert eob["billablePeriod"] == {"start": "2024-02-01", "end": "2024-02-29"}
    assert eob["type"]["coding"][0]["code"] == "pharmacy"
    assert all(t["amount"]["currency"] == "JPY" for t in eob["total"])
