"""確定申告: the income tax return, computed from the year's rules (rules as data).

The pure part comes first: :func:`compute` turns the figures of the documents gathered
(:class:`TaxReturnInput`) into a :class:`TaxComputation` with every figure of the return
by name, under the year's :class:`TaxRules` read by :func:`load_rules` from
``data/<year>.toml``. The return itself (``service``: start, gather, correct, compute)
reads the resident's delivered documents through :class:`DocumentSource`.
"""

from myna.tax.domain import (
    Disability,
    EarthquakePremiums,
    HouseholdRelative,
    InputProblem,
    LifeInsurancePremiums,
    MedicalChoice,
    MedicalExpenses,
    PensionSlip,
    Relative,
    RelativeKind,
    SalarySlip,
    TaxComputation,
    TaxInputError,
    TaxReturnInput,
    TaxRules,
    TaxRulesFileError,
    Tie,
    UnknownTaxYearError,
    better_medical_choice,
    compute,
    household_relatives,
)
from myna.tax.interfaces import DeliveredDocument, DocumentSource, NoDeliveredDocuments
from myna.tax.rules import available_years, load_rules

__all__ = [
    "DeliveredDocument",
    "Disability",
    "DocumentSource",
    "EarthquakePremiums",
    "HouseholdRelative",
    "InputProblem",
    "LifeInsurancePremiums",
    "MedicalChoice",
    "MedicalExpenses",
    "NoDeliveredDocuments",
    "PensionSlip",
    "Relative",
    "RelativeKind",
    "SalarySlip",
    "TaxComputation",
    "TaxInputError",
    "TaxReturnInput",
    "TaxRules",
    "TaxRulesFileError",
    "Tie",
    "UnknownTaxYearError",
    "available_years",
    "better_medical_choice",
    "compute",
    "household_relatives",
    "load_rules",
]
