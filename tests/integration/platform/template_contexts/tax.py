"""What the 確定申告 pages need to render: a return, its fields, the computation."""

from __future__ import annotations

from datetime import UTC, date, datetime

from myna.applications import submission
from myna.tax import LifeInsurancePremiums, SalarySlip, TaxReturnInput, compute, filing, load_rules
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
    ],
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
        )
    ],
}
