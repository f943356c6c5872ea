"""What the 確定申告 pages need to render: a return, its fields, the computation."""

from __future__ import annotations

from datetime import UTC, date, datetime

from myna.applications import submission
from myna.tax import (
    LifeInsurancePremiums,
    MedicalChoice,
    RelativeKind,
    SalarySlip,
    TaxReturnInput,
    Tie,
    compute,
    filing,
    load_rules,
)
from myna.tax import service as tax

_AT = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)
_RETURN = tax.TaxReturnRead(
    id=1,
    year=2025,
    name="令和7年分",
    status=tax.DRAFT,
    birth_date=date(1985, 4, 12),
    created_at=_AT,
    updated_at=_AT,
    gathered_at=_AT,
)
_SALARY = tax.FieldRead(
    id=7,
    section="salary",
    group_key="dlv-1",
    item="paid",
    label=tax.ITEMS[("salary", "paid")][0],
    value=6_000_000,
    gathered_value=6_100_000,
    source=tax.SourceRead(tax.DOCUMENT, "株式会社みなと商事", "dlv-1", "GS-1", date(2026, 1, 20)),
    corrections=1,
)
_MEDICAL = tax.FieldRead(
    id=8,
    section="medical",
    group_key="notice",
    item="paid",
    label=tax.ITEMS[("medical", "paid")][0],
    value=130_000,
    gathered_value=130_000,
    source=tax.SourceRead(
        tax.MEDICAL_NOTICE, tax.SECTIONS["medical"], None, None, date(2026, 2, 10)
    ),
    corrections=0,
)

_SPOUSE = tax.FieldRead(
    id=9,
    section=tax.SPOUSE,
    group_key="spouse:1987-09-03:妻",
    item=tax.INCOME,
    label=tax.ITEMS[(tax.SPOUSE, tax.INCOME)][0],
    value=250_000,
    gathered_value=250_000,
    source=tax.SourceRead(tax.MUNICIPALITY, "市区町村の課税台帳", None, None, date(2026, 2, 10)),
    corrections=0,
)
_CHILD = tax.FieldRead(
    id=10,
    section=tax.DEPENDANTS,
    group_key="relative:2008-05-01:子",
    item=tax.INCOME,
    label=tax.ITEMS[(tax.DEPENDANTS, tax.INCOME)][0],
    value=0,
    gathered_value=0,
    source=tax.SourceRead(tax.ASSUMED, "不明", None, None, date(2026, 2, 10)),
    corrections=0,
)
_SELF_MEDICATION = tax.FieldRead(
    id=11,
    section=tax.SELF_MEDICATION,
    group_key=tax.RESIDENT_GROUP,
    item=tax.SPENT,
    label=tax.ITEMS[(tax.SELF_MEDICATION, tax.SPENT)][0],
    value=50_000,
    gathered_value=50_000,
    source=tax.SourceRead(tax.RESIDENT, "本人", None, None, date(2026, 2, 10)),
    corrections=0,
)

_COMPUTATION = compute(
    load_rules(2025),
    TaxReturnInput(
        year=2025,
        birth_date=date(1985, 4, 12),
        salaries=(SalarySlip(paid=6_000_000, withheld=200_000, social_insurance=900_000),),
        life_insurance=LifeInsurancePremiums(new_general=100_000),
    ),
)
_SIGNING = submission.SigningRequestView(
    id="r" * 43,
    municipality_code="",
    procedure_code=filing.PROCEDURE_CODE,
    procedure_name=filing.procedure_name(2025),
    municipality_name="神田税務署",
    content=b"{}",
    content_sha256="0" * 64,
    expires_at=_AT,
    receipt_number=None,
    purpose=filing.PURPOSE,
)

CONTEXT = {
    "tax_returns": [_RETURN],
    "tax_offer_year": 2025,
    "tax_offer_name": "令和7年分",
    "tax_offer_started": False,
    "tax_return": _RETURN,
    "tax_offers": [
        tax.Offer(
            "salary", "salary", tax.SECTIONS["salary"], "6,000,000円（株式会社みなと商事）", _AT
        ),
        tax.Offer("certificate:dlv-2", "life_insurance", "ひかり生命", "100,000円", _AT),
        tax.Offer("medical", "medical", tax.SECTIONS["medical"], "", None),
    ],
    "tax_sections": [
        (tax.SECTIONS["salary"], [_SALARY]),
        (tax.SECTIONS["medical"], [_MEDICAL]),
        (tax.SECTIONS["self_medication"], [_SELF_MEDICATION]),
    ],
    "tax_relatives": [
        tax.RelativeRead(
            field=_SPOUSE,
            tie=Tie.SPOUSE,
            relation="妻",
            birth_date=date(1987, 9, 3),
            age=38,
            kind=RelativeKind.SPOUSE,
            amount=380_000,
        ),
        tax.RelativeRead(
            field=_CHILD,
            tie=Tie.RELATIVE,
            relation="子",
            birth_date=date(2008, 5, 1),
            age=17,
            kind=None,
            amount=0,
        ),
    ],
    "tax_medical": tax.MedicalOptions(
        medical_expenses=30_000,
        self_medication=38_000,
        better=MedicalChoice.SELF_MEDICATION,
        chosen=MedicalChoice.MEDICAL_EXPENSES,
        spent=50_000,
    ),
    "tax_previous": tax.PreviousRead(
        year=2024,
        name="令和6年分",
        found=True,
        total_income=4_200_000,
        total_tax=160_000,
        due=0,
        refund=12_000,
        filed_on=date(2025, 2, 20),
        receipt_number="20250220103045123456",
        read_at=_AT,
    ),
    "tax_notes": ["household-incomplete", "incomes-unavailable"],
    "tax_computation": _COMPUTATION,
    "tax_computation_problem": None,
    "tax_filing": filing.FilingRead(
        receipt_number="20260215103045123456",
        office_name="神田税務署",
        signer_name="山田 太郎",
        certificate_serial="32cff42e5c",
        signed_at=_AT,
        filed_at=_AT,
        declared_tax=-20_000,
        refund=20_000,
        due=0,
        deadline=None,
    ),
    "tax_xml_name": filing.xml_name(2025),
    "submission_key": "k" * 43,
    "tax_year": 2025,
    "tax_signing": _SIGNING,
    "tax_signing_state": {"state": "pending"},
    "tax_signing_answers": filing.answers(_COMPUTATION),
    "tax_signing_applicant": "山田 太郎",
    "tax_signing_attachments": [{"name": filing.xml_name(2025), "sha256": "0" * 64}],
    "tax_signing_link": "http://127.0.0.1:8001/sign?request_uri=x",
    "problem_field": 7,
    "tax_corrections": [
        tax.CorrectionRead(
            id=1,
            field_id=7,
            section="salary",
            label=tax.ITEMS[("salary", "paid")][0],
            source_name="株式会社みなと商事",
            old_value=6_100_000,
            new_value=6_000_000,
            corrected_by=1,
            corrected_at=_AT,
        ),
        tax.CorrectionRead(
            id=2,
            field_id=12,
            section=tax.SELF_MEDICATION,
            label=tax.ITEMS[(tax.SELF_MEDICATION, tax.CLAIMED)][0],
            source_name="本人",
            old_value=0,
            new_value=1,
            corrected_by=1,
            corrected_at=_AT,
            choice=True,
        ),
    ],
}
