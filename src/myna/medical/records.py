"""What insurers hold about a person, as オンライン資格確認 reads it (pure).

The insurers keep these items in their replica stores (中間サーバー) and answer them
through the hub; the field names are the items' (``agencies/data/items.toml``):

* ``health-insurance`` — the coverage (資格情報): who, which insurer, 記号・番号・枝番,
  acquisition and loss dates, the share of costs and the 限度額 category;
* ``medication`` — 薬剤情報: one record per drug dispensed;
* ``specific-checkup`` — 特定健診情報: one record per yearly checkup (ages 40–74);
* ``clinical-record`` — 診療情報: one record per procedure at a visit;
* ``medical-expense`` — 医療費通知情報: one record per month, institution and kind.

Each ``from_payload`` reads one record's payload and raises ``ValueError`` (or
``KeyError``/``TypeError``) on anything malformed: the caller turns that into a refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from myna.platform.errors import N_, MynaError

COVERAGE_ITEM = "health-insurance"
MEDICATION_ITEM = "medication"
CHECKUP_ITEM = "specific-checkup"
CLINICAL_ITEM = "clinical-record"
EXPENSE_ITEM = "medical-expense"

INSURED = "被保険者"
DEPENDANT = "被扶養者"

Parsed = TypeVar("Parsed")


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise TypeError(value)
    return date.fromisoformat(value)


def _optional_date(value: Any) -> date | None:
    return None if value in (None, "") else _date(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    return float(value)


class MalformedRecordError(MynaError, code="malformed_health_record", status_code=502):
    """An insurer's record that does not read as its item's schema says."""

    message = N_(
        "The insurer's answer could not be read. Please try again later; if it persists, "
        "tell the insurer."
    )


def read_coverage(payload: dict[str, Any]) -> CoverageRecord:
    """A coverage record, or MalformedRecordError."""
    try:
        return CoverageRecord.from_payload(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedRecordError from exc


@dataclass(frozen=True, slots=True)
class CoverageRecord:
    """資格情報: one person's coverage at one insurer."""

    name: str
    name_kana: str
    birth_date: date
    sex: int  # ISO/IEC 5218: 1 male, 2 female
    insurer_number: str
    insurer_name: str
    symbol: str  # 記号 (empty for 後期高齢者医療, which has none)
    number: str  # 番号
    branch: str  # 枝番, two digits
    insured_type: str  # 被保険者 or 被扶養者
    acquired_on: date  # 資格取得年月日
    lost_on: date | None  # 資格喪失年月日
    valid_until: date | None  # 有効期限 (後期高齢者医療: 31 July each year)
    copay_percent: int  # 一部負担金の割合
    limit_category: str  # 限度額適用認定の区分 (高額療養費の所得区分)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CoverageRecord:
        """Read a ``health-insurance`` record."""
        return cls(
            name=_text(payload["name"]),
            name_kana=_text(payload["name_kana"]),
            birth_date=_date(payload["birth_date"]),
            sex=_int(payload["sex"]),
            insurer_number=_text(payload["insurer_number"]),
            insurer_name=_text(payload["insurer_name"]),
            symbol=_text(payload.get("insured_symbol", "")),
            number=_text(payload["insured_number"]),
            branch=_text(payload["insured_branch"]),
            insured_type=_text(payload["insured_type"]),
            acquired_on=_date(payload["acquired_on"]),
            lost_on=_optional_date(payload.get("lost_on")),
            valid_until=_optional_date(payload.get("valid_until")),
            copay_percent=_int(payload["copay_percent"]),
            limit_category=_text(payload["limit_category"]),
        )

    def valid_on(self, day: date) -> bool:
        """Whether the person is covered on ``day`` (acquired, not lost, not past validity)."""
        if day < self.acquired_on:
            return False
        if self.lost_on is not None and day >= self.lost_on:
            return False
        return self.valid_until is None or day <= self.valid_until


@dataclass(frozen=True, slots=True)
class MedicationRecord:
    """薬剤情報: one drug dispensed by a pharmacy (or in-house by a clinic)."""

    dispensed_on: date
    pharmacy: str
    pharmacy_code: str  # 医療機関コード of the pharmacy (点数表 4)
    prescribed_by: str  # the prescribing institution's name
    drug_name: str
    drug_code: str  # YJ code (個別医薬品コード), 12 characters
    daily_amount: float  # e.g. 3 (tablets a day)
    unit: str  # 錠, カプセル, 包, g, mL …
    usage: str  # 用法, e.g. 1日3回毎食後
    days: int  # 投与日数

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> MedicationRecord:
        """Read a ``medication`` record."""
        amount = _number(payload["daily_amount"])
        if amount is None:
            raise ValueError("daily_amount")
        return cls(
            dispensed_on=_date(payload["dispensed_on"]),
            pharmacy=_text(payload["pharmacy"]),
            pharmacy_code=_text(payload["pharmacy_code"]),
            prescribed_by=_text(payload["prescribed_by"]),
            drug_name=_text(payload["drug_name"]),
            drug_code=_text(payload["drug_code"]),
            daily_amount=amount,
            unit=_text(payload["unit"]),
            usage=_text(payload["usage"]),
            days=_int(payload["days"]),
        )


# 特定健診's measured items, in the order the result sheet prints them: (field, unit).
CHECKUP_MEASURES: tuple[tuple[str, str], ...] = (
    ("height_cm", "cm"),
    ("weight_kg", "kg"),
    ("bmi", "kg/m2"),
    ("waist_cm", "cm"),
    ("systolic_bp", "mm[Hg]"),
    ("diastolic_bp", "mm[Hg]"),
    ("hba1c", "%"),
    ("ldl_cholesterol", "mg/dL"),
    ("hdl_cholesterol", "mg/dL"),
    ("triglycerides", "mg/dL"),
)


@dataclass(frozen=True, slots=True)
class CheckupRecord:
    """特定健診情報: one year's specific health checkup (ages 40–74)."""

    examined_on: date
    institution: str
    measures: tuple[tuple[str, float], ...]  # (field of CHECKUP_MEASURES, value) measured
    metabolic_judgement: str  # メタボリックシンドローム判定: 基準該当 / 予備群該当 / 非該当
    guidance_level: str  # 保健指導レベル: 積極的支援 / 動機付け支援 / なし

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CheckupRecord:
        """Read a ``specific-checkup`` record (a measure may be absent)."""
        measures = []
        for name, _unit in CHECKUP_MEASURES:
            value = _number(payload.get(name))
            if value is not None:
                measures.append((name, value))
        return cls(
            examined_on=_date(payload["examined_on"]),
            institution=_text(payload["institution"]),
            measures=tuple(measures),
            metabolic_judgement=_text(payload["metabolic_judgement"]),
            guidance_level=_text(payload["guidance_level"]),
        )


@dataclass(frozen=True, slots=True)
class ClinicalRecord:
    """診療情報: one procedure (診療行為) at a visit."""

    treated_on: date
    institution: str
    institution_code: str
    setting: str  # 外来 or 入院
    procedure_name: str
    procedure_code: str  # 診療行為コード, 9 digits

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ClinicalRecord:
        """Read a ``clinical-record`` record."""
        return cls(
            treated_on=_date(payload["treated_on"]),
            institution=_text(payload["institution"]),
            institution_code=_text(payload["institution_code"]),
            setting=_text(payload["setting"]),
            procedure_name=_text(payload["procedure_name"]),
            procedure_code=_text(payload["procedure_code"]),
        )


@dataclass(frozen=True, slots=True)
class ExpenseRecord:
    """医療費通知情報: what a month's care at one institution cost and what the patient paid."""

    month: str  # YYYY-MM (診療年月)
    institution: str
    institution_code: str
    kind: str  # 医科外来 / 医科入院 / 歯科 / 調剤
    days: int  # 日数
    total_cost: int  # 医療費の総額 (10割), yen
    paid: int  # 窓口負担額, yen

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ExpenseRecord:
        """Read a ``medical-expense`` record."""
        return cls(
            month=_text(payload["month"]),
            institution=_text(payload["institution"]),
            institution_code=_text(payload["institution_code"]),
            kind=_text(payload["kind"]),
            days=_int(payload["days"]),
            total_cost=_int(payload["total_cost"]),
            paid=_int(payload["paid"]),
        )


HEALTH_ITEMS = (COVERAGE_ITEM, MEDICATION_ITEM, CLINICAL_ITEM, CHECKUP_ITEM, EXPENSE_ITEM)


@dataclass(frozen=True, slots=True)
class HealthRecords:
    """What the insurers answered about one person, read item by item, the newest first."""

    coverage: CoverageRecord | None
    medications: tuple[MedicationRecord, ...]
    clinical: tuple[ClinicalRecord, ...]
    checkups: tuple[CheckupRecord, ...]
    expenses: tuple[ExpenseRecord, ...]
    unavailable: tuple[str, ...] = ()

    @classmethod
    def from_payloads(
        cls, payloads: Mapping[str, Sequence[dict[str, Any]]], unavailable: Iterable[str] = ()
    ) -> HealthRecords:
        """Read every item's payloads (an item not asked for reads as none held).

        A record that does not read (a field missing or of the wrong type) raises
        MalformedRecordError: the holder sent something its schema does not allow.
        """
        try:
            return cls._read(payloads, unavailable)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedRecordError from exc

    @classmethod
    def _read(
        cls, payloads: Mapping[str, Sequence[dict[str, Any]]], unavailable: Iterable[str]
    ) -> HealthRecords:
        coverages = payloads.get(COVERAGE_ITEM, ())
        return cls(
            coverage=CoverageRecord.from_payload(coverages[0]) if coverages else None,
            medications=_newest_first(
                payloads.get(MEDICATION_ITEM, ()),
                MedicationRecord.from_payload,
                lambda m: m.dispensed_on,
            ),
            clinical=_newest_first(
                payloads.get(CLINICAL_ITEM, ()), ClinicalRecord.from_payload, lambda c: c.treated_on
            ),
            checkups=_newest_first(
                payloads.get(CHECKUP_ITEM, ()), CheckupRecord.from_payload, lambda c: c.examined_on
            ),
            expenses=_newest_first(
                payloads.get(EXPENSE_ITEM, ()),
                ExpenseRecord.from_payload,
                lambda e: (e.month, e.institution_code, e.kind),
            ),
            unavailable=tuple(unavailable),
        )


def _newest_first(
    payloads: Sequence[dict[str, Any]],
    parse: Callable[[dict[str, Any]], Parsed],
    when: Callable[[Parsed], Any],
) -> tuple[Parsed, ...]:
    """The payloads read as records, the newest first."""
    return tuple(sorted((parse(p) for p in payloads), key=when, reverse=True))
