"""The institution API's documented answers, as a fake service and the templates use them."""

from __future__ import annotations

CLINIC = "1310110018"
PHARMACY = "1340110012"

COVERAGE = {
    "name": "山田 太郎",
    "name_kana": "ヤマダ タロウ",
    "birth_date": "1985-04-12",
    "sex": 1,
    "insurer_number": "06132013",
    "insurer_name": "みなと健康保険組合",
    "symbol": "12",
    "number": "345",
    "branch": "00",
    "insured_type": "被保険者",
    "acquired_on": "2015-04-01",
    "lost_on": None,
    "valid_until": None,
    "copay_percent": 30,
    "limit_category": "ウ",
}
RESULT = {
    "status": "valid",
    "confirmed_on": "2026-12-03",
    "method": "pin",
    "institution_code": CLINIC,
    "visit_id": "v1",
    "coverage": COVERAGE,
    "consents": {
        "medication": True,
        "checkup": True,
        "limit": True,
        "view_until": "2026-12-04T03:00:00+00:00",
    },
    "medications": [
        {
            "dispensed_on": "2026-11-20",
            "pharmacy": "さくら薬局 港店",
            "pharmacy_code": PHARMACY,
            "prescribed_by": "みなと内科クリニック",
            "drug_name": "アムロジピン錠5mg",
            "drug_code": "2171022F1",
            "daily_amount": 1.0,
            "unit": "錠",
            "usage": "1日1回朝食後",
            "days": 28,
        }
    ],
    "clinical": [],
    "checkups": [
        {
            "examined_on": "2026-06-01",
            "institution": "みなと健診センター",
            "measures": [
                {"name": "systolic_bp", "value": 142.0, "unit": "mm[Hg]"},
                {"name": "hdl_cholesterol", "value": 55.0, "unit": "mg/dL"},
            ],
            "metabolic_judgement": "予備群該当",
            "guidance_level": "動機付け支援",
        }
    ],
}
BUNDLE = {"resourceType": "Bundle", "type": "collection", "entry": []}
