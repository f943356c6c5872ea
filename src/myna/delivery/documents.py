"""民間送達 documents: the e-Tax-shaped certificates and slips a sender delivers to a resident.

Each kind is a frozen dataclass that writes itself as XML (``to_xml``) in Myna's own
versioned format, modelled on the e-Tax 電子的控除証明書等 formats (XML構造設計書, the
TEG800-TEG850 schemas; the 源泉徴収票 TEG104 series): the schemas under ``schemas/`` say
which real element each of ours stands for. :func:`parse` reads untrusted bytes back —
size cap, UTF-8, no DTD or entities, a hardened parser, the kind's XSD, then the rules an
XSD cannot say — and :func:`explain` says what a document means in plain Japanese.

A document names its recipient only by a pairwise identifier and its sender by its
organisation code: the individual number never appears.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, TypeAlias, get_type_hints

import xmlschema
from lxml import etree

from myna.delivery.errors import (
    DocumentTooLargeError,
    SchemaInvalidError,
    UnknownDocumentKindError,
    UnsafeDocumentError,
)
from myna.platform.wareki import era_of, era_year, format_wareki

MAX_DOCUMENT_BYTES = 256 * 1024
"""The largest document accepted: a real certificate is a few kilobytes."""

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
_UNSAFE_MARKUP = (b"<!DOCTYPE", b"<!ENTITY")


class DocumentKind(StrEnum):
    """The formats Myna accepts, by the e-Tax code of the form each models."""

    LIFE_INSURANCE = "TEG800"
    EARTHQUAKE_INSURANCE = "TEG810"
    DONATION = "TEG820"
    NATIONAL_PENSION = "TEG840"
    SALARY_WITHHOLDING = "TEG104"
    PENSION_WITHHOLDING = "PENSION"

    @property
    def namespace(self) -> str:
        """The XML namespace of this kind's version 1: ``urn:myna:delivery:<code>:1``."""
        return f"urn:myna:delivery:{self.value}:1"


class LifeInsuranceSystem(StrEnum):
    """適用制度: the 新制度 for contracts from 2012, the 旧制度 before."""

    NEW = "new"
    OLD = "old"


class LifeInsuranceCategory(StrEnum):
    """一般, 介護医療 (new system only) and 個人年金."""

    GENERAL = "general"
    MEDICAL_CARE = "medical_care"
    PENSION = "pension"


class InsuredObject(StrEnum):
    """What an earthquake policy covers."""

    BUILDING = "building"
    HOUSEHOLD_GOODS = "household_goods"
    BUILDING_AND_HOUSEHOLD_GOODS = "building_and_household_goods"
    OTHER = "other"


class ContributionKind(StrEnum):
    """国民年金保険料 or 国民年金基金掛金."""

    NATIONAL_PENSION = "national_pension"
    NATIONAL_PENSION_FUND = "national_pension_fund"


# --- reading untrusted bytes ------------------------------------------------------


def hardened_parser() -> Any:
    """A parser that fetches and expands nothing (a new one per use: lxml parsers are not shared).

    Every untrusted document goes through it, and signxml is handed one too.
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
    )


def load_xml(data: bytes) -> Any:
    """Parse untrusted bytes into an lxml element, or refuse before any harm is done.

    The size is capped before parsing; the bytes must be UTF-8; a DTD or an entity
    declaration is refused outright (billion laughs, external entities), and the parser
    would neither resolve entities nor touch the network anyway.
    """
    if not isinstance(data, bytes):
        msg = "a document is bytes"
        raise TypeError(msg)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLargeError(limit=MAX_DOCUMENT_BYTES)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeDocumentError from exc
    if any(markup in data for markup in _UNSAFE_MARKUP):
        raise UnsafeDocumentError
    try:
        root = etree.fromstring(data, parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeDocumentError from exc
    info = root.getroottree().docinfo
    if info.doctype or (info.encoding or "UTF-8").upper() != "UTF-8":
        raise UnsafeDocumentError
    if any(True for _ in root.iter(etree.Entity)):
        raise UnsafeDocumentError
    return root


def kind_of(root: Any) -> DocumentKind:
    """The kind a root element declares by its namespace, or UnknownDocumentKindError."""
    qname = etree.QName(root)
    for kind in DocumentKind:
        cls = _CLASSES[kind]
        if qname.namespace == kind.namespace and qname.localname == cls.root_name:
            return kind
    raise UnknownDocumentKindError(kind=f"{{{qname.namespace or ''}}}{qname.localname}"[:120])


@cache
def schema(kind: DocumentKind) -> xmlschema.XMLSchema10:
    """The XSD of ``kind`` (read once; the files are the package's own)."""
    return xmlschema.XMLSchema10(str(SCHEMA_DIR / f"{kind.value}.xsd"))


def _local_path(element: Any) -> str:
    names = []
    while element is not None:
        names.append(etree.QName(element).localname)
        element = element.getparent()
    return "/" + "/".join(reversed(names))


def _line(element: Any) -> str:
    line = getattr(element, "sourceline", None)
    return str(line) if line else "?"


def validate(root: Any, kind: DocumentKind) -> None:
    """Check ``root`` against its kind's XSD; SchemaInvalidError names the first problem."""
    for error in schema(kind).iter_errors(root):
        element = error.elem if etree.iselement(error.elem) else root
        raise SchemaInvalidError(
            element=_local_path(element), line=_line(element), reason=str(error.reason)
        )


# --- writing and reading XML ----------------------------------------------------------


class _Writer:
    """Appends namespaced children: ``w.add(parent, "Name", "text")``."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def root(self, name: str) -> Any:
        return etree.Element(f"{{{self.namespace}}}{name}", nsmap={None: self.namespace})

    def add(self, parent: Any, name: str, value: object = None) -> Any:
        child = etree.SubElement(parent, f"{{{self.namespace}}}{name}")
        if value is not None:
            child.text = _text(value)
        return child


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Reader:
    """Reads a validated document by local paths (``"Policy/Insured"``)."""

    def __init__(self, root: Any, namespace: str) -> None:
        self.root = root
        self.namespace = namespace

    def _path(self, path: str) -> str:
        return "/".join(f"{{{self.namespace}}}{part}" for part in path.split("/"))

    def element(self, path: str, within: Any = None) -> Any:
        found = (self.root if within is None else within).find(self._path(path))
        if found is None:  # the schema guarantees it; guard against a schema change
            raise SchemaInvalidError(element=path, line="?", reason="missing")
        return found

    def all(self, path: str) -> list[Any]:
        return list(self.root.findall(self._path(path)))

    def text(self, path: str, within: Any = None) -> str:
        return str(self.element(path, within).text or "").strip()

    def optional(self, path: str) -> str | None:
        found = self.root.find(self._path(path))
        return None if found is None else str(found.text or "").strip()

    def integer(self, path: str, within: Any = None) -> int:
        return int(self.text(path, within))

    def day(self, path: str, within: Any = None) -> date:
        return date.fromisoformat(self.text(path, within))

    def month(self, path: str) -> date:
        return date.fromisoformat(self.text(path) + "-01")

    def flag(self, path: str) -> bool:
        return self.text(path) in {"true", "1"}


@dataclass(frozen=True, slots=True)
class _Codec:
    """How a value is written as XML text and read back."""

    write: Callable[[Any], str]
    read: Callable[[str], Any]


_TEXT = _Codec(str, str)
_INT = _Codec(str, int)
_DAY = _Codec(date.isoformat, date.fromisoformat)
_MONTH = _Codec(lambda day: f"{day:%Y-%m}", lambda text: date.fromisoformat(text + "-01"))
_FLAG = _Codec(lambda flag: "true" if flag else "false", lambda text: text in {"true", "1"})


def _choice(kind: Callable[[str], StrEnum]) -> _Codec:
    return _Codec(lambda value: str(value.value), kind)


@dataclass(frozen=True, slots=True)
class _Field:
    """An attribute of a document and where it stands in the XML, in document order.

    ``path`` is local below the root (``"Policy/Insured"``), or ``"<element>@<name>"`` for
    an XML attribute of an element written before it. ``attr`` is the dataclass field,
    or ``"<field>.<subfield>"`` for a field of a nested dataclass. An optional field is
    left out of the XML when it is None, and read as None when absent.
    """

    attr: str
    path: str
    codec: _Codec = _TEXT
    optional: bool = False


def _value(document: object, attr: str) -> Any:
    for name in attr.split("."):
        document = getattr(document, name)
    return document


def _write_fields(writer: _Writer, root: Any, document: object, table: tuple[_Field, ...]) -> None:
    """Write ``document``'s fields under ``root``, parents made as the paths first need them."""
    elements: dict[str, Any] = {"": root}

    def element(path: str) -> Any:
        if path not in elements:
            parent, _, name = path.rpartition("/")
            elements[path] = writer.add(element(parent), name)
        return elements[path]

    for field in table:
        value = _value(document, field.attr)
        if value is None and field.optional:
            continue
        path, _, attribute = field.path.partition("@")
        if attribute:
            element(path).set(attribute, field.codec.write(value))
            continue
        parent, _, name = path.rpartition("/")
        elements[path] = writer.add(element(parent), name, field.codec.write(value))


def _read_fields(reader: _Reader, table: tuple[_Field, ...]) -> dict[str, Any]:
    """The fields' values by ``attr`` (nested ones as ``{"dependents": {"elderly": 1}}``)."""
    values: dict[str, Any] = {}
    for field in table:
        path, _, attribute = field.path.partition("@")
        raw: str | None
        if attribute:
            raw = reader.element(path).get(attribute)
        elif field.optional:
            raw = reader.optional(path)
        else:
            raw = reader.text(path)
        value = None if raw is None else field.codec.read(raw.strip())
        head, _, tail = field.attr.partition(".")
        if tail:
            values.setdefault(head, {})[tail] = value
        else:
            values[head] = value
    return values


# --- the documents ------------------------------------------------------------------------

Problem: TypeAlias = tuple[str, str]
"""A rule broken: the element (a local path below the root) and why."""


_HEADER = (
    _Field("document_id", "Header/DocumentId"),
    _Field("issued_on", "Header/IssueDate", _DAY),
    _Field("sender_code", "Header/Sender/OrganizationCode"),
    _Field("sender_name", "Header/Sender/Name"),
    _Field("recipient", "Header/Recipient"),
    _Field("year", "Header/Year", _INT),
)


_HINTS: dict[str, dict[str, Any]] = {}


def _nested_types(cls: type) -> dict[str, Any]:
    """The classes of a document's fields (for the nested ones: ``dependents`` → Dependents)."""
    if cls.__name__ not in _HINTS:
        _HINTS[cls.__name__] = get_type_hints(cls)
    return _HINTS[cls.__name__]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Document:
    """What every document carries: who sends what to whom, for which year."""

    kind: ClassVar[DocumentKind]
    root_name: ClassVar[str]

    document_id: str
    issued_on: date
    sender_code: str
    sender_name: str
    recipient: str
    """The pairwise identifier of the resident at this sender (never a MyNumber)."""
    year: int

    # Each kind's own fields, after the header, in the order of its schema.
    _FIELDS: ClassVar[tuple[_Field, ...]] = ()

    def to_xml(self) -> bytes:
        """The document as canonical XML (C14N, UTF-8), checked against its schema and rules."""
        writer = _Writer(self.kind.namespace)
        root = writer.root(self.root_name)
        _write_fields(writer, root, self, _HEADER + self._FIELDS)
        self._write_more(writer, root)
        etree.indent(root)
        data: bytes = etree.tostring(root, method="c14n")
        parse(data)  # a builder never hands out a document Myna would refuse
        return data

    def _write_more(self, writer: _Writer, root: Any) -> None:
        """What a table cannot say (repeated elements), written after the fields."""

    @classmethod
    def _read(cls, reader: _Reader) -> Document:
        values = _read_fields(reader, _HEADER + cls._FIELDS)
        hints = _nested_types(cls)
        for name, value in values.items():
            if isinstance(value, dict):
                values[name] = hints[name](**value)
        values.update(cls._read_more(reader))
        return cls(**values)  # type: ignore[return-value]

    @classmethod
    def _read_more(cls, reader: _Reader) -> dict[str, Any]:
        """What :meth:`_write_more` wrote, read back."""
        return {}

    def _problems(self) -> Iterator[Problem]:
        if self.year > self.issued_on.year:
            yield "Header/Year", f"the year {self.year} is after the issue date"


def _within_year(day: date, year: int) -> bool:
    return day.year == year


@dataclass(frozen=True, slots=True, kw_only=True)
class LifeInsuranceCertificate(_Document):
    """生命保険料控除証明書 (e-Tax TEG800): one policy's premiums for the year."""

    kind: ClassVar[DocumentKind] = DocumentKind.LIFE_INSURANCE
    root_name: ClassVar[str] = "LifeInsuranceCertificate"

    insurer_name: str
    insurer_corporate_number: str | None = None
    contractor: str
    policy_number: str
    insurance_type: str | None = None
    insured: str
    system: LifeInsuranceSystem
    category: LifeInsuranceCategory
    certified_amount: int
    """証明額: paid less dividends up to ``certified_as_of``."""
    certified_as_of: date
    declared_amount: int
    """申告額: the amount for the whole year, what the return uses."""

    _FIELDS: ClassVar[tuple[_Field, ...]] = (
        _Field("insurer_name", "Insurer/Name"),
        _Field("insurer_corporate_number", "Insurer/CorporateNumber", optional=True),
        _Field("contractor", "Contractor"),
        _Field("policy_number", "Policy/PolicyNumber"),
        _Field("insurance_type", "Policy/InsuranceType", optional=True),
        _Field("insured", "Policy/Insured"),
        _Field("system", "Policy/System", _choice(LifeInsuranceSystem)),
        _Field("category", "Policy/Category", _choice(LifeInsuranceCategory)),
        _Field("certified_amount", "Policy/CertifiedAmount", _INT),
        _Field("certified_as_of", "Policy/CertifiedAmount@asOf", _DAY),
        _Field("declared_amount", "Policy/DeclaredAmount", _INT),
    )

    def _problems(self) -> Iterator[Problem]:
        yield from _Document._problems(self)
        if (
            self.system is LifeInsuranceSystem.OLD
            and self.category is LifeInsuranceCategory.MEDICAL_CARE
        ):
            yield "Policy/Category", "介護医療 premiums exist in the new system only"
        if not _within_year(self.certified_as_of, self.year):
            yield "Policy/CertifiedAmount", "the certified amount's date is outside the year"


@dataclass(frozen=True, slots=True, kw_only=True)
class EarthquakeInsuranceCertificate(_Document):
    """地震保険料控除証明書 (e-Tax TEG810): a policy's earthquake and old long-term premiums."""

    kind: ClassVar[DocumentKind] = DocumentKind.EARTHQUAKE_INSURANCE
    root_name: ClassVar[str] = "EarthquakeInsuranceCertificate"

    insurer_name: str
    insurer_corporate_number: str | None = None
    contractor: str
    policy_number: str
    insured: str
    insured_object: InsuredObject
    certified_as_of: date
    earthquake_premium: int
    old_long_term_premium: int = 0
    """旧長期損害保険料: long-term non-life policies from before 2007."""

    _FIELDS: ClassVar[tuple[_Field, ...]] = (
        _Field("insurer_name", "Insurer/Name"),
        _Field("insurer_corporate_number", "Insurer/CorporateNumber", optional=True),
        _Field("contractor", "Contractor"),
        _Field("policy_number", "Policy/PolicyNumber"),
        _Field("insured", "Policy/Insured"),
        _Field("insured_object", "Policy/InsuredObject", _choice(InsuredObject)),
        _Field("certified_as_of", "Policy/CertifiedAsOf", _DAY),
        _Field("earthquake_premium", "Policy/EarthquakePremium", _INT),
        _Field("old_long_term_premium", "Policy/OldLongTermPremium", _INT),
    )

    def _problems(self) -> Iterator[Problem]:
        yield from _Document._problems(self)
        if not _within_year(self.certified_as_of, self.year):
            yield "Policy/CertifiedAsOf", "the certified amount's date is outside the year"


@dataclass(frozen=True, slots=True)
class Donation:
    """One donation: the day the donee received it and the amount."""

    received_on: date
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DonationReceipt(_Document):
    """寄附金受領証明書 (e-Tax TEG820 series): donations to a local government (ふるさと納税)."""

    kind: ClassVar[DocumentKind] = DocumentKind.DONATION
    root_name: ClassVar[str] = "DonationReceipt"

    municipality_code: str
    municipality_name: str
    donor: str
    donations: tuple[Donation, ...]

    @property
    def total(self) -> int:
        """The sum of the donations."""
        return sum(donation.amount for donation in self.donations)

    _FIELDS: ClassVar[tuple[_Field, ...]] = (
        _Field("municipality_code", "Donee/MunicipalityCode"),
        _Field("municipality_name", "Donee/Name"),
        _Field("donor", "Donor"),
    )

    def _write_more(self, writer: _Writer, root: Any) -> None:
        for donation in self.donations:
            entry = writer.add(root, "Donation")
            writer.add(entry, "ReceivedOn", donation.received_on)
            writer.add(entry, "Amount", donation.amount)

    @classmethod
    def _read_more(cls, reader: _Reader) -> dict[str, Any]:
        entries = reader.all("Donation")
        return {
            "donations": tuple(
                Donation(reader.day("ReceivedOn", entry), reader.integer("Amount", entry))
                for entry in entries
            )
        }

    def _problems(self) -> Iterator[Problem]:
        yield from _Document._problems(self)
        for donation in self.donations:
            if not _within_year(donation.received_on, self.year):
                yield "Donation/ReceivedOn", "a donation was received outside the year"
                return


@dataclass(frozen=True, slots=True, kw_only=True)
class NationalPensionCertificate(_Document):
    """社会保険料（国民年金保険料）控除証明書 (e-Tax TEG840): contributions paid and expected."""

    kind: ClassVar[DocumentKind] = DocumentKind.NATIONAL_PENSION
    root_name: ClassVar[str] = "NationalPensionCertificate"

    contribution_kind: ContributionKind
    insured: str
    period_from: date
    """The first month covered (the day is always 1)."""
    period_to: date
    """The last month covered (the day is always 1)."""
    paid_amount: int
    expected_amount: int = 0
    """見込額: contributions due by the year's end but not yet paid when issued."""

    _FIELDS: ClassVar[tuple[_Field, ...]] = (
        _Field("contribution_kind", "Kind", _choice(ContributionKind)),
        _Field("insured", "Insured"),
        _Field("period_from", "Period/From", _MONTH),
        _Field("period_to", "Period/To", _MONTH),
        _Field("paid_amount", "PaidAmount", _INT),
        _Field("expected_amount", "ExpectedAmount", _INT),
    )

    def _problems(self) -> Iterator[Problem]:
        yield from _Document._problems(self)
        if self.period_from > self.period_to:
            yield "Period", "the period ends before it starts"


@dataclass(frozen=True, slots=True)
class Dependents:
    """控除対象扶養親族の数 (特定, 老人, その他) and 16歳未満扶養親族の数."""

    specified: int = 0
    elderly: int = 0
    other: int = 0
    under_16: int = 0


@dataclass(frozen=True, slots=True)
class LifeInsurancePremiums:
    """The premiums behind a 源泉徴収票's 生命保険料の控除額."""

    new_general: int = 0
    old_general: int = 0
    medical_care: int = 0
    new_pension: int = 0
    old_pension: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SalaryWithholdingSlip(_Document):
    """給与所得の源泉徴収票 (e-Tax TEG104 series): the employer's year-end figures."""

    kind: ClassVar[DocumentKind] = DocumentKind.SALARY_WITHHOLDING
    root_name: ClassVar[str] = "SalaryWithholdingSlip"

    payer_name: str
    payer_address: str | None = None
    payee: str
    payment_amount: int
    income_after_employment_deduction: int
    total_deductions: int
    withholding_tax: int
    deductible_spouse: bool = False
    dependents: Dependents = Dependents()
    social_insurance: int = 0
    life_insurance_deduction: int = 0
    life_insurance_premiums: LifeInsurancePremiums = LifeInsurancePremiums()
    earthquake_insurance_deduction: int = 0
    housing_loan_credit: int = 0

    _FIELDS: ClassVar[tuple[_Field, ...]] = (
        _Field("payer_name", "Payer/Name"),
        _Field("payer_address", "Payer/Address", optional=True),
        _Field("payee", "Payee"),
        _Field("payment_amount", "PaymentAmount", _INT),
        _Field("income_after_employment_deduction", "IncomeAfterEmploymentDeduction", _INT),
        _Field("total_deductions", "TotalDeductions", _INT),
        _Field("withholding_tax", "WithholdingTax", _INT),
        _Field("deductible_spouse", "DeductibleSpouse", _FLAG),
        _Field("dependents.specified", "Dependents/Specified", _INT),
        _Field("dependents.elderly", "Dependents/Elderly", _INT),
        _Field("dependents.other", "Dependents/Other", _INT),
        _Field("dependents.under_16", "Dependents/Under16", _INT),
        _Field("social_insurance", "SocialInsurance", _INT),
        _Field("life_insurance_deduction", "LifeInsuranceDeduction", _INT),
        _Field("life_insurance_premiums.new_general", "LifeInsurancePremiums/NewGeneral", _INT),
        _Field("life_insurance_premiums.old_general", "LifeInsurancePremiums/OldGeneral", _INT),
        _Field("life_insurance_premiums.medical_care", "LifeInsurancePremiums/MedicalCare", _INT),
        _Field("life_insurance_premiums.new_pension", "LifeInsurancePremiums/NewPension", _INT),
        _Field("life_insurance_premiums.old_pension", "LifeInsurancePremiums/OldPension", _INT),
        _Field("earthquake_insurance_deduction", "EarthquakeInsuranceDeduction", _INT),
        _Field("housing_loan_credit", "HousingLoanCredit", _INT),
    )

    def _problems(self) -> Iterator[Problem]:
        yield from _Document._problems(self)
        if self.income_after_employment_deduction > self.payment_amount:
            yield "IncomeAfterEmploymentDeduction", "more than the amount paid"
        if self.withholding_tax > self.payment_amount:
            yield "WithholdingTax", "more than the amount paid"


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicPensionWithholdingSlip(_Document):
    """公的年金等の源泉徴収票: a pension payer's year-end figures."""

    kind: ClassVar[DocumentKind] = DocumentKind.PENSION_WITHHOLDING
    root_name: ClassVar[str] = "PublicPensionWithholdingSlip"

    payer_name: str
    payee: str
    payment_amount: int
    withholding_tax: int
    social_insurance: int = 0
    deductible_spouse: bool = False
    dependents: int = 0

    _FIELDS: ClassVar[tuple[_Field, ...]] = (
        _Field("payer_name", "Payer"),
        _Field("payee", "Payee"),
        _Field("payment_amount", "PaymentAmount", _INT),
        _Field("withholding_tax", "WithholdingTax", _INT),
        _Field("social_insurance", "SocialInsurance", _INT),
        _Field("deductible_spouse", "DeductibleSpouse", _FLAG),
        _Field("dependents", "Dependents", _INT),
    )

    def _problems(self) -> Iterator[Problem]:
        yield from _Document._problems(self)
        if self.withholding_tax > self.payment_amount:
            yield "WithholdingTax", "more than the amount paid"


Document: TypeAlias = (
    LifeInsuranceCertificate
    | EarthquakeInsuranceCertificate
    | DonationReceipt
    | NationalPensionCertificate
    | SalaryWithholdingSlip
    | PublicPensionWithholdingSlip
)

_CLASSES: dict[DocumentKind, type[_Document]] = {
    cls.kind: cls
    for cls in (
        LifeInsuranceCertificate,
        EarthquakeInsuranceCertificate,
        DonationReceipt,
        NationalPensionCertificate,
        SalaryWithholdingSlip,
        PublicPensionWithholdingSlip,
    )
}


def parse(data: bytes) -> Document:
    """Read a document from untrusted bytes: safe parsing, its XSD, then its rules.

    Refuses with DocumentTooLargeError, UnsafeDocumentError, UnknownDocumentKindError or
    SchemaInvalidError (naming the element and line of the first problem). A signature
    in the document is not checked here: :func:`myna.delivery.verify` does that.
    """
    root = load_xml(data)
    kind = kind_of(root)
    validate(root, kind)
    return _document(root, kind)


def read_stored(data: bytes) -> Document:
    """Read again a document Myna accepted and stored (parsed, schema-checked, verified then).

    The stored bytes never change, so the XSD pass — most of the cost of :func:`parse` —
    is not repeated; the safe parser and the document's own rules still are.
    """
    root = load_xml(data)
    return _document(root, kind_of(root))


def _document(root: Any, kind: DocumentKind) -> Document:
    reader = _Reader(root, kind.namespace)
    document = _CLASSES[kind]._read(reader)
    for path, reason in document._problems():
        found = root.find(reader._path(path))
        element = found if found is not None else root
        raise SchemaInvalidError(element=_local_path(element), line=_line(element), reason=reason)
    return document


# --- plain Japanese ---------------------------------------------------------------------


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _nenbun(year: int) -> str:
    """``令和7年分``: a tax year is named by the era its December falls in."""
    december = date(year, 12, 31)
    number = era_year(december)
    return f"{era_of(december).name}{'元' if number == 1 else number}年分"


def _month(day: date) -> str:
    number = era_year(day)
    return f"{era_of(day).name}{'元' if number == 1 else number}年{day.month}月"


_SYSTEM_JA = {LifeInsuranceSystem.NEW: "新制度", LifeInsuranceSystem.OLD: "旧制度"}
_CATEGORY_JA = {
    LifeInsuranceCategory.GENERAL: "一般",
    LifeInsuranceCategory.MEDICAL_CARE: "介護医療",
    LifeInsuranceCategory.PENSION: "個人年金",
}
_OBJECT_JA = {
    InsuredObject.BUILDING: "建物",
    InsuredObject.HOUSEHOLD_GOODS: "家財",
    InsuredObject.BUILDING_AND_HOUSEHOLD_GOODS: "建物及び家財",
    InsuredObject.OTHER: "その他",
}
_CONTRIBUTION_JA = {
    ContributionKind.NATIONAL_PENSION: "国民年金保険料",
    ContributionKind.NATIONAL_PENSION_FUND: "国民年金基金掛金",
}

Line: TypeAlias = tuple[str, str]


def _explain_life(document: LifeInsuranceCertificate) -> list[Line]:
    kind = f"{_CATEGORY_JA[document.category]}・{_SYSTEM_JA[document.system]}"
    lines = [
        (
            f"生命保険料控除証明書（{kind}）",
            f"{_nenbun(document.year)}の払込保険料 {_yen(document.declared_amount)}",
        ),
        (
            "証明額",
            f"{format_wareki(document.certified_as_of)}現在 {_yen(document.certified_amount)}",
        ),
        ("保険会社", document.insurer_name),
        ("証券番号", document.policy_number),
    ]
    if document.insurance_type:
        lines.append(("保険の種類", document.insurance_type))
    lines += [("契約者", document.contractor), ("被保険者", document.insured)]
    return lines


def _explain_earthquake(document: EarthquakeInsuranceCertificate) -> list[Line]:
    lines = [
        (
            "地震保険料控除証明書",
            f"{_nenbun(document.year)}の地震保険料 {_yen(document.earthquake_premium)}",
        )
    ]
    if document.old_long_term_premium:
        lines.append(("旧長期損害保険料", _yen(document.old_long_term_premium)))
    return [
        *lines,
        ("証明日", f"{format_wareki(document.certified_as_of)}現在"),
        ("保険会社", document.insurer_name),
        ("証券番号", document.policy_number),
        ("保険の対象", _OBJECT_JA[document.insured_object]),
        ("契約者", document.contractor),
        ("被保険者", document.insured),
    ]


def _explain_donation(document: DonationReceipt) -> list[Line]:
    return [
        (
            "寄附金受領証明書（ふるさと納税）",
            f"{_nenbun(document.year)}に{document.municipality_name}へ寄附 "
            f"合計{_yen(document.total)}",
        ),
        *(
            (f"寄附（{format_wareki(donation.received_on)}）", _yen(donation.amount))
            for donation in document.donations
        ),
        ("寄附先", f"{document.municipality_name}（団体コード {document.municipality_code}）"),
        ("寄附者", document.donor),
    ]


def _explain_pension(document: NationalPensionCertificate) -> list[Line]:
    kind = _CONTRIBUTION_JA[document.contribution_kind]
    lines = [
        (
            f"社会保険料控除証明書（{kind}）",
            f"{_nenbun(document.year)}に納付した{kind} {_yen(document.paid_amount)}",
        )
    ]
    if document.expected_amount:
        lines.append(("年末までの納付見込額", _yen(document.expected_amount)))
    return [
        *lines,
        ("対象期間", f"{_month(document.period_from)}〜{_month(document.period_to)}"),
        ("被保険者", document.insured),
    ]


def _people(count: int) -> str:
    return f"{count}人"


def _explain_salary(document: SalaryWithholdingSlip) -> list[Line]:
    dependents = document.dependents
    premiums = document.life_insurance_premiums
    lines = [
        (
            "給与所得の源泉徴収票",
            f"{_nenbun(document.year)}の支払金額 {_yen(document.payment_amount)}",
        ),
        ("給与所得控除後の金額", _yen(document.income_after_employment_deduction)),
        ("所得控除の額の合計額", _yen(document.total_deductions)),
        ("源泉徴収税額", _yen(document.withholding_tax)),
        ("社会保険料等の金額", _yen(document.social_insurance)),
        ("生命保険料の控除額", _yen(document.life_insurance_deduction)),
    ]
    breakdown = [
        ("新生命保険料", premiums.new_general),
        ("旧生命保険料", premiums.old_general),
        ("介護医療保険料", premiums.medical_care),
        ("新個人年金保険料", premiums.new_pension),
        ("旧個人年金保険料", premiums.old_pension),
    ]
    lines += [(f"（内訳）{label}の金額", _yen(amount)) for label, amount in breakdown if amount]
    lines.append(("地震保険料の控除額", _yen(document.earthquake_insurance_deduction)))
    if document.housing_loan_credit:
        lines.append(("住宅借入金等特別控除の額", _yen(document.housing_loan_credit)))
    return [
        *lines,
        ("控除対象配偶者", "あり" if document.deductible_spouse else "なし"),
        (
            "控除対象扶養親族の数",
            f"特定{_people(dependents.specified)}・老人{_people(dependents.elderly)}"
            f"・その他{_people(dependents.other)}",
        ),
        ("16歳未満の扶養親族の数", _people(dependents.under_16)),
        ("支払者", document.payer_name),
        ("支払を受ける者", document.payee),
    ]


def _explain_public_pension(document: PublicPensionWithholdingSlip) -> list[Line]:
    return [
        (
            "公的年金等の源泉徴収票",
            f"{_nenbun(document.year)}の支払金額 {_yen(document.payment_amount)}",
        ),
        ("源泉徴収税額", _yen(document.withholding_tax)),
        ("社会保険料の金額", _yen(document.social_insurance)),
        ("控除対象配偶者", "あり" if document.deductible_spouse else "なし"),
        ("扶養親族の数", _people(document.dependents)),
        ("支払者", document.payer_name),
        ("受給者", document.payee),
    ]


_EXPLAINERS: dict[type[_Document], Callable[[Any], list[Line]]] = {
    LifeInsuranceCertificate: _explain_life,
    EarthquakeInsuranceCertificate: _explain_earthquake,
    DonationReceipt: _explain_donation,
    NationalPensionCertificate: _explain_pension,
    SalaryWithholdingSlip: _explain_salary,
    PublicPensionWithholdingSlip: _explain_public_pension,
}


def explain(document: Document) -> list[Line]:
    """What ``document`` says, as (label, value) lines in plain Japanese, the headline first.

    Amounts carry thousands separators and 円; days and years are 和暦, e.g.
    ``("生命保険料控除証明書（一般・新制度）", "令和7年分の払込保険料 123,456円")``.
    """
    return [
        *_EXPLAINERS[type(document)](document),
        ("発行者", f"{document.sender_name}（{document.sender_code}）"),
        ("発行日", format_wareki(document.issued_on)),
        ("書類番号", document.document_id),
    ]
