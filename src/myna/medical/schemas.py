"""The institution API's answers (JSON), as OpenAPI shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from myna.medical.records import CHECKUP_MEASURES

if TYPE_CHECKING:
    from myna.medical.service import Eligibility


class VisitStartedRead(BaseModel):
    """A reception waiting for the card at the reader."""

    visit_id: str
    institution_code: str
    nonce: str = Field(description="What the card signs, with the protocol and the visit id")
    protocol: str = "myna-eligibility-v1"
    expires_at: datetime


class IdentifiedRead(BaseModel):
    """The card verified and registered: ask the patient's consents next."""

    visit_id: str
    method: str = Field(description="pin, or face (confirmed by staff)")
    next: str = "consents"


class ConsentsRead(BaseModel):
    """What the patient agreed to share with this visit."""

    medication: bool = Field(description="過去の診療・薬剤情報の提供")
    checkup: bool = Field(description="特定健診情報の提供")
    limit: bool = Field(description="限度額情報の提供")
    view_until: datetime = Field(description="The end of the 24-hour viewing window")


class CoverageRead(BaseModel):
    """資格情報."""

    name: str
    name_kana: str
    birth_date: date
    sex: int = Field(description="ISO/IEC 5218: 1 male, 2 female")
    insurer_number: str
    insurer_name: str
    symbol: str
    number: str
    branch: str
    insured_type: str = Field(description="被保険者 or 被扶養者")
    acquired_on: date
    lost_on: date | None
    valid_until: date | None
    copay_percent: int
    limit_category: str | None = Field(
        description="限度額適用認定の区分: only when the patient consented to 限度額情報"
    )


class MedicationRead(BaseModel):
    """薬剤情報: one drug dispensed."""

    dispensed_on: date
    pharmacy: str
    pharmacy_code: str
    prescribed_by: str
    drug_name: str
    drug_code: str = Field(description="YJ code")
    daily_amount: float
    unit: str
    usage: str
    days: int


class ClinicalRead(BaseModel):
    """診療情報: one procedure at a visit."""

    treated_on: date
    institution: str
    institution_code: str
    setting: str
    procedure_name: str
    procedure_code: str


class MeasureRead(BaseModel):
    """One measured value of a checkup."""

    name: str = Field(description=", ".join(name for name, _ in CHECKUP_MEASURES))
    value: float
    unit: str


class CheckupRead(BaseModel):
    """特定健診情報: one year's checkup."""

    examined_on: date
    institution: str
    measures: list[MeasureRead]
    metabolic_judgement: str
    guidance_level: str


class EligibilityRead(BaseModel):
    """資格確認結果: what the institution receives."""

    status: str = Field(description="valid, lost (資格喪失: see lost_on) or not_yet")
    confirmed_on: date
    method: str = Field(description="pin, face (staff-confirmed) or by-number")
    institution_code: str
    visit_id: str | None
    coverage: CoverageRead
    consents: ConsentsRead | None
    medications: list[MedicationRead] | None = Field(description="Only when consented")
    clinical: list[ClinicalRead] | None = Field(description="Only when consented")
    checkups: list[CheckupRead] | None = Field(description="Only when consented")


def eligibility_read(result: Eligibility) -> EligibilityRead:
    """The JSON answer for an eligibility result: consented parts only."""
    coverage = result.coverage
    consents = result.consents
    measure_units = dict(CHECKUP_MEASURES)
    return EligibilityRead(
        status=result.status,
        confirmed_on=result.confirmed_on,
        method=result.method,
        institution_code=result.institution.code,
        visit_id=result.visit_id,
        coverage=CoverageRead(
            name=coverage.name,
            name_kana=coverage.name_kana,
            birth_date=coverage.birth_date,
            sex=coverage.sex,
            insurer_number=coverage.insurer_number,
            insurer_name=coverage.insurer_name,
            symbol=coverage.symbol,
            number=coverage.number,
            branch=coverage.branch,
            insured_type=coverage.insured_type,
            acquired_on=coverage.acquired_on,
            lost_on=coverage.lost_on,
            valid_until=coverage.valid_until,
            copay_percent=coverage.copay_percent,
            limit_category=coverage.limit_category if result.shows_limit else None,
        ),
        consents=None
        if consents is None
        else ConsentsRead(
            medication=consents.medication,
            checkup=consents.checkup,
            limit=consents.limit,
            view_until=consents.view_until,
        ),
        medications=[
            MedicationRead.model_validate(m, from_attributes=True) for m in result.medications
        ]
        if consents is not None and consents.medication
        else None,
        clinical=[ClinicalRead.model_validate(c, from_attributes=True) for c in result.clinical]
        if consents is not None and consents.medication
        else None,
        checkups=[
            CheckupRead(
                examined_on=c.examined_on,
                institution=c.institution,
                measures=[
                    MeasureRead(name=name, value=value, unit=measure_units[name])
                    for name, value in c.measures
                ],
                metabolic_judgement=c.metabolic_judgement,
                guidance_level=c.guidance_level,
            )
            for c in result.checkups
        ]
        if consents is not None and consents.checkup
        else None,
    )
