"""確定申告 use cases: start a return, gather what the resident agrees to, correct, compute.

The resident starts one return per year (年分). Gathering reads only the sources the
resident agreed to, item by item: the 源泉徴収票 and each 控除証明書 from the 民間送達
box (through :class:`~myna.tax.interfaces.DocumentSource`), the 医療費通知 from the
insurers through the network hub (so the look is in the resident's やりとり履歴), the
公的年金等の源泉徴収票 and the ふるさと納税 receipts, the household (世帯) and the income
the municipality assessed for its members, and the return filed the year before. Each
figure becomes a field that remembers its source; a correction is a row of its own with
the old and the new value, who made it and when. The return is computed from the fields
as they stand now, under the year's rules (:func:`myna.tax.compute`).

Relatives are fields too. The municipality answers the household as the 住民票 shows it
(each member's 続柄 and date of birth) and, for members it assessed, their 合計所得金額 of
the year; each spouse or relative who may count becomes a group of the ``spouse`` or
``dependants`` section whose key names them — ``<tie>:<date of birth>:<続柄>``, e.g.
``spouse:1987-09-03:妻`` (:class:`RelativeKey`) — with one field, their ``income``
(sourced ``municipality``, or ``assumed`` at 0 yen when nobody knew it, correctable like
any figure). Who a relative is lives in the key rather than in a table of its own, and
the resident's choice between 医療費控除 and セルフメディケーション is the field
``self_medication``/``claimed`` (1 or 0) beside the purchases they entered, rather than
a column of the return, for one reason: the document the card signs fingerprints the
fields by section, group, item and value (:mod:`myna.tax.filing`), so a relative who
joins or leaves the household, a different date of birth or a changed choice after the
return was frozen makes the signature useless, exactly as a late correction does. A
date of birth is never stored as a yen figure. The return of the year before is no
field: it is kept beside the return to compare with (:class:`PreviousRead`).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna import network
from myna.delivery import (
    DonationReceipt,
    EarthquakeInsuranceCertificate,
    LifeInsuranceCategory,
    LifeInsuranceCertificate,
    LifeInsuranceSystem,
    NationalPensionCertificate,
    PublicPensionWithholdingSlip,
    SalaryWithholdingSlip,
)
from myna.medical import service as medical_service
from myna.medical.records import EXPENSE_ITEM
from myna.platform.clock import JST
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.wareki import era_of, era_year
from myna.tax.domain import (
    EarthquakePremiums,
    HouseholdRelative,
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
    Tie,
    age_on_last_day,
    amount_problem,
    better_medical_choice,
    compute,
    compute_income,
    household_relatives,
    medical_expense_deduction,
    self_medication_deduction,
    validate,
)
from myna.tax.interfaces import DeliveredDocument, DocumentSource
from myna.tax.models import (
    TaxReturnCorrectionRow,
    TaxReturnFieldRow,
    TaxReturnPreviousRow,
    TaxReturnRow,
)
from myna.tax.rules import load_rules

DRAFT = "draft"
SIGNED = "signed"
FILED = "filed"

DOCUMENT = "document"
MEDICAL_NOTICE = "medical_notice"
MUNICIPALITY = "municipality"  # a relative's income as the municipality assessed it
ASSUMED = "assumed"  # no source knew the figure: 0 yen until the resident corrects it
RESIDENT = "resident"

BASIC_INFO_ITEM = "basic-info"
HOUSEHOLD_ITEM = "household"
HOUSEHOLD_INCOME_ITEM = "household-income"
PREVIOUS_RETURN_ITEM = "income-tax-return"  # the NTA's record of each filed return
# The self-only procedure the household, its income and the previous return are asked
# under (authorization.toml), so やりとり履歴 names what they were read for.
PREPARATION_PROCEDURE = "income-tax-return-preparation"
MEDICAL_GROUP = "notice"
RESIDENT_GROUP = "resident"

SPOUSE = "spouse"
DEPENDANTS = "dependants"
SELF_MEDICATION = "self_medication"
INCOME = "income"
SPENT = "spent"
CLAIMED = "claimed"
RELATIVE_SECTIONS = (SPOUSE, DEPENDANTS)
# Fields that hold a choice (1 or 0), not yen: changed by choosing, not by correcting.
CHOICE_ITEMS = frozenset({(SELF_MEDICATION, CLAIMED)})

# How a gathering went for one source (GatherReport).
READ = "read"
FOUND = "found"
NONE_FOUND = "none"
UNAVAILABLE = "unavailable"
INCOMPLETE = "incomplete"
# What the return page may be told after a gathering (GatherReport.notes).
GATHER_NOTES = (
    "medical-unavailable",
    "household-unavailable",
    "household-incomplete",
    "incomes-unavailable",
    "previous-unavailable",
)

# Sections of the return, in the order of the form, with the title each is shown under.
SECTIONS: dict[str, str] = {
    "salary": N_("Salary withholding slip (給与所得の源泉徴収票)"),
    "pension": N_("Public pension withholding slip (公的年金等の源泉徴収票)"),
    "social_insurance": N_("National pension premiums (社会保険料控除証明書)"),
    "life_insurance": N_("Life insurance premiums (生命保険料控除証明書)"),
    "earthquake": N_("Earthquake insurance premiums (地震保険料控除証明書)"),
    "medical": N_("Medical expenses (医療費通知)"),
    "self_medication": N_("Specified OTC medicines you bought (セルフメディケーション税制)"),
    "donations": N_("Donations (寄附金受領証明書・ふるさと納税)"),
    "spouse": N_("Spouse (配偶者)"),
    "dependants": N_("Relatives in your household (扶養親族)"),
}

# Each field of a section: its label, and the key of the domain's label for problems.
ITEMS: dict[tuple[str, str], tuple[str, str]] = {
    ("salary", "paid"): (N_("Amount paid (支払金額)"), "salaries.paid"),
    ("salary", "withheld"): (N_("Tax withheld (源泉徴収税額)"), "salaries.withheld"),
    ("salary", "social_insurance"): (
        N_("Social insurance (社会保険料等の金額)"),
        "salaries.social_insurance",
    ),
    ("pension", "paid"): (N_("Amount paid (支払金額)"), "pensions.paid"),
    ("pension", "withheld"): (N_("Tax withheld (源泉徴収税額)"), "pensions.withheld"),
    ("pension", "social_insurance"): (
        N_("Social insurance (社会保険料の金額)"),
        "pensions.social_insurance",
    ),
    ("social_insurance", "paid"): (
        N_("Premiums paid in the year (支払保険料)"),
        "social_insurance",
    ),
    ("life_insurance", "new_general"): (N_("General, new system (一般・新制度)"), "life_insurance"),
    ("life_insurance", "new_medical"): (
        N_("Medical and nursing care (介護医療)"),
        "life_insurance",
    ),
    ("life_insurance", "new_annuity"): (
        N_("Individual annuity, new system (個人年金・新制度)"),
        "life_insurance",
    ),
    ("life_insurance", "old_general"): (N_("General, old system (一般・旧制度)"), "life_insurance"),
    ("life_insurance", "old_annuity"): (
        N_("Individual annuity, old system (個人年金・旧制度)"),
        "life_insurance",
    ),
    ("earthquake", "earthquake"): (
        N_("Earthquake insurance premiums (地震保険料)"),
        "earthquake_insurance",
    ),
    ("earthquake", "old_long_term"): (
        N_("Old long-term non-life premiums (旧長期損害保険料)"),
        "earthquake_insurance",
    ),
    ("medical", "paid"): (N_("Medical expenses paid (医療費)"), "medical_expenses.paid"),
    ("self_medication", "spent"): (
        N_("Purchases in the year (特定一般用医薬品等購入費)"),
        "self_medication_spent",
    ),
    ("self_medication", "claimed"): (
        N_("Claimed instead of the medical expense deduction"),
        "self_medication_spent",
    ),
    ("donations", "amount"): (N_("Donations (寄附金)"), "donations"),
    ("spouse", "income"): (N_("Total income of the year (合計所得金額)"), "spouse"),
    ("dependants", "income"): (N_("Total income of the year (合計所得金額)"), "dependants"),
}

# How each relative counts, as the return page says it.
KIND_LABELS: dict[RelativeKind, str] = {
    RelativeKind.SPOUSE: N_("Spouse deduction (配偶者控除)"),
    RelativeKind.ELDERLY_SPOUSE: N_("Spouse deduction, 70 or over (老人控除対象配偶者)"),
    RelativeKind.SPOUSE_SPECIAL: N_("Special spouse deduction (配偶者特別控除)"),
    RelativeKind.SAME_HOUSEHOLD_SPOUSE: N_(
        "Spouse in the same household, no deduction at your income (同一生計配偶者)"
    ),
    RelativeKind.YOUNG_DEPENDANT: N_("Under 16: no deduction (年少扶養親族)"),
    RelativeKind.DEPENDANT: N_("Dependant (一般の控除対象扶養親族)"),
    RelativeKind.SPECIFIED_DEPENDANT: N_("Dependant aged 19 to 22 (特定扶養親族)"),
    RelativeKind.ELDERLY_DEPENDANT: N_("Dependant aged 70 or over (老人扶養親族)"),
    RelativeKind.ELDERLY_PARENT: N_("Parent aged 70 or over living with you (同居老親等)"),
    RelativeKind.SPECIFIED_RELATIVE: N_(
        "Special deduction for a relative aged 19 to 22 (特定親族特別控除)"
    ),
    RelativeKind.NONE: N_("Too much income to count on the return"),
}

_LIFE_ITEMS = {
    (LifeInsuranceSystem.NEW, LifeInsuranceCategory.GENERAL): "new_general",
    (LifeInsuranceSystem.NEW, LifeInsuranceCategory.MEDICAL_CARE): "new_medical",
    (LifeInsuranceSystem.NEW, LifeInsuranceCategory.PENSION): "new_annuity",
    (LifeInsuranceSystem.OLD, LifeInsuranceCategory.GENERAL): "old_general",
    (LifeInsuranceSystem.OLD, LifeInsuranceCategory.PENSION): "old_annuity",
}

_MEDICAL_NOTICE_NAME = N_("Medical expense notices from your health insurer (医療費通知)")
_ASSESSED_NAME = N_("Your municipality's resident tax assessment (個人住民税課税台帳)")
_ASSUMED_NAME = N_("Not known: assumed to be none")
_RESIDENT_NAME = N_("Entered by you")
_HOUSEHOLD_TITLE = N_("Your household: spouse and relatives (住民票・個人住民税課税台帳)")
_PREVIOUS_TITLE = N_("Your return of the year before (前年分の確定申告)")


class ReturnNotFoundError(NotFoundError, code="tax_return_not_found"):
    """The resident has no return for the year (or asked for a field of someone else's)."""

    message = N_("No tax return for this year was found. Start one first.")


class ReturnNotDraftError(MynaError, code="tax_return_not_draft", status_code=409):
    """A signed or filed return is not changed: the resident starts an amended one."""

    message = N_("This return has been signed and can no longer be changed.")


class SelfMedicationNotEnteredError(
    MynaError, code="tax_self_medication_not_entered", status_code=422
):
    """セルフメディケーション税制 was chosen before any purchase was entered."""

    message = N_(
        "Enter what you spent on specified OTC medicines in the year before choosing "
        "the self-medication deduction."
    )


class IdentityUnavailableError(MynaError, code="tax_identity_unavailable", status_code=503):
    """The date of birth could not be asked (the identity service did not answer)."""

    message = N_(
        "Your date of birth could not be confirmed just now, so the return cannot be "
        "started. Please try again later."
    )


# -- what the pages read ---------------------------------------------------------------------


def nenbun(year: int) -> str:
    """``令和7年分``: a tax year is named by the era its December falls in."""
    december = date(year, 12, 31)
    number = era_year(december)
    return f"{era_of(december).name}{'元' if number == 1 else number}年分"


@dataclass(frozen=True, slots=True)
class TaxReturnRead:
    """A return as its pages show it."""

    id: int
    year: int
    name: str  # 令和7年分
    status: str
    birth_date: date
    created_at: datetime
    updated_at: datetime
    gathered_at: datetime | None


@dataclass(frozen=True, slots=True)
class SourceRead:
    """Where a field's value came from."""

    kind: str  # document / medical_notice / resident
    name: str  # the sender, or the 医療費通知, or the resident
    delivery_id: str | None
    document_id: str | None
    on: date | None  # the day it was received (or read from the insurers)


@dataclass(frozen=True, slots=True)
class FieldRead:
    """A filled field: where it sits on the return, its value and its source."""

    id: int
    section: str
    group_key: str
    item: str
    label: str  # a message id
    value: int
    gathered_value: int
    source: SourceRead
    corrections: int

    @property
    def corrected(self) -> bool:
        """Whether the resident changed the value the source gave."""
        return self.corrections > 0


@dataclass(frozen=True, slots=True)
class CorrectionRead:
    """A recorded correction of a field."""

    id: int
    field_id: int
    section: str
    label: str  # a message id
    source_name: str
    old_value: int
    new_value: int
    corrected_by: int
    corrected_at: datetime
    choice: bool = False  # a choice changed (1: セルフメディケーション), not an amount


_KEY_PARTS = 3  # tie, date of birth, 続柄 (last: split no further)


@dataclass(frozen=True, slots=True)
class RelativeKey:
    """Who a relative is, as the group key of their fields: ``<tie>:<born>:<続柄>``."""

    tie: Tie
    birth_date: date
    relation: str  # 世帯主との続柄, as the 住民票 writes it

    def __str__(self) -> str:
        return f"{self.tie.value}:{self.birth_date.isoformat()}:{self.relation}"

    @classmethod
    def parse(cls, key: str) -> RelativeKey | None:
        """The key read back; None for a key that is not a relative's."""
        parts = key.split(":", _KEY_PARTS - 1)
        if len(parts) != _KEY_PARTS or not parts[2]:
            return None
        try:
            return cls(Tie(parts[0]), date.fromisoformat(parts[1]), parts[2])
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class RelativeRead:
    """A spouse or relative on the return: who, their income field, how they count."""

    field: FieldRead  # their 合計所得金額, with its source
    tie: Tie
    relation: str
    birth_date: date
    age: int  # on 31 December of the year
    kind: RelativeKind | None  # None while the return cannot be computed
    amount: int  # the deduction they bring (障害者控除 aside)

    @property
    def kind_label(self) -> str | None:
        """How they count, as a message id."""
        return None if self.kind is None else KIND_LABELS[self.kind]


@dataclass(frozen=True, slots=True)
class MedicalOptions:
    """医療費控除 or セルフメディケーション税制: what each would deduct, and the choice."""

    medical_expenses: int  # 医療費控除 on the medical expenses as they stand
    self_medication: int  # the セルフメディケーション deduction on the purchases entered
    better: MedicalChoice
    chosen: MedicalChoice
    spent: int | None  # the purchases entered; None before the resident entered any


@dataclass(frozen=True, slots=True)
class PreviousRead:
    """The return of the year before as the NTA holds it (read-only, not a field)."""

    year: int
    name: str  # 令和6年分
    found: bool
    total_income: int | None  # 合計所得金額
    total_tax: int | None  # 所得税及び復興特別所得税の額
    due: int | None
    refund: int | None
    filed_on: date | None
    receipt_number: str | None
    read_at: datetime


@dataclass(frozen=True, slots=True)
class Offer:
    """A source the resident may agree to read, and what reading it would bring in.

    ``key`` is the consent's name: ``salary``, ``pension``, ``medical``, ``donations``,
    ``household``, ``previous``, or ``certificate:<delivery id>`` for one 控除証明書.
    """

    key: str
    section: str
    title: str  # a message id, or a sender's name
    detail: str  # what is read, in the sender's words (plain text)
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class Consents:
    """What the resident agreed to gather, item by item."""

    salary: bool = False
    pension: bool = False
    medical: bool = False
    donations: bool = False
    certificates: frozenset[str] = field(default_factory=frozenset)  # delivery ids
    household: bool = False  # the 世帯 and its members' income, from the municipality
    previous: bool = False  # the return of the year before, from the NTA

    @classmethod
    def from_keys(cls, keys: Iterable[str]) -> Consents:
        """Read the keys a consent form sent (see :class:`Offer`)."""
        chosen = set(keys)
        return cls(
            salary="salary" in chosen,
            pension="pension" in chosen,
            medical="medical" in chosen,
            donations="donations" in chosen,
            household="household" in chosen,
            previous="previous" in chosen,
            certificates=frozenset(
                key.removeprefix("certificate:") for key in chosen if key.startswith("certificate:")
            ),
        )

    @property
    def any_document(self) -> bool:
        """Whether any source in the 民間送達 box is agreed to."""
        return self.salary or self.pension or self.donations or bool(self.certificates)


@dataclass(frozen=True, slots=True)
class GatherReport:
    """What a gathering brought in.

    ``household`` is ``""`` (not asked), ``read``, ``unavailable`` (the municipality did
    not answer) or ``incomplete`` (its record did not say who is who);
    ``incomes_unavailable`` tells that the members' income could not be asked just now.
    ``previous`` is ``""``, ``found``, ``none`` or ``unavailable``.
    """

    fields: int
    documents: int
    medical_read: bool
    medical_unavailable: bool
    household: str = ""
    relatives: int = 0
    incomes_unavailable: bool = False
    previous: str = ""

    @property
    def notes(self) -> tuple[str, ...]:
        """What the return page should tell about sources that were not (fully) read."""
        found: list[str] = []
        if self.medical_unavailable:
            found.append("medical-unavailable")
        if self.household in (UNAVAILABLE, INCOMPLETE):
            found.append(f"household-{self.household}")
        if self.incomes_unavailable:
            found.append("incomes-unavailable")
        if self.previous == UNAVAILABLE:
            found.append("previous-unavailable")
        return tuple(found)


# -- starting a return -----------------------------------------------------------------------


def _read(row: TaxReturnRow) -> TaxReturnRead:
    return TaxReturnRead(
        id=row.id,
        year=row.year,
        name=nenbun(row.year),
        status=row.status,
        birth_date=row.birth_date,
        created_at=row.created_at,
        updated_at=row.updated_at,
        gathered_at=row.gathered_at,
    )


def _row(session: Session, resident_id: int, year: int) -> TaxReturnRow:
    found = session.scalar(
        select(TaxReturnRow).where(
            TaxReturnRow.resident_id == resident_id, TaxReturnRow.year == year
        )
    )
    if found is None:
        raise ReturnNotFoundError
    return found


def _draft(session: Session, resident_id: int, year: int) -> TaxReturnRow:
    row = _row(session, resident_id, year)
    if row.status != DRAFT:
        raise ReturnNotDraftError
    return row


def _birth_date(session: Session, hub: network.Hub, resident_id: int, year: int) -> date:
    """The resident's date of birth, asked through the hub (本人確認情報, logged)."""
    outcome = network.request_self_information(
        session=session,
        hub=hub,
        resident_id=resident_id,
        items=[BASIC_INFO_ITEM],
        purpose=f"確定申告（{nenbun(year)}）の年齢の確認",
    )
    for result in outcome.results:
        for record in result.records:
            born = record.payload.get("birth_date")
            if isinstance(born, str):
                return date.fromisoformat(born)
    raise IdentityUnavailableError


def start_return(
    *, session: Session, hub: network.Hub, resident_id: int, year: int
) -> TaxReturnRead:
    """Start the resident's return for ``year`` (one per year: a second start finds the first)."""
    load_rules(year)  # UnknownTaxYearError for a year without rules
    existing = session.scalar(
        select(TaxReturnRow).where(
            TaxReturnRow.resident_id == resident_id, TaxReturnRow.year == year
        )
    )
    if existing is not None:
        return _read(existing)
    now = utcnow()
    row = TaxReturnRow(
        resident_id=resident_id,
        year=year,
        status=DRAFT,
        birth_date=_birth_date(session, hub, resident_id, year),
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # started at the same moment elsewhere: that one stands
        return _read(_row(session, resident_id, year))
    return _read(row)


def tax_return(*, session: Session, resident_id: int, year: int) -> TaxReturnRead:
    """The resident's return for ``year``, or ReturnNotFoundError."""
    return _read(_row(session, resident_id, year))


def tax_returns(*, session: Session, resident_id: int) -> list[TaxReturnRead]:
    """The resident's returns, the latest year first."""
    rows = session.scalars(
        select(TaxReturnRow)
        .where(TaxReturnRow.resident_id == resident_id)
        .order_by(TaxReturnRow.year.desc())
    )
    return [_read(row) for row in rows]


# -- gathering -------------------------------------------------------------------------------


def _consent_key(delivered: DeliveredDocument) -> str | None:
    document = delivered.document
    if isinstance(document, SalaryWithholdingSlip):
        return "salary"
    if isinstance(document, PublicPensionWithholdingSlip):
        return "pension"
    if isinstance(document, DonationReceipt):
        return "donations"
    if isinstance(
        document,
        LifeInsuranceCertificate | EarthquakeInsuranceCertificate | NationalPensionCertificate,
    ):
        return f"certificate:{delivered.delivery_id}"
    return None


def _figures(delivered: DeliveredDocument) -> tuple[str, list[tuple[str, int]]]:
    """The section a document fills and its (item, yen) figures."""
    document = delivered.document
    if isinstance(document, SalaryWithholdingSlip):
        return "salary", [
            ("paid", document.payment_amount),
            ("withheld", document.withholding_tax),
            ("social_insurance", document.social_insurance),
        ]
    if isinstance(document, PublicPensionWithholdingSlip):
        return "pension", [
            ("paid", document.payment_amount),
            ("withheld", document.withholding_tax),
            ("social_insurance", document.social_insurance),
        ]
    if isinstance(document, LifeInsuranceCertificate):
        # The 申告額 is the year's whole premium; the 証明額 stops at its date.
        item = _LIFE_ITEMS[(document.system, document.category)]
        return "life_insurance", [(item, document.declared_amount)]
    if isinstance(document, EarthquakeInsuranceCertificate):
        figures = [("earthquake", document.earthquake_premium)]
        if document.old_long_term_premium:
            figures.append(("old_long_term", document.old_long_term_premium))
        return "earthquake", figures
    if isinstance(document, NationalPensionCertificate):
        # Paid so far and 見込額 due by December: the year's premiums, as the certificate
        # is meant to be used (国民年金保険料の控除証明書).
        return "social_insurance", [("paid", document.paid_amount + document.expected_amount)]
    return "donations", [("amount", document.total)]


def _detail(delivered: DeliveredDocument) -> str:
    _section, figures = _figures(delivered)
    return "、".join(f"{amount:,}円" for _item, amount in figures) + f"（{delivered.sender_name}）"


def offers(
    *, session: Session, documents: DocumentSource, resident_id: int, year: int
) -> list[Offer]:
    """What the resident may agree to gather for ``year``, item by item."""
    _row(session, resident_id, year)
    found: list[Offer] = []
    kinds_seen: set[str] = set()
    delivered = documents.documents(session=session, resident_id=resident_id, year=year)
    for entry in delivered:
        key = _consent_key(entry)
        if key is None or entry.document.year != year:
            continue
        section, _ = _figures(entry)
        if key.startswith("certificate:"):
            found.append(Offer(key, section, entry.sender_name, _detail(entry), entry.received_at))
        elif key not in kinds_seen:
            kinds_seen.add(key)
            detail = "／".join(_detail(e) for e in delivered if _consent_key(e) == key)
            found.append(Offer(key, section, SECTIONS[section], detail, entry.received_at))
    found.append(Offer("medical", "medical", _MEDICAL_NOTICE_NAME, "", None))
    order = list(SECTIONS)
    listed = sorted(found, key=lambda offer: order.index(offer.section))
    return [
        *listed,
        Offer("household", SPOUSE, _HOUSEHOLD_TITLE, "", None),
        Offer("previous", "previous", _PREVIOUS_TITLE, nenbun(year - 1), None),
    ]


def _agreed(consents: Consents, delivered: DeliveredDocument) -> bool:
    key = _consent_key(delivered)
    if key is None:
        return False
    if key.startswith("certificate:"):
        return delivered.delivery_id in consents.certificates
    return bool(getattr(consents, key))


def _fill(
    session: Session,
    row: TaxReturnRow,
    *,
    section: str,
    group_key: str,
    item: str,
    value: int,
    source: SourceRead,
) -> TaxReturnFieldRow:
    """Put a gathered figure in its field; a value the resident corrected stays theirs."""
    now = utcnow()
    existing = session.scalar(
        select(TaxReturnFieldRow).where(
            TaxReturnFieldRow.return_id == row.id,
            TaxReturnFieldRow.section == section,
            TaxReturnFieldRow.group_key == group_key,
            TaxReturnFieldRow.item == item,
        )
    )
    if existing is None:
        existing = TaxReturnFieldRow(return_id=row.id, section=section, group_key=group_key)
        existing.item = item
        existing.created_at = now
        existing.value = value
        session.add(existing)
    elif not _correction_count(session, existing.id):
        existing.value = value
    existing.gathered_value = value
    existing.source_kind = source.kind
    existing.source_name = source.name[:200]
    existing.source_delivery_id = source.delivery_id
    existing.source_document_id = source.document_id
    existing.source_date = source.on
    existing.updated_at = now
    return existing


def _correction_count(session: Session, field_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(TaxReturnCorrectionRow)
            .where(TaxReturnCorrectionRow.field_id == field_id)
        )
        or 0
    )


def _medical_paid(session: Session, hub: network.Hub, resident_id: int, year: int) -> int | None:
    """The year's 医療費通知: what was paid at the counter in the months of ``year``.

    Asked through the hub for the 医療費通知 item only (logged in the やりとり履歴 with the
    return as its purpose); None when an insurer did not answer.
    """
    records = medical_service.own_health_records(
        session=session,
        hub=hub,
        resident_id=resident_id,
        items=(EXPENSE_ITEM,),
        purpose=f"確定申告（{nenbun(year)}）の医療費控除",
    )
    if EXPENSE_ITEM in records.unavailable:
        return None
    prefix = f"{year:04d}-"
    return sum(record.paid for record in records.expenses if record.month.startswith(prefix))


def _records(outcome: network.ExchangeOutcome, item: str) -> list[dict[str, Any]]:
    return [
        record.payload
        for result in outcome.results
        if result.item == item
        for record in result.records
    ]


def _members(payload: dict[str, Any]) -> list[tuple[str, date]] | None:
    """The household's (続柄, date of birth) pairs; None when the record does not give them."""
    relations = payload.get("member_relations")
    births = payload.get("member_birth_dates")
    if not isinstance(relations, list) or not isinstance(births, list):
        return None
    if len(relations) != len(births) or not relations:
        return None
    try:
        return [
            (str(r), date.fromisoformat(str(b))) for r, b in zip(relations, births, strict=True)
        ]
    except ValueError:
        return None


def _incomes(payloads: Iterable[dict[str, Any]], year: int) -> dict[tuple[str, date], int]:
    """The assessed 合計所得金額 of ``year`` by (続柄, date of birth).

    Two members alike in both (twins) whose figures differ are told apart by neither:
    their income is left unknown rather than guessed.
    """
    found: dict[tuple[str, date], int | None] = {}
    for payload in payloads:
        relation, born, total = (
            payload.get("relation_to_head"),
            payload.get("birth_date"),
            payload.get("total_income"),
        )
        if payload.get("income_year") != year or not isinstance(relation, str):
            continue
        if not isinstance(born, str) or isinstance(total, bool) or not isinstance(total, int):
            continue
        try:
            key = (relation, date.fromisoformat(born))
        except ValueError:
            continue
        found[key] = total if found.get(key, total) == total else None
    return {key: total for key, total in found.items() if total is not None}


@dataclass(frozen=True, slots=True)
class _Household:
    status: str
    relatives: tuple[tuple[HouseholdRelative, int | None], ...] = ()
    incomes_unavailable: bool = False


def _household(session: Session, hub: network.Hub, row: TaxReturnRow) -> _Household:
    """The resident's household and its members' income of the year, asked through the hub.

    One request for both items (logged in やりとり履歴 under 確定申告書の作成): the
    municipality's 世帯 record with each member's 続柄 and date of birth, and the
    合計所得金額 it assessed for the other members. The resident is found in the
    household by their own 続柄 and the date of birth the return was started with.
    """
    outcome = network.request_self_information(
        session=session,
        hub=hub,
        resident_id=row.resident_id,
        items=[HOUSEHOLD_ITEM, HOUSEHOLD_INCOME_ITEM],
        procedure=PREPARATION_PROCEDURE,
        purpose=f"確定申告（{nenbun(row.year)}）の配偶者控除・扶養控除",
    )
    unavailable = outcome.unavailable_items()
    if HOUSEHOLD_ITEM in unavailable:
        return _Household(UNAVAILABLE)
    households = _records(outcome, HOUSEHOLD_ITEM)
    members = _members(households[0]) if households else None
    relation = households[0].get("relation_to_head") if households else None
    if members is None or not isinstance(relation, str):
        return _Household(INCOMPLETE)
    relatives = household_relatives((relation, row.birth_date), members, year=row.year)
    if relatives is None:
        return _Household(INCOMPLETE)
    incomes_unavailable = HOUSEHOLD_INCOME_ITEM in unavailable
    incomes = (
        {} if incomes_unavailable else _incomes(_records(outcome, HOUSEHOLD_INCOME_ITEM), row.year)
    )
    return _Household(
        READ,
        tuple((r, incomes.get((r.relation, r.birth_date))) for r in relatives),
        incomes_unavailable,
    )


def _fill_household(session: Session, row: TaxReturnRow, household: _Household) -> int:
    """Each relative's income field; relatives no longer in the household leave the return."""
    today = utcnow().astimezone(JST).date()
    kept: set[tuple[str, str]] = set()
    for relative, income in household.relatives:
        section = SPOUSE if relative.tie is Tie.SPOUSE else DEPENDANTS
        key = str(RelativeKey(relative.tie, relative.birth_date, relative.relation))
        kept.add((section, key))
        known = income is not None
        source = SourceRead(
            kind=MUNICIPALITY if known else ASSUMED,
            name=_ASSESSED_NAME if known else _ASSUMED_NAME,
            delivery_id=None,
            document_id=None,
            on=today,
        )
        _fill(
            session,
            row,
            section=section,
            group_key=key,
            item=INCOME,
            value=income or 0,
            source=source,
        )
    gone = session.scalars(
        select(TaxReturnFieldRow).where(
            TaxReturnFieldRow.return_id == row.id,
            TaxReturnFieldRow.section.in_(RELATIVE_SECTIONS),
        )
    )
    for stale in list(gone):
        if (stale.section, stale.group_key) not in kept:
            session.execute(
                delete(TaxReturnCorrectionRow).where(TaxReturnCorrectionRow.field_id == stale.id)
            )
            session.delete(stale)
    return len(kept)


def _previous(session: Session, hub: network.Hub, row: TaxReturnRow) -> str:
    """The NTA's record of the return of the year before, kept beside this one to compare.

    Asked through the hub (logged); ``found``, ``none`` when the NTA holds no return of
    that year for the resident, or ``unavailable`` when it did not answer (then nothing
    is kept, and what was kept before stays).
    """
    before = row.year - 1
    outcome = network.request_self_information(
        session=session,
        hub=hub,
        resident_id=row.resident_id,
        items=[PREVIOUS_RETURN_ITEM],
        procedure=PREPARATION_PROCEDURE,
        purpose=f"確定申告（{nenbun(row.year)}）の前年分との比較",
    )
    if PREVIOUS_RETURN_ITEM in outcome.unavailable_items():
        return UNAVAILABLE
    record = next(
        (p for p in _records(outcome, PREVIOUS_RETURN_ITEM) if p.get("income_year") == before),
        None,
    )
    kept = session.scalar(
        select(TaxReturnPreviousRow).where(TaxReturnPreviousRow.return_id == row.id)
    )
    if kept is None:
        kept = TaxReturnPreviousRow(return_id=row.id)
        session.add(kept)
    payload = record or {}

    def figure(name: str) -> int | None:
        value = payload.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    filed_on = payload.get("filed_on")
    receipt = payload.get("receipt_number")
    kept.income_year = before
    kept.found = record is not None
    kept.total_income = figure("total_income")
    kept.total_tax = figure("total_tax")
    kept.due = figure("due")
    kept.refund = figure("refund")
    kept.receipt_number = receipt[:32] if isinstance(receipt, str) else None
    kept.filed_on = _date_or_none(filed_on)
    kept.read_at = utcnow()
    return FOUND if record is not None else NONE_FOUND


def _date_or_none(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def gather(
    *,
    session: Session,
    hub: network.Hub,
    documents: DocumentSource,
    resident_id: int,
    year: int,
    consents: Consents,
) -> GatherReport:
    """Fill the return from the sources the resident agreed to, and from no other.

    The 民間送達 box is read only when a document is agreed to, and only the agreed
    documents fill fields; the insurers are asked only when the 医療費通知 is agreed to,
    the municipality only when the household is, the NTA only when the year before is.
    """
    row = _draft(session, resident_id, year)
    filled = used = 0
    if consents.any_document:
        for delivered in documents.documents(session=session, resident_id=resident_id, year=year):
            if delivered.document.year != year or not _agreed(consents, delivered):
                continue
            used += 1
            section, figures = _figures(delivered)
            source = SourceRead(
                kind=DOCUMENT,
                name=delivered.sender_name,
                delivery_id=delivered.delivery_id,
                document_id=delivered.document.document_id,
                on=delivered.received_at.astimezone(JST).date(),
            )
            for item, value in figures:
                _fill(
                    session,
                    row,
                    section=section,
                    group_key=delivered.delivery_id,
                    item=item,
                    value=value,
                    source=source,
                )
                filled += 1
    medical_read = medical_unavailable = False
    if consents.medical:
        paid = _medical_paid(session, hub, resident_id, year)
        medical_read = True
        if paid is None:
            medical_unavailable = True
        else:
            source = SourceRead(
                kind=MEDICAL_NOTICE,
                name=_MEDICAL_NOTICE_NAME,
                delivery_id=None,
                document_id=None,
                on=utcnow().astimezone(JST).date(),
            )
            _fill(
                session,
                row,
                section="medical",
                group_key=MEDICAL_GROUP,
                item="paid",
                value=paid,
                source=source,
            )
            filled += 1
    household = _Household("")
    relatives = 0
    if consents.household:
        household = _household(session, hub, row)
        if household.status == READ:
            relatives = _fill_household(session, row, household)
            filled += relatives
    previous = _previous(session, hub, row) if consents.previous else ""
    now = utcnow()
    row.gathered_at = now
    row.updated_at = now
    session.flush()
    return GatherReport(
        fields=filled,
        documents=used,
        medical_read=medical_read,
        medical_unavailable=medical_unavailable,
        household=household.status,
        relatives=relatives,
        incomes_unavailable=household.incomes_unavailable,
        previous=previous,
    )


# -- the fields and their corrections --------------------------------------------------------


def _field_read(row: TaxReturnFieldRow, corrections: int) -> FieldRead:
    return FieldRead(
        id=row.id,
        section=row.section,
        group_key=row.group_key,
        item=row.item,
        label=ITEMS[(row.section, row.item)][0],
        value=row.value,
        gathered_value=row.gathered_value,
        source=SourceRead(
            kind=row.source_kind,
            name=row.source_name,
            delivery_id=row.source_delivery_id,
            document_id=row.source_document_id,
            on=row.source_date,
        ),
        corrections=corrections,
    )


def _field_rows(session: Session, return_id: int) -> list[TaxReturnFieldRow]:
    order = list(SECTIONS)
    rows = list(
        session.scalars(
            select(TaxReturnFieldRow)
            .where(TaxReturnFieldRow.return_id == return_id)
            .order_by(TaxReturnFieldRow.id)
        )
    )
    return sorted(rows, key=lambda r: order.index(r.section))


def fields(*, session: Session, resident_id: int, year: int) -> list[FieldRead]:
    """Every filled field of the resident's return, in the order of the form."""
    row = _row(session, resident_id, year)
    counts = _correction_counts(session, row.id)
    return [_field_read(f, counts.get(f.id, 0)) for f in _field_rows(session, row.id)]


def _correction_counts(session: Session, return_id: int) -> dict[int, int]:
    """How many corrections each field of the return has, by field id."""
    return dict(
        session.execute(
            select(TaxReturnCorrectionRow.field_id, func.count())
            .join(TaxReturnFieldRow, TaxReturnFieldRow.id == TaxReturnCorrectionRow.field_id)
            .where(TaxReturnFieldRow.return_id == return_id)
            .group_by(TaxReturnCorrectionRow.field_id)
        ).all()
    )


def correct_field(
    *, session: Session, resident_id: int, year: int, field_id: int, value: int
) -> CorrectionRead:
    """Change a field's value, recording the old and the new value, who and when.

    A negative or absurd amount is refused with the tax domain's message
    (:class:`~myna.tax.domain.TaxInputError`); a field of another resident's return
    is not found.
    """
    row = _draft(session, resident_id, year)
    target = session.scalar(
        select(TaxReturnFieldRow).where(
            TaxReturnFieldRow.id == field_id, TaxReturnFieldRow.return_id == row.id
        )
    )
    if target is None or (target.section, target.item) in CHOICE_ITEMS:
        raise ReturnNotFoundError  # a choice is made with choose_medical, not corrected
    label_key = ITEMS[(target.section, target.item)][1]
    problem = amount_problem(f"{target.section}.{target.item}", value, label_key)
    if problem is not None:
        raise TaxInputError([problem])
    return _change(session, row, target, value, resident_id)


def _change(
    session: Session, row: TaxReturnRow, target: TaxReturnFieldRow, value: int, resident_id: int
) -> CorrectionRead:
    """Record the change of ``target`` to ``value`` (the correction row), then make it."""
    now = utcnow()
    correction = TaxReturnCorrectionRow(
        field_id=target.id,
        old_value=target.value,
        new_value=value,
        corrected_by=resident_id,
        corrected_at=now,
    )
    session.add(correction)
    target.value = value
    target.updated_at = now
    row.updated_at = now
    session.flush()
    return _correction_read(correction, target)


def _resident_field(session: Session, row: TaxReturnRow, item: str) -> TaxReturnFieldRow | None:
    return session.scalar(
        select(TaxReturnFieldRow).where(
            TaxReturnFieldRow.return_id == row.id,
            TaxReturnFieldRow.section == SELF_MEDICATION,
            TaxReturnFieldRow.group_key == RESIDENT_GROUP,
            TaxReturnFieldRow.item == item,
        )
    )


def enter_self_medication(
    *, session: Session, resident_id: int, year: int, spent: int
) -> FieldRead:
    """The 特定一般用医薬品等購入費 the resident entered: a field sourced ``resident``.

    The first entry creates the field (and the choice, 医療費控除 until the resident
    chooses otherwise); entering again is a correction, recorded like any other. A
    negative or absurd amount is refused (:class:`~myna.tax.domain.TaxInputError`).
    """
    row = _draft(session, resident_id, year)
    problem = amount_problem("self_medication_spent", spent)
    if problem is not None:
        raise TaxInputError([problem])
    existing = _resident_field(session, row, SPENT)
    if existing is not None:
        if existing.value != spent:
            _change(session, row, existing, spent, resident_id)
        return _field_read(existing, _correction_count(session, existing.id))
    source = SourceRead(
        kind=RESIDENT,
        name=_RESIDENT_NAME,
        delivery_id=None,
        document_id=None,
        on=utcnow().astimezone(JST).date(),
    )
    created = _fill(
        session,
        row,
        section=SELF_MEDICATION,
        group_key=RESIDENT_GROUP,
        item=SPENT,
        value=spent,
        source=source,
    )
    _fill(
        session,
        row,
        section=SELF_MEDICATION,
        group_key=RESIDENT_GROUP,
        item=CLAIMED,
        value=0,
        source=source,
    )
    row.updated_at = utcnow()
    session.flush()
    return _field_read(created, 0)


def choose_medical(
    *, session: Session, resident_id: int, year: int, choice: MedicalChoice
) -> MedicalChoice:
    """The resident's choice of 医療費控除 or セルフメディケーション税制 (one or the other).

    A change is recorded as a correction of the ``claimed`` field. Choosing the
    セルフメディケーション税制 needs the purchases entered first
    (:class:`SelfMedicationNotEnteredError`).
    """
    row = _draft(session, resident_id, year)
    claimed = _resident_field(session, row, CLAIMED)
    wanted = 1 if choice is MedicalChoice.SELF_MEDICATION else 0
    if claimed is None:
        if wanted:
            raise SelfMedicationNotEnteredError
        return choice
    if claimed.value != wanted:
        _change(session, row, claimed, wanted, resident_id)
    return choice


def _correction_read(row: TaxReturnCorrectionRow, target: TaxReturnFieldRow) -> CorrectionRead:
    return CorrectionRead(
        id=row.id,
        field_id=target.id,
        section=target.section,
        label=ITEMS[(target.section, target.item)][0],
        source_name=target.source_name,
        old_value=row.old_value,
        new_value=row.new_value,
        corrected_by=row.corrected_by,
        corrected_at=row.corrected_at,
        choice=(target.section, target.item) in CHOICE_ITEMS,
    )


def corrections(*, session: Session, resident_id: int, year: int) -> list[CorrectionRead]:
    """Every correction of the resident's return, the latest first."""
    row = _row(session, resident_id, year)
    found = session.execute(
        select(TaxReturnCorrectionRow, TaxReturnFieldRow)
        .join(TaxReturnFieldRow, TaxReturnFieldRow.id == TaxReturnCorrectionRow.field_id)
        .where(TaxReturnFieldRow.return_id == row.id)
        .order_by(TaxReturnCorrectionRow.corrected_at.desc(), TaxReturnCorrectionRow.id.desc())
    ).all()
    return [_correction_read(correction, target) for correction, target in found]


# -- the computation -------------------------------------------------------------------------


def _relatives_of(
    rows: Sequence[TaxReturnFieldRow],
) -> list[tuple[TaxReturnFieldRow, RelativeKey]]:
    """Each relative's income field and key, in the order of the fields (spouse first)."""
    found: list[tuple[TaxReturnFieldRow, RelativeKey]] = []
    for f in rows:
        key = RelativeKey.parse(f.group_key) if f.section in RELATIVE_SECTIONS else None
        if key is not None and f.item == INCOME:
            found.append((f, key))
    return found


def _relative(row: TaxReturnFieldRow, key: RelativeKey) -> Relative:
    # The assessed figure is already the 合計所得金額 (所得, not revenue): other_income.
    return Relative(
        birth_date=key.birth_date,
        other_income=row.value,
        lineal_ascendant=key.tie is Tie.ASCENDANT,
    )


def _input(row: TaxReturnRow, rows: Sequence[TaxReturnFieldRow]) -> TaxReturnInput:
    """The domain's input from the fields as they stand (gathered, then corrected)."""
    relatives = _relatives_of(rows)
    spouses = [_relative(f, key) for f, key in relatives if f.section == SPOUSE]
    dependants = tuple(_relative(f, key) for f, key in relatives if f.section == DEPENDANTS)
    groups: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    payers: dict[tuple[str, str], str] = {}
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for f in rows:
        groups[(f.section, f.group_key)][f.item] = f.value
        payers[(f.section, f.group_key)] = f.source_name
        totals[(f.section, f.item)] += f.value
    salaries = tuple(
        SalarySlip(
            paid=items.get("paid", 0),
            withheld=items.get("withheld", 0),
            social_insurance=items.get("social_insurance", 0),
            payer=payers[key],
        )
        for key, items in groups.items()
        if key[0] == "salary"
    )
    pensions = tuple(
        PensionSlip(
            paid=items.get("paid", 0),
            withheld=items.get("withheld", 0),
            social_insurance=items.get("social_insurance", 0),
            payer=payers[key],
        )
        for key, items in groups.items()
        if key[0] == "pension"
    )
    return TaxReturnInput(
        year=row.year,
        birth_date=row.birth_date,
        salaries=salaries,
        pensions=pensions,
        social_insurance=totals[("social_insurance", "paid")],
        life_insurance=LifeInsurancePremiums(
            **{name: totals[("life_insurance", name)] for name in _LIFE_ITEMS.values()}
        ),
        earthquake_insurance=EarthquakePremiums(
            earthquake=totals[("earthquake", "earthquake")],
            old_long_term=totals[("earthquake", "old_long_term")],
        ),
        medical_choice=(
            MedicalChoice.SELF_MEDICATION
            if totals[(SELF_MEDICATION, CLAIMED)]
            else MedicalChoice.MEDICAL_EXPENSES
        ),
        medical_expenses=MedicalExpenses(paid=totals[("medical", "paid")]),
        self_medication_spent=totals[(SELF_MEDICATION, SPENT)],
        donations=totals[("donations", "amount")],
        spouse=spouses[0] if spouses else None,
        dependants=dependants,
    )


def return_input(*, session: Session, resident_id: int, year: int) -> TaxReturnInput:
    """What the resident's return is computed from, as the fields stand now."""
    row = _row(session, resident_id, year)
    return _input(row, _field_rows(session, row.id))


def compute_return(*, session: Session, resident_id: int, year: int) -> TaxComputation:
    """The resident's return computed under the year's rules (TaxInputError if it cannot be)."""
    return compute(
        load_rules(year), return_input(session=session, resident_id=resident_id, year=year)
    )


def field_sections(filled: Sequence[FieldRead]) -> list[tuple[str, list[FieldRead]]]:
    """The figures shown as they are, section by section (title, fields), in form order.

    Relatives are shown with who they are (:func:`relatives`), and a choice beside the
    two deductions it chooses between (:func:`medical_options`), not here.
    """
    shown = [
        f
        for f in filled
        if f.section not in RELATIVE_SECTIONS and (f.section, f.item) not in CHOICE_ITEMS
    ]
    return [
        (title, [f for f in shown if f.section == section])
        for section, title in SECTIONS.items()
        if any(f.section == section for f in shown)
    ]


def _computed(row: TaxReturnRow, rows: Sequence[TaxReturnFieldRow]) -> TaxComputation | None:
    # A return that cannot be computed says what to correct; the rest shows without it.
    with contextlib.suppress(TaxInputError):
        return compute(load_rules(row.year), _input(row, rows))
    return None


def _relative_reads(
    rows: Sequence[TaxReturnFieldRow],
    counts: dict[int, int],
    computation: TaxComputation | None,
    year: int,
) -> list[RelativeRead]:
    dependant_lines = iter(computation.dependants if computation else ())
    listed: list[RelativeRead] = []
    for f, key in _relatives_of(rows):
        line = None
        if computation is not None:
            line = computation.spouse if f.section == SPOUSE else next(dependant_lines, None)
        listed.append(
            RelativeRead(
                field=_field_read(f, counts.get(f.id, 0)),
                tie=key.tie,
                relation=key.relation,
                birth_date=key.birth_date,
                age=age_on_last_day(key.birth_date, year),
                kind=None if line is None else line.kind,
                amount=0 if line is None else line.amount,
            )
        )
    return listed


def _medical_options(row: TaxReturnRow, rows: Sequence[TaxReturnFieldRow]) -> MedicalOptions | None:
    inputs = _input(row, rows)
    if validate(inputs):
        return None
    rules = load_rules(row.year)
    total_income = compute_income(rules, inputs).total_income
    entered = any((f.section, f.item) == (SELF_MEDICATION, SPENT) for f in rows)
    return MedicalOptions(
        medical_expenses=medical_expense_deduction(
            rules, inputs.medical_expenses, total_income=total_income
        ),
        self_medication=self_medication_deduction(rules, inputs.self_medication_spent),
        better=better_medical_choice(rules, inputs),
        chosen=inputs.medical_choice,
        spent=inputs.self_medication_spent if entered else None,
    )


def relatives(*, session: Session, resident_id: int, year: int) -> list[RelativeRead]:
    """The spouse and relatives on the return: who, their income field, how they count."""
    row = _row(session, resident_id, year)
    rows = _field_rows(session, row.id)
    counts = _correction_counts(session, row.id)
    return _relative_reads(rows, counts, _computed(row, rows), year)


def medical_options(*, session: Session, resident_id: int, year: int) -> MedicalOptions | None:
    """What 医療費控除 and セルフメディケーション税制 would each deduct, the better one, the choice.

    None while the return's inputs cannot be computed (the page says what to correct).
    """
    row = _row(session, resident_id, year)
    return _medical_options(row, _field_rows(session, row.id))


@dataclass(frozen=True, slots=True)
class ReturnView:
    """Everything the return page shows, read once: fields, relatives, choices, figures."""

    tax_return: TaxReturnRead
    fields: list[FieldRead]
    relatives: list[RelativeRead]
    medical: MedicalOptions | None
    previous: PreviousRead | None
    computation: TaxComputation | None
    problem: TaxInputError | None  # why the return cannot be computed as it stands


def return_view(*, session: Session, resident_id: int, year: int) -> ReturnView:
    """The resident's return as its page shows it (ReturnNotFoundError without one)."""
    row = _row(session, resident_id, year)
    rows = _field_rows(session, row.id)
    counts = _correction_counts(session, row.id)
    computation: TaxComputation | None = None
    problem: TaxInputError | None = None
    try:
        computation = compute(load_rules(year), _input(row, rows))
    except TaxInputError as error:
        problem = error
    return ReturnView(
        tax_return=_read(row),
        fields=[_field_read(f, counts.get(f.id, 0)) for f in rows],
        relatives=_relative_reads(rows, counts, computation, year),
        medical=_medical_options(row, rows),
        previous=previous_year(session=session, resident_id=resident_id, year=year),
        computation=computation,
        problem=problem,
    )


def previous_year(*, session: Session, resident_id: int, year: int) -> PreviousRead | None:
    """The return of the year before as read from the NTA; None if it was never asked for."""
    row = _row(session, resident_id, year)
    kept = session.scalar(
        select(TaxReturnPreviousRow).where(TaxReturnPreviousRow.return_id == row.id)
    )
    if kept is None:
        return None
    return PreviousRead(
        year=kept.income_year,
        name=nenbun(kept.income_year),
        found=kept.found,
        total_income=kept.total_income,
        total_tax=kept.total_tax,
        due=kept.due,
        refund=kept.refund,
        filed_on=kept.filed_on,
        receipt_number=kept.receipt_number,
        read_at=kept.read_at,
    )


__all__ = [
    "DRAFT",
    "FILED",
    "GATHER_NOTES",
    "ITEMS",
    "KIND_LABELS",
    "SECTIONS",
    "SIGNED",
    "Consents",
    "CorrectionRead",
    "FieldRead",
    "GatherReport",
    "IdentityUnavailableError",
    "MedicalOptions",
    "Offer",
    "PreviousRead",
    "RelativeKey",
    "RelativeRead",
    "ReturnNotDraftError",
    "ReturnNotFoundError",
    "ReturnView",
    "SelfMedicationNotEnteredError",
    "SourceRead",
    "TaxReturnRead",
    "choose_medical",
    "compute_return",
    "correct_field",
    "corrections",
    "enter_self_medication",
    "field_sections",
    "fields",
    "gather",
    "medical_options",
    "nenbun",
    "offers",
    "previous_year",
    "relatives",
    "return_input",
    "return_view",
    "start_return",
    "tax_return",
    "tax_returns",
]
