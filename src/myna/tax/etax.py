"""The return as e-Tax-shaped form data (RKO0010 / KOA020), checked against Myna's XSD.

:func:`return_xml` writes the computation and each field's source into the XML that is
signed and filed; the schema ``schemas/income-tax-return.xsd`` says what it may hold and
the module docstring there how it follows e-Tax's data. The output is canonical (C14N
1.1): the same return gives the same bytes, so its SHA-256 names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree

from myna.tax.domain import MedicalChoice, TaxComputation

NAMESPACE = "urn:myna:tax:RKO0010:1"
PROCEDURE = "RKO0010"  # 所得税及び復興特別所得税申告
FORM = "KOA020"  # 申告書 第一表・第二表
SCHEMA_PATH = Path(__file__).parent / "schemas" / "income-tax-return.xsd"
MEDIA_TYPE = "application/xml"


@dataclass(frozen=True, slots=True)
class Taxpayer:
    """Who files: the 本人確認情報 the hub answered for the return."""

    name: str
    name_kana: str
    address: str
    birth_date: date


@dataclass(frozen=True, slots=True)
class FieldSource:
    """A filled field and where its value came from, as the XML keeps it."""

    field: str  # section.item, e.g. salary.paid
    value: int
    kind: str  # document / medical_notice / municipality / assumed / resident
    name: str  # the sender, the 医療費通知, or the resident
    document: str | None
    received: date | None
    corrected: bool


class ReturnSchemaError(ValueError):
    """The return written does not meet the schema (a figure out of range, an empty name)."""


@cache
def schema() -> xmlschema.XMLSchema10:
    """The return's XSD, read once."""
    return xmlschema.XMLSchema10(str(SCHEMA_PATH))


def _sub(parent: Any, name: str, text: str | int | None = None) -> Any:
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    if text is not None:
        element.text = str(text)
    return element


def _part(parent: Any, name: str, figures: Sequence[tuple[str, int | str]]) -> None:
    part = _sub(parent, name)
    for tag, value in figures:
        _sub(part, tag, value)


def _medical_kind(computation: TaxComputation) -> str:
    if computation.medical == 0:
        return "none"
    return MedicalChoice(computation.medical_choice).value


def return_xml(
    *,
    computation: TaxComputation,
    nenbun: str,
    office: str,
    taxpayer: Taxpayer,
    sources: Sequence[FieldSource],
) -> bytes:
    """The return as canonical XML, valid against the schema, or :class:`ReturnSchemaError`."""
    c = computation
    root = etree.Element(
        f"{{{NAMESPACE}}}IncomeTaxReturn",
        nsmap={None: NAMESPACE},
        procedure=PROCEDURE,
        year=str(c.year),
        nenbun=nenbun,
        rules=c.rules_name,
    )
    _sub(root, "Office", office)
    person = _sub(root, "Taxpayer")
    _sub(person, "Name", taxpayer.name)
    if taxpayer.name_kana:
        _sub(person, "NameKana", taxpayer.name_kana)
    _sub(person, "Address", taxpayer.address)
    _sub(person, "BirthDate", taxpayer.birth_date.isoformat())
    form = _sub(root, "Form")
    form.set("code", FORM)
    _part(
        form,
        "Revenue",
        [("Salary", c.income.salary_revenue), ("PublicPension", c.income.pension_revenue)],
    )
    _part(
        form,
        "Income",
        [
            ("Salary", c.income.salary_income),
            ("IncomeAdjustment", c.income.income_adjustment),
            ("PublicPension", c.income.pension_income),
            ("Total", c.income.total_income),
        ],
    )
    _part(
        form,
        "Deductions",
        [
            ("SocialInsurance", c.social_insurance),
            ("SmallBusinessMutualAid", c.small_business_mutual_aid),
            ("LifeInsurance", c.life_insurance.total),
            ("EarthquakeInsurance", c.earthquake_insurance),
            ("Disability", c.disability),
            ("Spouse", c.spouse_deduction),
            ("SpouseSpecial", c.spouse_special_deduction),
            ("Dependants", c.dependant_deduction),
            ("SpecifiedRelatives", c.specified_relative_deduction),
            ("Basic", c.basic_deduction),
            ("Medical", c.medical),
            ("MedicalKind", _medical_kind(c)),
            ("Donations", c.donations),
            ("Total", c.total_deductions),
        ],
    )
    _part(
        form,
        "Tax",
        [
            ("TaxableIncome", c.taxable_income),
            ("IncomeTax", c.income_tax),
            ("ReconstructionTax", c.reconstruction_tax),
            ("TotalTax", c.total_tax),
            ("Withheld", c.withheld),
            ("DeclaredTax", c.declared_tax),
            ("Prepaid", c.prepaid_tax),
            ("Due", c.due),
            ("Refund", c.refund),
        ],
    )
    listed = _sub(root, "Sources")
    for source in sources:
        element = _sub(listed, "Source")
        element.set("field", source.field)
        element.set("value", str(source.value))
        element.set("kind", source.kind)
        element.set("name", source.name)
        if source.document:
            element.set("document", source.document)
        if source.received is not None:
            element.set("received", source.received.isoformat())
        if source.corrected:
            element.set("corrected", "true")
    errors = list(schema().iter_errors(root))
    if errors:
        first = errors[0]
        raise ReturnSchemaError(f"{first.path}: {first.reason}")
    canonical: bytes = etree.tostring(root, method="c14n2")
    return canonical
