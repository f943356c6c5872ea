"""FHIR R4 resources, JP Core profiles, for what insurers hold about a person (pure).

Each builder turns one record of ``records`` into a FHIR R4 resource as a plain ``dict``
ready for ``json.dumps``; ``bundle`` gathers them. Nothing here does I/O or imports a FHIR
library: the tests validate the output with ``fhir.resources`` (R4B models, which read R4
JSON for these resources).

Profiles follow JP Core (https://jpfhir.jp/fhir/core/), the Japanese base profiles of the
JAMI/HL7 Japan FHIR working group:

* identifiers and code systems are those of JP Core **v1.1.2**, where they are ``urn:oid:``
  URIs; JP Core 1.2 prefers ``http://jpfhir.jp/fhir/core/mhlw/...`` URLs for the same
  systems and lists the ``urn:oid:`` form beside them in its NamingSystem resources;
* the insured-person identifier (被保険者個人識別子) is the one JP Core 1.2's JP_Coverage and
  the 電子カルテ情報共有サービス (JP-CLINS/eCS) profiles put on Coverage and Patient;
* ``procedure`` uses JP_Procedure, a profile JP Core added in 1.2.

References between resources are the ``fullUrl`` a Bundle gives them (``urn:uuid:``,
derived from a seed with UUID v5 so that the same input gives the same Bundle): build a
resource, take ``full_url(resource, seed=...)`` and pass it to the next builder.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from myna.medical.domain import InstitutionCode, InsurerNumber, LawNumber
from myna.medical.records import (
    CHECKUP_MEASURES,
    DEPENDANT,
    INSURED,
    CheckupRecord,
    ClinicalRecord,
    CoverageRecord,
    ExpenseRecord,
    MedicationRecord,
)

Resource = dict[str, Any]

# --- Profiles (JP Core, StructureDefinition canonical URLs) --------------------------
_JP_CORE = "http://jpfhir.jp/fhir/core"
JP_PATIENT = f"{_JP_CORE}/StructureDefinition/JP_Patient"
JP_COVERAGE = f"{_JP_CORE}/StructureDefinition/JP_Coverage"
JP_ORGANIZATION = f"{_JP_CORE}/StructureDefinition/JP_Organization"
JP_MEDICATION_DISPENSE = f"{_JP_CORE}/StructureDefinition/JP_MedicationDispense"
JP_OBSERVATION_COMMON = f"{_JP_CORE}/StructureDefinition/JP_Observation_Common"
JP_OBSERVATION_BODY_MEASUREMENT = f"{_JP_CORE}/StructureDefinition/JP_Observation_BodyMeasurement"
JP_OBSERVATION_VITAL_SIGNS = f"{_JP_CORE}/StructureDefinition/JP_Observation_VitalSigns"
JP_OBSERVATION_LAB_RESULT = f"{_JP_CORE}/StructureDefinition/JP_Observation_LabResult"
JP_PROCEDURE = f"{_JP_CORE}/StructureDefinition/JP_Procedure"  # JP Core 1.2

# --- Extensions (JP Core) ------------------------------------------------------------
# JP_Coverage: 記号, 番号 and 枝番 as strings.
EXT_INSURED_SYMBOL = f"{_JP_CORE}/Extension/StructureDefinition/JP_Coverage_InsuredPersonSymbol"
EXT_INSURED_NUMBER = f"{_JP_CORE}/Extension/StructureDefinition/JP_Coverage_InsuredPersonNumber"
EXT_INSURED_BRANCH = f"{_JP_CORE}/Extension/StructureDefinition/JP_Coverage_InsuredPersonSubNumber"
# JP_Organization: 都道府県番号 (Coding), 点数表番号 (Coding), 医療機関番号 7 digits (Identifier).
EXT_PREFECTURE = f"{_JP_CORE}/Extension/StructureDefinition/JP_Organization_PrefectureNo"
EXT_SCORE_TABLE = (
    f"{_JP_CORE}/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationCategory"
)
EXT_INSTITUTION_NUMBER = (
    f"{_JP_CORE}/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationNo"
)
# HL7: which representation of a name (IDE ideographic 漢字, SYL syllabic カナ), as JP Core
# JP_Patient.name asks.
EXT_NAME_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
# Myna's own: JP Core has no element for 限度額適用認定証の区分 (高額療養費の所得区分).
EXT_LIMIT_CATEGORY = "urn:myna:fhir:StructureDefinition:coverage-limit-category"

# --- Identifier systems --------------------------------------------------------------
# 被保険者個人識別子: JP Core 1.2 JP_Coverage.identifier[insuranceIdentifier] and the
# JP-CLINS/eCS Patient.identifier (their invariant R1013 gives the string's shape).
INSURANCE_MEMBER_ID = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"
# 保険者番号: JP Core v1.1.2 JP_Organization.identifier[insurerNumber] (NamingSystem
# JP_Insurer_Number, MHLW OID).
INSURER_NUMBER = "urn:oid:1.2.392.100495.20.3.61"
# 医療機関コード 10 digits: JP Core JP_Organization.identifier[medicalInstitutionCode].
INSTITUTION_CODE = f"{_JP_CORE}/IdSystem/insurance-medical-institution-no"
# 医療機関番号 7 digits (the 10 less prefecture and table): JP_Organization_InsuranceOrganizationNo.
INSTITUTION_NUMBER = "urn:oid:1.2.392.100495.20.3.23"
# RP番号 and the order within an Rp: JP Core JP_MedicationDispense.identifier[rpNumber] and
# [orderInRp]. (1.2.392.100495.20.3.81 is the Rp number, not an insured-person id.)
RP_NUMBER = "urn:oid:1.2.392.100495.20.3.81"
ORDER_IN_RP = "urn:oid:1.2.392.100495.20.3.82"

# --- Code systems --------------------------------------------------------------------
PREFECTURE_CS = "urn:oid:1.2.392.100495.20.3.21"  # 都道府県番号 (JP Core v1.1.2 alias)
SCORE_TABLE_CS = "urn:oid:1.2.392.100495.20.3.22"  # 点数表番号 (JP Core v1.1.2 alias)
YJ_CODE_CS = "urn:oid:1.2.392.100495.20.1.73"  # 個別医薬品コード (YJ), JP Core v1.1.2, eCS R3010
MERIT9_UNIT_CS = "urn:oid:1.2.392.100495.20.2.101"  # MERIT-9 医薬品単位略号 (JP Core v1.1.2)
JLAC10_CS = "urn:oid:1.2.392.200119.4.504"  # MEDIS JLAC10 17桁 (JP Core v1.1.2 LabResult code)
# 被保険者区分 (1 被保険者, 2 被扶養者), MHLW 別表12; JP_Coverage.relationship comment.
INSURED_PERSON_CATEGORY_CS = f"{_JP_CORE}/mhlw/CodeSystem/InsuredPersonCategory"
# 医科診療行為マスタ (レセプト電算処理用 9 digits): JP Core 1.2 JP_Procedure.code[medical].
PROCEDURE_CODE_CS = f"{_JP_CORE}/CodeSystem/JP_ProcedureCodesMedical_CS"
SIMPLE_OBSERVATION_CATEGORY_CS = f"{_JP_CORE}/CodeSystem/JP_SimpleObservationCategory_CS"
BODY_MEASUREMENT_CATEGORY_CS = f"{_JP_CORE}/CodeSystem/JP_ObservationBodyMeasurementCategory_CS"
VITAL_SIGNS_CATEGORY_CS = f"{_JP_CORE}/CodeSystem/JP_ObservationVitalSignsCategory_CS"
# HL7 terminology, as FHIR R4 and the JP Core examples use it.
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ACT_CODE_CS = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SUBSCRIBER_RELATIONSHIP_CS = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COPAY_TYPE_CS = "http://terminology.hl7.org/CodeSystem/coverage-copay-type"
ORGANIZATION_TYPE_CS = "http://terminology.hl7.org/CodeSystem/organization-type"
INTERPRETATION_CS = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CLAIM_TYPE_CS = "http://terminology.hl7.org/CodeSystem/claim-type"
ADJUDICATION_CS = "http://terminology.hl7.org/CodeSystem/adjudication"

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# The namespace every Bundle-local uuid hangs from (uuid5 of a fixed name).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:myna:fhir")


# --- Small helpers -------------------------------------------------------------------


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def _concept(*codings: dict[str, str], text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": list(codings)} if codings else {}
    if text is not None:
        concept["text"] = text
    return concept


def _reference(ref: str) -> dict[str, str]:
    return {"reference": ref}


def _number(value: float) -> int | float:
    """A JSON number without a spurious ``.0`` (FHIR decimals keep their precision)."""
    return int(value) if float(value).is_integer() else value


def _local_id(kind: str, *parts: str) -> str:
    """A FHIR id (``[A-Za-z0-9-.]{1,64}``) from a record's natural key."""
    digest = uuid.uuid5(_NAMESPACE, "\x1f".join((kind, *parts))).hex[:20]
    return f"{kind}-{digest}"


def _full_width(text: str) -> str:
    """ASCII letters, digits and '-' as their full-width forms (ａ, ０, －)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def card_text(text: str) -> str:
    """記号 or 番号 as JP Core wants it: all half-width, or (with any kana/kanji) all full-width."""
    text = unicodedata.normalize("NFC", text)
    return text if text.isascii() else _full_width(text)


def insured_person_identifier(insurer_number: str, symbol: str, number: str, branch: str) -> str:
    """被保険者個人識別子: 保険者番号 (8 digits, zero-padded) ``:`` 記号 ``:`` 番号 ``:`` 枝番.

    Per JP Core JP_Coverage, "「被保険者個人識別子」の文字列仕様": an absent 記号 (後期高齢者医療)
    or 枝番 is an empty string and every colon stays, e.g. ``00012345::１８７:``.
    """
    if not (insurer_number.isascii() and insurer_number.isdigit()) or len(insurer_number) > 8:
        raise ValueError(insurer_number)
    return ":".join((insurer_number.zfill(8), card_text(symbol), card_text(number), branch))


# --- Bundle --------------------------------------------------------------------------


def full_url(resource: Resource, *, seed: str) -> str:
    """The ``urn:uuid:`` a Bundle built with ``seed`` gives ``resource`` (by type and id)."""
    name = f"{seed}\x1f{resource['resourceType']}/{resource['id']}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def bundle(
    entries: Iterable[Resource],
    *,
    seed: str,
    timestamp: datetime,
    bundle_type: Literal["collection", "searchset"] = "collection",
) -> Resource:
    """A Bundle of ``entries``, each with its ``full_url`` (ValueError on a repeated one).

    ``timestamp`` must carry its offset (FHIR instants do); the Bundle's own id is derived
    from ``seed`` too, so equal inputs give equal Bundles.
    """
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        raise ValueError("timestamp needs a time zone")
    seen: set[str] = set()
    items = []
    for resource in entries:
        url = full_url(resource, seed=seed)
        if url in seen:
            raise ValueError(f"two entries are {resource['resourceType']}/{resource['id']}")
        seen.add(url)
        items.append({"fullUrl": url, "resource": resource})
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NAMESPACE, f"{seed}\x1fBundle")),
        "type": bundle_type,
        "timestamp": timestamp.isoformat(),
        "entry": items,
    }


# --- Patient -------------------------------------------------------------------------

_GENDER = {0: "unknown", 1: "male", 2: "female", 9: "unknown"}  # ISO/IEC 5218


def _human_name(text: str, representation: str) -> dict[str, Any]:
    name: dict[str, Any] = {
        "extension": [{"url": EXT_NAME_REPRESENTATION, "valueCode": representation}],
        "use": "official",
        "text": text,
    }
    parts = text.replace("\u3000", " ").split()
    if len(parts) > 1:  # family name, then given names
        name["family"] = parts[0]
        name["given"] = parts[1:]
    return name


def patient(coverage: CoverageRecord, *, patient_id: str) -> Resource:
    """JP_Patient from the coverage record: names in 漢字 (IDE) and カナ (SYL), sex, birth date.

    The identifier is the 被保険者個人識別子 (``INSURANCE_MEMBER_ID``), as the 電子カルテ情報
    共有サービス profiles put it on Patient; ``patient_id`` is the id inside the Bundle.
    The name is split into family and given at the first space when it has one.
    """
    if not _FHIR_ID.fullmatch(patient_id):
        raise ValueError(patient_id)
    if coverage.sex not in _GENDER:
        raise ValueError(coverage.sex)
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": {"profile": [JP_PATIENT]},
        "identifier": [
            {
                "system": INSURANCE_MEMBER_ID,
                "value": insured_person_identifier(
                    coverage.insurer_number, coverage.symbol, coverage.number, coverage.branch
                ),
            }
        ],
        "name": [_human_name(coverage.name, "IDE"), _human_name(coverage.name_kana, "SYL")],
        "gender": _GENDER[coverage.sex],
        "birthDate": coverage.birth_date.isoformat(),
    }


# --- Organizations -------------------------------------------------------------------


def organization_insurer(number: InsurerNumber | str, name: str) -> Resource:
    """JP_Organization for an insurer (保険者): its 保険者番号 as printed (6 or 8 digits)."""
    insurer = number if isinstance(number, InsurerNumber) else InsurerNumber.parse(number)
    return {
        "resourceType": "Organization",
        "id": f"insurer-{insurer.value}",
        "meta": {"profile": [JP_ORGANIZATION]},
        "identifier": [{"system": INSURER_NUMBER, "value": insurer.value}],
        "type": [_concept(_coding(ORGANIZATION_TYPE_CS, "pay", "Payer"))],
        "name": name,
    }


def organization_institution(code: InstitutionCode | str, name: str) -> Resource:
    """JP_Organization for a clinic, hospital or pharmacy (医療機関コード 10 digits).

    Besides the 10-digit identifier it carries JP Core's three extensions: 都道府県番号,
    点数表番号 and the 7-digit 医療機関番号 (the code without those three leading digits).
    """
    institution = code if isinstance(code, InstitutionCode) else InstitutionCode.parse(code)
    value = institution.value
    return {
        "resourceType": "Organization",
        "id": f"institution-{value}",
        "meta": {"profile": [JP_ORGANIZATION]},
        "extension": [
            {"url": EXT_PREFECTURE, "valueCoding": _coding(PREFECTURE_CS, value[:2])},
            {"url": EXT_SCORE_TABLE, "valueCoding": _coding(SCORE_TABLE_CS, value[2])},
            {
                "url": EXT_INSTITUTION_NUMBER,
                "valueIdentifier": {"system": INSTITUTION_NUMBER, "value": value[3:]},
            },
        ],
        "identifier": [{"system": INSTITUTION_CODE, "value": value}],
        "type": [_concept(_coding(ORGANIZATION_TYPE_CS, "prov", "Healthcare Provider"))],
        "name": name,
    }


# --- Coverage ------------------------------------------------------------------------


def _scheme(insurer_number: str) -> str:
    law = InsurerNumber.parse(insurer_number).law
    if law is None:
        return "国民健康保険"
    if law is LawNumber.LATE_ELDERLY:
        return "後期高齢者医療"
    return f"被用者保険（法別番号{law.value}）"


def _coverage_end(record: CoverageRecord) -> date | None:
    # 資格喪失日 is the first day without coverage; a FHIR Period's end is the last day in it.
    ends = [] if record.valid_until is None else [record.valid_until]
    if record.lost_on is not None:
        ends.append(record.lost_on - timedelta(days=1))
    return min(ends) if ends else None


def coverage(
    record: CoverageRecord,
    *,
    patient_ref: str,
    insurer_ref: str,
    include_limit: bool = False,
) -> Resource:
    """JP_Coverage: the person's coverage at one insurer.

    * ``status`` is ``active``, or ``cancelled`` once 資格喪失日 is set;
    * 記号・番号・枝番 in JP Core's three extensions, the 被保険者個人識別子 as identifier,
      ``subscriberId`` as ``記号:番号`` and ``dependent`` as the 枝番;
    * ``type`` is HL7 ``PUBLICPOL`` (public health insurance, as JP Core's example), with the
      scheme read from the 保険者番号 as text;
    * ``relationship``: the MHLW 被保険者区分 (1 被保険者, 2 被扶養者); for the insured also
      HL7 ``self`` (for a dependant the record does not say child or spouse, so no HL7 code);
    * ``period`` from 資格取得日 to the last covered day: the day before 資格喪失日, or the
      有効期限 when that comes first;
    * ``costToBeneficiary``: the 一部負担金の割合 as a percentage (``copaypct``).

    The 限度額適用区分 is sensitive (it reveals the income band): it is left out unless
    ``include_limit``, and then travels in a Myna extension (``EXT_LIMIT_CATEGORY``) as a
    string, since neither R4 nor JP Core has an element for it.
    """
    if record.insured_type not in (INSURED, DEPENDANT):
        raise ValueError(record.insured_type)
    extensions: list[dict[str, Any]] = []
    if record.symbol:
        extensions.append({"url": EXT_INSURED_SYMBOL, "valueString": card_text(record.symbol)})
    extensions += [
        {"url": EXT_INSURED_NUMBER, "valueString": card_text(record.number)},
        {"url": EXT_INSURED_BRANCH, "valueString": record.branch},
    ]
    if include_limit and record.limit_category:
        extensions.append({"url": EXT_LIMIT_CATEGORY, "valueString": record.limit_category})

    insured = record.insured_type == INSURED
    category = _coding(INSURED_PERSON_CATEGORY_CS, "1" if insured else "2", record.insured_type)
    relationship = (
        _concept(_coding(SUBSCRIBER_RELATIONSHIP_CS, "self", "Self"), category)
        if insured
        else _concept(category, text=DEPENDANT)
    )
    period = {"start": record.acquired_on.isoformat()}
    end = _coverage_end(record)
    if end is not None:
        period["end"] = end.isoformat()
    member_id = insured_person_identifier(
        record.insurer_number, record.symbol, record.number, record.branch
    )
    return {
        "resourceType": "Coverage",
        "id": _local_id("coverage", member_id),
        "meta": {"profile": [JP_COVERAGE]},
        "extension": extensions,
        "identifier": [
            {
                "system": INSURANCE_MEMBER_ID,
                "value": member_id,
                "assigner": _reference(insurer_ref),
            }
        ],
        "status": "cancelled" if record.lost_on is not None else "active",
        "type": _concept(
            _coding(ACT_CODE_CS, "PUBLICPOL", "public healthcare"),
            text=_scheme(record.insurer_number),
        ),
        "subscriberId": f"{card_text(record.symbol)}:{card_text(record.number)}",
        "beneficiary": _reference(patient_ref),
        "dependent": record.branch,
        "relationship": relationship,
        "period": period,
        "payor": [_reference(insurer_ref)],
        "costToBeneficiary": [
            {
                "type": _concept(_coding(COPAY_TYPE_CS, "copaypct", "Copay Percentage")),
                "valueQuantity": {
                    "value": record.copay_percent,
                    "unit": "%",
                    "system": UCUM,
                    "code": "%",
                },
            }
        ],
    }


# --- Medication ----------------------------------------------------------------------

# The MERIT-9 unit codes JP Core's examples show; other units travel as text only.
_MERIT9_UNITS = {"錠": "TAB"}
_YJ_CODE = re.compile(r"[0-9A-Z]{12}")


def _dose(value: float, unit: str) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": _number(value), "unit": unit}
    if unit in _MERIT9_UNITS:
        quantity |= {"system": MERIT9_UNIT_CS, "code": _MERIT9_UNITS[unit]}
    return quantity


_DAY = {"value": 1, "unit": "日", "system": UCUM, "code": "d"}


def medication_dispense(
    record: MedicationRecord, *, patient_ref: str, pharmacy_ref: str
) -> Resource:
    """JP_MedicationDispense: one drug handed over by a pharmacy (or a clinic in-house).

    The drug is coded with its YJ code; the quantity is the daily amount times the days,
    in the record's unit (MERIT-9 coded when JP Core shows the code, text otherwise). The
    profile requires an Rp number and an order within it: 薬剤情報 keeps one drug per
    record, so each is its own Rp (``1``/``1``). The pharmacy is the ``performer``; the
    prescribing institution, known only by name, is a note.
    """
    medication = _concept(text=record.drug_name)
    if _YJ_CODE.fullmatch(record.drug_code):
        medication["coding"] = [_coding(YJ_CODE_CS, record.drug_code, record.drug_name)]
    natural_key = (
        patient_ref,
        record.dispensed_on.isoformat(),
        record.pharmacy_code,
        record.drug_code,
        record.usage,
    )
    return {
        "resourceType": "MedicationDispense",
        "id": _local_id("dispense", *natural_key),
        "meta": {"profile": [JP_MEDICATION_DISPENSE]},
        "identifier": [
            {"system": RP_NUMBER, "value": "1"},
            {"system": ORDER_IN_RP, "value": "1"},
        ],
        "status": "completed",
        "medicationCodeableConcept": medication,
        "subject": _reference(patient_ref),
        "performer": [{"actor": _reference(pharmacy_ref)}],
        "quantity": _dose(record.daily_amount * record.days, record.unit),
        "daysSupply": {"value": record.days, "unit": "日", "system": UCUM, "code": "d"},
        "whenHandedOver": record.dispensed_on.isoformat(),
        "dosageInstruction": [
            {
                "text": record.usage,
                "doseAndRate": [
                    {
                        "rateRatio": {
                            "numerator": _dose(record.daily_amount, record.unit),
                            "denominator": dict(_DAY),
                        }
                    }
                ],
            }
        ],
        "note": [{"text": f"処方元: {record.prescribed_by}"}],
    }


# --- 特定健診 --------------------------------------------------------------------------


class Flag(StrEnum):
    """v3 ObservationInterpretation codes this module uses."""

    HIGH = "H"
    LOW = "L"
    NORMAL = "N"


_FLAG_DISPLAY = {Flag.HIGH: "High", Flag.LOW: "Low", Flag.NORMAL: "Normal"}


@dataclass(frozen=True, slots=True)
class GuidanceLimit:
    """A 保健指導判定値: a value ``below`` a bound (or at least ``at_least``) needs no guidance.

    From 標準的な健診・保健指導プログラム (MHLW): BMI 25, 腹囲 85 cm (men) and 90 cm (women),
    収縮期血圧 130, 拡張期血圧 85 mmHg, HbA1c (NGSP) 5.6 %, LDL 120, 中性脂肪 150 (fasting)
    mg/dL are limits from which guidance starts; HDL below 40 mg/dL needs it.
    """

    below: float | None = None
    at_least: float | None = None
    step: float = 1  # the precision the item is recorded to (FHIR ranges are inclusive)

    def flag(self, value: float) -> Flag:
        """H at or over ``below``, L under ``at_least``, otherwise N."""
        if self.below is not None and value >= self.below:
            return Flag.HIGH
        if self.at_least is not None and value < self.at_least:
            return Flag.LOW
        return Flag.NORMAL

    def reference_range(self, unit: str) -> dict[str, Any]:
        """The range with no guidance, as inclusive FHIR bounds at the item's precision."""
        ranged: dict[str, Any] = {}
        words = []
        if self.at_least is not None:
            ranged["low"] = _ucum(self.at_least, unit)
            words.append(f"{_number(self.at_least)}以上")
        if self.below is not None:
            ranged["high"] = _ucum(round(self.below - self.step, 3), unit)
            words.append(f"{_number(self.below)}未満")
        ranged["text"] = "保健指導判定値: " + "かつ".join(words)
        return ranged


def _ucum(value: float, unit: str) -> dict[str, Any]:
    return {"value": _number(value), "unit": unit, "system": UCUM, "code": unit}


class Kind(StrEnum):
    """Which JP Core Observation profile an item follows."""

    BODY = "body-measurement"
    VITAL = "vital-signs"
    LAB = "laboratory"


@dataclass(frozen=True, slots=True)
class Measure:
    """How one 特定健診 item is coded."""

    label: str  # as the result sheet prints it
    loinc: str
    loinc_display: str
    jlac10: str | None  # 17 digits; None where the code depends on a method not recorded
    kind: Kind
    body_category: str | None = None  # JP_ObservationBodyMeasurementCategory_CS
    limit: GuidanceLimit | None = None


# JLAC10 codes as the 特定健診 XML uses them (body measures have no method part; blood
# pressure uses the "その他" reading, our records keeping one value). Lab items' JLAC10
# codes carry the assay method, which the records do not keep: those are LOINC only.
MEASURES: dict[str, Measure] = {
    "height_cm": Measure("身長", "8302-2", "Body height", "9N001000000000001", Kind.BODY, "height"),
    "weight_kg": Measure(
        "体重", "29463-7", "Body weight", "9N006000000000001", Kind.BODY, "weight"
    ),
    "bmi": Measure(
        "BMI",
        "39156-5",
        "Body mass index (BMI) [Ratio]",
        "9N011000000000001",
        Kind.BODY,
        "body-mass-index",
        GuidanceLimit(below=25, step=0.1),
    ),
    "waist_cm": Measure(
        "腹囲",
        "8280-0",
        "Waist Circumference at umbilicus by Tape measure",
        "9N016160100000001",  # 腹囲（実測）
        Kind.BODY,
        "abdominal-circumference",
    ),
    "systolic_bp": Measure(
        "収縮期血圧",
        "8480-6",
        "Systolic blood pressure",
        "9A755000000000001",
        Kind.VITAL,
        limit=GuidanceLimit(below=130),
    ),
    "diastolic_bp": Measure(
        "拡張期血圧",
        "8462-4",
        "Diastolic blood pressure",
        "9A765000000000001",
        Kind.VITAL,
        limit=GuidanceLimit(below=85),
    ),
    "hba1c": Measure(
        "HbA1c",
        "4548-4",
        "Hemoglobin A1c/Hemoglobin.total in Blood",
        None,
        Kind.LAB,
        limit=GuidanceLimit(below=5.6, step=0.1),
    ),
    "ldl_cholesterol": Measure(
        "LDLコレステロール",
        "2089-1",
        "Cholesterol in LDL [Mass/volume] in Serum or Plasma",
        None,
        Kind.LAB,
        limit=GuidanceLimit(below=120),
    ),
    "hdl_cholesterol": Measure(
        "HDLコレステロール",
        "2085-9",
        "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
        None,
        Kind.LAB,
        limit=GuidanceLimit(at_least=40),
    ),
    "triglycerides": Measure(
        "中性脂肪",
        "2571-8",
        "Triglyceride [Mass/volume] in Serum or Plasma",
        None,
        Kind.LAB,
        limit=GuidanceLimit(below=150),
    ),
}
# 腹囲's limit depends on sex (ISO/IEC 5218: 1 male, 2 female).
WAIST_LIMITS = {1: GuidanceLimit(below=85, step=0.1), 2: GuidanceLimit(below=90, step=0.1)}
# The two judgements the result sheet ends with (JLAC10 codes of the 特定健診 XML).
METABOLIC_JUDGEMENT = "9N501000000000011"  # メタボリックシンドローム判定
GUIDANCE_LEVEL = "9N506000000000011"  # 保健指導レベル

_PROFILES = {
    Kind.BODY: JP_OBSERVATION_BODY_MEASUREMENT,
    Kind.VITAL: JP_OBSERVATION_VITAL_SIGNS,
    Kind.LAB: JP_OBSERVATION_LAB_RESULT,
}


def _categories(measure: Measure) -> list[dict[str, Any]]:
    categories = [_concept(_coding(SIMPLE_OBSERVATION_CATEGORY_CS, measure.kind.value))]
    if measure.kind is Kind.BODY and measure.body_category is not None:
        categories.append(_concept(_coding(BODY_MEASUREMENT_CATEGORY_CS, measure.body_category)))
    if measure.kind is Kind.VITAL:
        categories.append(_concept(_coding(VITAL_SIGNS_CATEGORY_CS, "blood-pressure", "血圧")))
    return categories


def _observation_base(kind: str, record: CheckupRecord, patient_ref: str, profile: str) -> Resource:
    return {
        "resourceType": "Observation",
        "id": _local_id("checkup", patient_ref, record.examined_on.isoformat(), kind),
        "meta": {"profile": [profile]},
        "status": "final",
    }


def checkup_observations(record: CheckupRecord, *, patient_ref: str, sex: int) -> list[Resource]:
    """JP Core Observations for one 特定健診: one per measured item, then the two judgements.

    Each item has its LOINC code, the JLAC10 code where it does not depend on an unrecorded
    method, a UCUM quantity and the examination date. Height, weight, BMI and 腹囲 follow
    JP_Observation_BodyMeasurement, blood pressure JP_Observation_VitalSigns (systolic and
    diastolic as two Observations, not an 85354-9 panel), blood tests
    JP_Observation_LabResult. Where a 保健指導判定値 applies the Observation carries it as
    ``referenceRange`` and an interpretation H/L/N computed from the limit itself (BMI 24.9
    is N, 25.0 is H; HDL 39 is L). 腹囲's limit needs ``sex`` (ISO/IEC 5218); with another
    value it has neither range nor interpretation. 中性脂肪 uses the fasting limit: the
    records do not say whether the blood was taken fasting. The institution, known only by
    name, is the performer's display.
    """
    performer = [{"display": record.institution}]
    units = dict(CHECKUP_MEASURES)
    observations: list[Resource] = []
    for field, value in record.measures:
        measure = MEASURES[field]
        unit = units[field]
        codings = [_coding(LOINC, measure.loinc, measure.loinc_display)]
        if measure.jlac10 is not None:
            codings.append(_coding(JLAC10_CS, measure.jlac10, measure.label))
        observation = _observation_base(field, record, patient_ref, _PROFILES[measure.kind])
        observation |= {
            "category": _categories(measure),
            "code": _concept(*codings, text=measure.label),
            "subject": _reference(patient_ref),
            "effectiveDateTime": record.examined_on.isoformat(),
            "performer": performer,
            "valueQuantity": _ucum(value, unit),
        }
        limit = WAIST_LIMITS.get(sex) if field == "waist_cm" else measure.limit
        if limit is not None:
            flag = limit.flag(value)
            observation["interpretation"] = [
                _concept(_coding(INTERPRETATION_CS, flag.value, _FLAG_DISPLAY[flag]))
            ]
            observation["referenceRange"] = [limit.reference_range(unit)]
        observations.append(observation)
    for kind, code, label, text in (
        (
            "metabolic",
            METABOLIC_JUDGEMENT,
            "メタボリックシンドローム判定",
            record.metabolic_judgement,
        ),
        ("guidance", GUIDANCE_LEVEL, "保健指導レベル", record.guidance_level),
    ):
        observation = _observation_base(kind, record, patient_ref, JP_OBSERVATION_COMMON)
        observation |= {
            "code": _concept(_coding(JLAC10_CS, code, label), text=label),
            "subject": _reference(patient_ref),
            "effectiveDateTime": record.examined_on.isoformat(),
            "performer": performer,
            "valueString": text,
        }
        observations.append(observation)
    return observations


# --- 診療情報 and 医療費通知 ------------------------------------------------------------


def procedure(record: ClinicalRecord, *, patient_ref: str, institution_ref: str) -> Resource:
    """Procedure (JP_Procedure, from JP Core 1.2; JP Core 1.1 had no Procedure profile).

    The 診療行為コード is coded in JP Core's 医科診療行為マスタ system; the institution is
    the performer. R4 Procedure has no element for 外来/入院 (that belongs to an Encounter
    the records do not have), so the setting is a note.
    """
    return {
        "resourceType": "Procedure",
        "id": _local_id(
            "procedure",
            patient_ref,
            record.treated_on.isoformat(),
            record.institution_code,
            record.procedure_code,
        ),
        "meta": {"profile": [JP_PROCEDURE]},
        "status": "completed",
        "code": _concept(
            _coding(PROCEDURE_CODE_CS, record.procedure_code, record.procedure_name),
            text=record.procedure_name,
        ),
        "subject": _reference(patient_ref),
        "performedDateTime": record.treated_on.isoformat(),
        "performer": [{"actor": _reference(institution_ref)}],
        "note": [{"text": record.setting}],
    }


_CLAIM_TYPES = {
    "医科外来": ("professional", "Professional"),
    "医科入院": ("institutional", "Institutional"),
    "歯科": ("oral", "Oral"),
    "調剤": ("pharmacy", "Pharmacy"),
}


def _month_period(month: str) -> dict[str, str]:
    first = date.fromisoformat(f"{month}-01")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return {"start": first.isoformat(), "end": (following - timedelta(days=1)).isoformat()}


def _yen(amount: int) -> dict[str, Any]:
    return {"value": amount, "currency": "JPY"}


def explanation_of_benefit(
    record: ExpenseRecord,
    *,
    patient_ref: str,
    insurer_ref: str,
    coverage_ref: str,
    provider_ref: str,
    created: date,
) -> Resource:
    """医療費通知 as a base R4 ExplanationOfBenefit (JP Core profiles none; no meta.profile).

    One month (``billablePeriod``) at one institution (``provider``): the total cost
    (``submitted``), what the patient paid at the counter (``copay``) and the rest the
    insurer bore (``benefit``). The kind maps to the HL7 claim type (医科外来 professional,
    医科入院 institutional, 歯科 oral, 調剤 pharmacy); the number of days is not carried,
    EOB having no element for it outside per-item detail the notice does not give.
    ``created`` is the day the notice was made.
    """
    if record.kind not in _CLAIM_TYPES:
        raise ValueError(record.kind)
    code, display = _CLAIM_TYPES[record.kind]
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": _local_id("expense", patient_ref, record.month, record.institution_code, record.kind),
        "status": "active",
        "type": _concept(_coding(CLAIM_TYPE_CS, code, display), text=record.kind),
        "use": "claim",
        "patient": _reference(patient_ref),
        "billablePeriod": _month_period(record.month),
        "created": created.isoformat(),
        "insurer": _reference(insurer_ref),
        "provider": _reference(provider_ref),
        "outcome": "complete",
        "insurance": [{"focal": True, "coverage": _reference(coverage_ref)}],
        "total": [
            {
                "category": _concept(_coding(ADJUDICATION_CS, "submitted", "Submitted Amount")),
                "amount": _yen(record.total_cost),
            },
            {
                "category": _concept(_coding(ADJUDICATION_CS, "copay", "CoPay")),
                "amount": _yen(record.paid),
            },
            {
                "category": _concept(_coding(ADJUDICATION_CS, "benefit", "Benefit Amount")),
                "amount": _yen(record.total_cost - record.paid),
            },
        ],
    }


# --- Bundles of what one answer holds ------------------------------------------------------


def health_bundle(
    *,
    coverage_record: CoverageRecord,
    seed: str,
    timestamp: datetime,
    include_limit: bool = False,
    medications: Iterable[MedicationRecord] = (),
    clinical: Iterable[ClinicalRecord] = (),
    checkups: Iterable[CheckupRecord] = (),
    expenses: Iterable[ExpenseRecord] = (),
) -> Resource:
    """One person's coverage and the records given, as a ``collection`` Bundle.

    The Patient, the insurer and every institution named by code appear once; each
    record's resource refers to them by their ``fullUrl``. ``seed`` makes the uuids (use
    something unique to the answer, e.g. the visit id, so two answers never share them).
    """
    person = patient(coverage_record, patient_id=_local_id("patient", seed))
    insurer = organization_insurer(coverage_record.insurer_number, coverage_record.insurer_name)
    person_ref = full_url(person, seed=seed)
    insurer_ref = full_url(insurer, seed=seed)
    covered = coverage(
        coverage_record,
        patient_ref=person_ref,
        insurer_ref=insurer_ref,
        include_limit=include_limit,
    )
    entries: dict[str, Resource] = {}
    for resource in (person, insurer, covered):
        entries[full_url(resource, seed=seed)] = resource

    def institution(code: str, name: str) -> str:
        organization = organization_institution(code, name)
        ref = full_url(organization, seed=seed)
        entries.setdefault(ref, organization)
        return ref

    for dispensed in medications:
        pharmacy = institution(dispensed.pharmacy_code, dispensed.pharmacy)
        resource = medication_dispense(dispensed, patient_ref=person_ref, pharmacy_ref=pharmacy)
        entries.setdefault(full_url(resource, seed=seed), resource)
    for treated in clinical:
        where = institution(treated.institution_code, treated.institution)
        resource = procedure(treated, patient_ref=person_ref, institution_ref=where)
        entries.setdefault(full_url(resource, seed=seed), resource)
    for examined in checkups:
        for observation in checkup_observations(
            examined, patient_ref=person_ref, sex=coverage_record.sex
        ):
            entries.setdefault(full_url(observation, seed=seed), observation)
    coverage_ref = full_url(covered, seed=seed)
    for expense in expenses:
        provider = institution(expense.institution_code, expense.institution)
        resource = explanation_of_benefit(
            expense,
            patient_ref=person_ref,
            insurer_ref=insurer_ref,
            coverage_ref=coverage_ref,
            provider_ref=provider,
            created=timestamp.date(),
        )
        entries.setdefault(full_url(resource, seed=seed), resource)
    return bundle(entries.values(), seed=seed, timestamp=timestamp)
