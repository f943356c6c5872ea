"""What the counter's screens show, worked out from the service's answers (pure).

Labels are English message ids translated on display; the 和暦 dates are the
templates' ``wareki`` filter. Nothing here reads or writes anything.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date

from myna.counter.client import Checkup, Eligibility, Measure
from myna.counter.identity import InstitutionIdentity
from myna.platform.errors import N_
from myna.platform.i18n import gettext as _

# The 3rd digit of a 医療機関コード is its fee schedule: 1 医科, 3 歯科, 4 調剤 (pharmacy).
_KINDS = {"1": N_("Clinic (medical)"), "3": N_("Clinic (dental)"), "4": N_("Pharmacy")}
_OTHER_KIND = N_("Medical institution")

# 特定健診の保健指導判定値 (標準的な健診・保健指導プログラム): a value at or beyond
# the bound is marked. (measure, bound, True when "at or above", False when "below").
_GUIDANCE: dict[str, tuple[float, bool]] = {
    "bmi": (25.0, True),
    "systolic_bp": (130.0, True),
    "diastolic_bp": (85.0, True),
    "hba1c": (5.6, True),
    "ldl_cholesterol": (120.0, True),
    "hdl_cholesterol": (40.0, False),
    "triglycerides": (150.0, True),
}
_WAIST = {1: 85.0, 2: 90.0}  # 腹囲: men 85 cm, women 90 cm

_MEASURE_NAMES = {
    "height_cm": N_("Height"),
    "weight_kg": N_("Weight"),
    "bmi": N_("Body mass index (BMI)"),
    "waist_cm": N_("Waist circumference"),
    "systolic_bp": N_("Blood pressure (systolic)"),
    "diastolic_bp": N_("Blood pressure (diastolic)"),
    "hba1c": N_("HbA1c (glycated haemoglobin)"),
    "ldl_cholesterol": N_("LDL cholesterol"),
    "hdl_cholesterol": N_("HDL cholesterol"),
    "triglycerides": N_("Triglycerides"),
}
_UNITS = {"mm[Hg]": "mmHg", "kg/m2": "kg/m²"}
_INSURED = {"被保険者": N_("Insured person (本人)"), "被扶養者": N_("Dependant (家族)")}
_METHODS = {
    "pin": N_("My Number card with PIN"),
    "face": N_("My Number card, face confirmed by staff"),
    "by-number": N_("資格確認書 (insured number and date of birth)"),
}


def institution_kind(code: str) -> str:
    """Clinic, dental clinic or pharmacy, from the 医療機関コード."""
    return _(_KINDS.get(code[2:3], _OTHER_KIND))


@dataclass(frozen=True, slots=True)
class InstitutionView:
    """An institution configured at this counter."""

    code: str
    name: str
    kind: str
    pharmacy: bool

    @classmethod
    def of(cls, identity: InstitutionIdentity) -> InstitutionView:
        """The institution as the screens name it."""
        return cls(
            identity.code,
            identity.name,
            institution_kind(identity.code),
            identity.code[2:3] == "4",
        )


@dataclass(frozen=True, slots=True)
class MeasureView:
    """One checkup value, with its unit and whether it is beyond the guidance level."""

    label: str
    value: str
    unit: str
    beyond_guidance: bool


@dataclass(frozen=True, slots=True)
class CheckupView:
    """One year's 特定健診."""

    examined_on: date
    institution: str
    measures: list[MeasureView]
    metabolic_judgement: str
    guidance_level: str


@dataclass(frozen=True, slots=True)
class ResultView:
    """資格確認結果 as the institution's screen shows it."""

    answer: Eligibility
    status: str
    status_ok: bool
    insured_type: str
    copay: str
    method: str
    checkups: list[CheckupView] | None = field(default=None)


def _number(value: float) -> str:
    return f"{value:g}"


def _beyond(measure: Measure, sex: int) -> bool:
    if measure.name == "waist_cm":
        return measure.value >= _WAIST.get(sex, 85.0)
    rule = _GUIDANCE.get(measure.name)
    if rule is None:
        return False
    bound, upward = rule
    return measure.value >= bound if upward else measure.value < bound


def _checkup(checkup: Checkup, sex: int) -> CheckupView:
    return CheckupView(
        examined_on=checkup.examined_on,
        institution=checkup.institution,
        measures=[
            MeasureView(
                label=_(_MEASURE_NAMES[m.name]) if m.name in _MEASURE_NAMES else m.name,
                value=_number(m.value),
                unit=_UNITS.get(m.unit, m.unit),
                beyond_guidance=_beyond(m, sex),
            )
            for m in checkup.measures
        ],
        metabolic_judgement=checkup.metabolic_judgement,
        guidance_level=checkup.guidance_level,
    )


def copay_label(percent: int) -> str:
    """負担割合: 3割 in Japanese, 30% in English."""
    return _("{percent}% co-payment").format(percent=percent, tenths=_number(percent / 10))


def result_view(answer: Eligibility) -> ResultView:
    """The answer with its labels worked out."""
    coverage = answer.coverage
    if answer.status == "valid":
        status = _("Valid")
    elif answer.status == "lost":
        status = _("Coverage lost (資格喪失)")
    elif answer.status == "not_yet":
        status = _("Not yet covered (未取得)")
    else:
        status = answer.status
    return ResultView(
        answer=answer,
        status=status,
        status_ok=answer.status == "valid",
        insured_type=_(_INSURED[coverage.insured_type])
        if coverage.insured_type in _INSURED
        else coverage.insured_type,
        copay=copay_label(coverage.copay_percent),
        method=_(_METHODS[answer.method]) if answer.method in _METHODS else answer.method,
        checkups=None
        if answer.checkups is None
        else [_checkup(c, coverage.sex) for c in answer.checkups],
    )


# ---- the 資格確認書 form -----------------------------------------------------------

BY_NUMBER_FIELDS = ("insurer_number", "symbol", "number", "branch", "birth_date")


def _half_width(value: str) -> str:
    # Numbers typed on a Japanese keyboard arrive full-width (１２３): NFKC folds them.
    return unicodedata.normalize("NFKC", value).strip()


def check_by_number(
    values: dict[str, str], *, today: date
) -> tuple[dict[str, str], dict[str, str]]:
    """The form's values normalised, and a message per field that is not right."""
    clean = {name: _half_width(values.get(name, "")) for name in BY_NUMBER_FIELDS}
    errors: dict[str, str] = {}
    insurer = clean["insurer_number"]
    if not (insurer.isascii() and insurer.isdigit() and len(insurer) in (6, 8)):
        errors["insurer_number"] = _("Enter the insurer number: 6 or 8 digits.")
    if len(clean["symbol"]) > 20:
        errors["symbol"] = _("The symbol (記号) is at most 20 characters.")
    if not clean["number"] or len(clean["number"]) > 20:
        errors["number"] = _("Enter the number (番号): 1 to 20 characters.")
    branch = clean["branch"]
    if not (branch.isascii() and branch.isdigit() and len(branch) == 2):
        errors["branch"] = _("Enter the branch number (枝番): 2 digits, such as 00.")
    try:
        born = date.fromisoformat(clean["birth_date"])
    except ValueError:
        errors["birth_date"] = _("Enter the date of birth.")
    else:
        if born > today:
            errors["birth_date"] = _("The date of birth cannot be in the future.")
    return clean, errors
