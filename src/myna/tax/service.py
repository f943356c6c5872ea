"""確定申告 use cases: start a return, gather what the resident agrees to, correct, compute.

The resident starts one return per year (年分). Gathering reads only the sources the
resident agreed to, item by item: the 源泉徴収票 and each 控除証明書 from the 民間送達
box (through :class:`~myna.tax.interfaces.DocumentSource`), the 医療費通知 from the
insurers through the network hub (so the look is in the resident's やりとり履歴), the
公的年金等の源泉徴収票 and the ふるさと納税 receipts. Each figure becomes a field that
remembers its source; a correction is a row of its own with the old and the new value,
who made it and when. The return is computed from the fields as they stand now, under
the year's rules (:func:`myna.tax.compute`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
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
    LifeInsurancePremiums,
    MedicalExpenses,
    PensionSlip,
    SalarySlip,
    TaxComputation,
    TaxInputError,
    TaxReturnInput,
    amount_problem,
    compute,
)
from myna.tax.interfaces import DeliveredDocument, DocumentSource
from myna.tax.models import TaxReturnCorrectionRow, TaxReturnFieldRow, TaxReturnRow
from myna.tax.rules import load_rules

DRAFT = "draft"
SIGNED = "signed"
FILED = "filed"

DOCUMENT = "document"
MEDICAL_NOTICE = "medical_notice"
RESIDENT = "resident"

BASIC_INFO_ITEM = "basic-info"
MEDICAL_GROUP = "notice"

# Sections of the return, in the order of the form, with the title each is shown under.
SECTIONS: dict[str, str] = {
    "salary": N_("Salary withholding slip (給与所得の源泉徴収票)"),
    "pension": N_("Public pension withholding slip (公的年金等の源泉徴収票)"),
    "social_insurance": N_("National pension premiums (社会保険料控除証明書)"),
    "life_insurance": N_("Life insurance premiums (生命保険料控除証明書)"),
    "earthquake": N_("Earthquake insurance premiums (地震保険料控除証明書)"),
    "medical": N_("Medical expenses (医療費通知)"),
    "donations": N_("Donations (寄附金受領証明書・ふるさと納税)"),
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
    ("donations", "amount"): (N_("Donations (寄附金)"), "donations"),
}

_LIFE_ITEMS = {
    (LifeInsuranceSystem.NEW, LifeInsuranceCategory.GENERAL): "new_general",
    (LifeInsuranceSystem.NEW, LifeInsuranceCategory.MEDICAL_CARE): "new_medical",
    (LifeInsuranceSystem.NEW, LifeInsuranceCategory.PENSION): "new_annuity",
    (LifeInsuranceSystem.OLD, LifeInsuranceCategory.GENERAL): "old_general",
    (LifeInsuranceSystem.OLD, LifeInsuranceCategory.PENSION): "old_annuity",
}

_MEDICAL_NOTICE_NAME = N_("Medical expense notices from your health insurer (医療費通知)")


class ReturnNotFoundError(NotFoundError, code="tax_return_not_found"):
    """The resident has no return for the year (or asked for a field of someone else's)."""

    message = N_("No tax return for this year was found. Start one first.")


class ReturnNotDraftError(MynaError, code="tax_return_not_draft", status_code=409):
    """A signed or filed return is not changed: the resident starts an amended one."""

    message = N_("This return has been signed and can no longer be changed.")


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


@dataclass(frozen=True, slots=True)
class Offer:
    """A source the resident may agree to read, and what reading it would bring in.

    ``key`` is the consent's name: ``salary``, ``pension``, ``medical``, ``donations``,
    or ``certificate:<delivery id>`` for one 控除証明書.
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

    @classmethod
    def from_keys(cls, keys: Iterable[str]) -> Consents:
        """Read the keys a consent form sent (see :class:`Offer`)."""
        chosen = set(keys)
        return cls(
            salary="salary" in chosen,
            pension="pension" in chosen,
            medical="medical" in chosen,
            donations="donations" in chosen,
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
    """What a gathering brought in."""

    fields: int
    documents: int
    medical_read: bool
    medical_unavailable: bool


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
    return sorted(found, key=lambda offer: order.index(offer.section))


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
) -> None:
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
    documents fill fields; the insurers are asked only when the 医療費通知 is agreed to.
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
    now = utcnow()
    row.gathered_at = now
    row.updated_at = now
    session.flush()
    return GatherReport(
        fields=filled,
        documents=used,
        medical_read=medical_read,
        medical_unavailable=medical_unavailable,
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
    counts = dict(
        session.execute(
            select(TaxReturnCorrectionRow.field_id, func.count())
            .join(TaxReturnFieldRow, TaxReturnFieldRow.id == TaxReturnCorrectionRow.field_id)
            .where(TaxReturnFieldRow.return_id == row.id)
            .group_by(TaxReturnCorrectionRow.field_id)
        ).all()
    )
    return [_field_read(f, counts.get(f.id, 0)) for f in _field_rows(session, row.id)]


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
    if target is None:
        raise ReturnNotFoundError
    label_key = ITEMS[(target.section, target.item)][1]
    problem = amount_problem(f"{target.section}.{target.item}", value, label_key)
    if problem is not None:
        raise TaxInputError([problem])
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


def _input(row: TaxReturnRow, rows: Sequence[TaxReturnFieldRow]) -> TaxReturnInput:
    """The domain's input from the fields as they stand (gathered, then corrected)."""
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
        medical_expenses=MedicalExpenses(paid=totals[("medical", "paid")]),
        donations=totals[("donations", "amount")],
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


__all__ = [
    "DRAFT",
    "FILED",
    "ITEMS",
    "SECTIONS",
    "SIGNED",
    "Consents",
    "CorrectionRead",
    "FieldRead",
    "GatherReport",
    "IdentityUnavailableError",
    "Offer",
    "ReturnNotDraftError",
    "ReturnNotFoundError",
    "SourceRead",
    "TaxReturnRead",
    "compute_return",
    "correct_field",
    "corrections",
    "fields",
    "gather",
    "nenbun",
    "offers",
    "return_input",
    "start_return",
    "tax_return",
    "tax_returns",
]
