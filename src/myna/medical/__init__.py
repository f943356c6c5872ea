"""マイナ保険証 and オンライン資格確認: insurers, coverage, institutions, eligibility.

This package starts with the pure rules (``domain``): insurer and institution numbers
with their check digits, insured ids, and the patient's share of costs by age and income;
``records`` reads what insurers hold, and ``fhir`` turns those records into FHIR R4
resources after the JP Core profiles.
"""

from myna.medical.domain import (
    CopayPercent,
    IncomeBand,
    InstitutionCode,
    InsuranceNumberError,
    InsuredId,
    InsurerNumber,
    LawNumber,
    ScoreTable,
    check_digit,
    copay_percent,
    late_elderly_from,
)
from myna.medical.usage import count_eligibility_confirmations

__all__ = [
    "CopayPercent",
    "IncomeBand",
    "InstitutionCode",
    "InsuranceNumberError",
    "InsuredId",
    "InsurerNumber",
    "LawNumber",
    "ScoreTable",
    "check_digit",
    "copay_percent",
    "count_eligibility_confirmations",
    "late_elderly_from",
]
