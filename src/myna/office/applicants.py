"""Who filed an application, and finding applications: search, date filter, CSV.

The applicant's identity (本人確認情報: name, kana, date of birth, sex, address) is not
read from the registry: the municipality asks J-LIS for it through the hub, as any
agency asks for a person's information (procedure ``e-application-review``, item
``basic-info``, under its own link code), once, when staff first open the application.
The answer is kept with the application (``office_applicant_identities``) and the
exchange appears in the applicant's やりとり履歴. Until then, and when J-LIS cannot
answer, the page shows the name the signing certificate carries.

Search is scoped to the staff member's municipality like every other read: the applicant's
name in kanji or kana, partly (the certificate's name always, the kana once the identity
was fetched), the receipt number (partly, with or without hyphens), the procedure and the
filing date (a day in Japan, from and to).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from myna import agencies, network
from myna.applications import service as applications
from myna.applications.models import Application
from myna.applications.service import ApplicationPage, ApplicationRead
from myna.catalog.domain import normalise
from myna.office.models import ApplicantIdentity
from myna.platform.clock import JST
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError
from myna.platform.i18n import format_date, format_datetime
from myna.platform.i18n import gettext as _
from myna.platform.logging import get_logger
from myna.platform.params import DateOutOfRangeError, check_date

log = get_logger(__name__)

REVIEW_PROCEDURE = "e-application-review"
IDENTITY_ITEM = "basic-info"
JLIS = "jlis"
MAX_QUERY_LENGTH = 100
# A CSV holds at most this many rows; a narrower filter gets the rest.
MAX_EXPORT_ROWS = 10_000
# A cell a spreadsheet would read as a formula (CSV injection) gets a leading quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEX_LABELS = {1: N_("Male"), 2: N_("Female"), 9: N_("Not applicable")}


class SearchError(MynaError):
    """A search the page cannot run as asked (the page says why)."""

    code = "invalid_search"
    status_code = 422


class InvalidDateError(SearchError):
    code = "invalid_date"
    message = N_("Enter the filing date as year-month-day, for example 2026-11-28.")


class DateOrderError(SearchError):
    code = "date_order"
    message = N_("The “from” date is after the “to” date. Please swap or correct them.")


@dataclass(frozen=True, slots=True)
class Identity:
    """The applicant as the page shows them; ``from_jlis`` False: the certificate's name only."""

    name: str
    name_kana: str
    birth_date: date | None
    sex: int | None
    address: str
    from_jlis: bool
    fetched_at: datetime | None = None

    @property
    def sex_label(self) -> str:
        return "" if self.sex not in SEX_LABELS else _(SEX_LABELS[self.sex])


@dataclass(frozen=True, slots=True)
class Criteria:
    """What a clerk searches for; empty fields do not narrow the list."""

    name: str = ""
    receipt: str = ""
    procedure: str = ""
    filed_from: date | None = None
    filed_to: date | None = None
    status: str = ""

    def query_string(self) -> dict[str, str]:
        """The criteria as the list's query parameters (for pages and the CSV link)."""
        return {
            "q": self.name,
            "receipt": self.receipt,
            "procedure": self.procedure,
            "from": "" if self.filed_from is None else self.filed_from.isoformat(),
            "to": "" if self.filed_to is None else self.filed_to.isoformat(),
            "status": self.status,
        }


# --- the criteria from a form --------------------------------------------------------------


def parse_day(text: str) -> date | None:
    """A filing date typed as YYYY-MM-DD (an empty field: None); bad or absurd input raises."""
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidDateError from exc
    return check_date(day)


def criteria_from(
    *, name: str, receipt: str, procedure: str, filed_from: str, filed_to: str, status: str
) -> Criteria:
    """Check what the form sent; :class:`SearchError` or DateOutOfRangeError says what is wrong."""
    first, last = parse_day(filed_from), parse_day(filed_to)
    if first is not None and last is not None and first > last:
        raise DateOrderError
    return Criteria(
        name=name.strip()[:MAX_QUERY_LENGTH],
        receipt=receipt.strip()[:MAX_QUERY_LENGTH],
        procedure=procedure.strip(),
        filed_from=first,
        filed_to=last,
        status=status,
    )


DATE_ERRORS = (SearchError, DateOutOfRangeError)


# --- searching -------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    """The first instant of ``day`` in Japan, as a UTC-aware moment."""
    return datetime.combine(day, time(), JST)


def _statement(municipality_code: str, criteria: Criteria) -> Select[Any]:
    conditions: list[Any] = [Application.municipality_code == municipality_code]
    if criteria.status:
        conditions.append(Application.status == criteria.status)
    if criteria.procedure:
        conditions.append(Application.procedure_code == criteria.procedure)
    receipt = "".join(criteria.receipt.upper().split()).replace("-", "")
    if receipt:
        conditions.append(
            func.replace(Application.receipt_number, "-", "").contains(receipt, autoescape=True)
        )
    if criteria.filed_from is not None:
        conditions.append(Application.submitted_at >= _start_of(criteria.filed_from))
    if criteria.filed_to is not None:
        conditions.append(
            Application.submitted_at < _start_of(criteria.filed_to + timedelta(days=1))
        )
    statement = select(Application)
    name = normalise(criteria.name)
    if name:
        statement = statement.outerjoin(
            ApplicantIdentity, ApplicantIdentity.application_id == Application.id
        )
        conditions.append(
            or_(
                ApplicantIdentity.search_key.contains(name, autoescape=True),
                func.replace(Application.signer_name, " ", "").contains(name, autoescape=True),
            )
        )
    return statement.where(*conditions)


def search(
    *,
    session: Session,
    municipality_code: str,
    criteria: Criteria,
    page: int = 1,
    page_size: int = applications.DEFAULT_PAGE_SIZE,
) -> ApplicationPage:
    """The municipality's applications matching ``criteria``, newest first."""
    page = max(1, page)
    statement = _statement(municipality_code, criteria)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(
        statement.order_by(Application.id.desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return ApplicationPage(
        items=[applications.read(row) for row in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


def procedures_filed(*, session: Session, municipality_code: str) -> list[tuple[str, str]]:
    """(code, name) of every procedure filed with the municipality, by name: the choices."""
    codes = session.scalars(
        select(Application.procedure_code)
        .where(Application.municipality_code == municipality_code)
        .distinct()
    )
    return sorted(((code, applications.procedure_name(code)) for code in codes), key=lambda c: c[1])


def kana_of(*, session: Session, application_ids: Sequence[int]) -> dict[int, str]:
    """The applicants' kana already received from J-LIS, by application id."""
    if not application_ids:
        return {}
    rows = session.execute(
        select(ApplicantIdentity.application_id, ApplicantIdentity.name_kana).where(
            ApplicantIdentity.application_id.in_(application_ids)
        )
    )
    return {row.application_id: row.name_kana for row in rows}


# --- the CSV ---------------------------------------------------------------------------


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def export_csv(*, session: Session, municipality_code: str, criteria: Criteria) -> str:
    """The matching applications as CSV (header in the reader's language), newest first."""
    rows = session.scalars(
        _statement(municipality_code, criteria)
        .order_by(Application.id.desc())
        .limit(MAX_EXPORT_ROWS)
    ).all()
    kana = kana_of(session=session, application_ids=[row.id for row in rows])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            _("Receipt number"),
            _("Procedure name"),
            _("Applicant"),
            _("Name (kana)"),
            _("Submitted"),
            _("Submitted (ISO 8601)"),
            _("Status"),
        ]
    )
    for row in rows:
        item = applications.read(row)
        writer.writerow(
            [
                _cell(value)
                for value in (
                    item.receipt_number,
                    item.procedure_name,
                    item.signer_name,
                    kana.get(item.id, ""),
                    format_datetime(item.submitted_at),
                    item.submitted_at.astimezone(JST).isoformat(timespec="seconds"),
                    item.status_label,
                )
            ]
        )
    return buffer.getvalue()


# --- the applicant's identity ------------------------------------------------------------


def _identity(row: ApplicantIdentity) -> Identity:
    return Identity(
        name=row.name,
        name_kana=row.name_kana,
        birth_date=row.birth_date,
        sex=row.sex,
        address=row.address,
        from_jlis=True,
        fetched_at=row.fetched_at,
    )


def _from_certificate(application: ApplicationRead) -> Identity:
    return Identity(
        name=application.signer_name,
        name_kana="",
        birth_date=None,
        sex=None,
        address="",
        from_jlis=False,
    )


def _birth_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def applicant(*, session: Session, hub: network.Hub, application: ApplicationRead) -> Identity:
    """The applicant's 本人確認情報: kept from before, or asked of J-LIS through the hub now.

    The municipality the application was filed with asks, under its own link code; an
    answer without a record, a refusal or a failure leaves the certificate's name and
    nothing stored, so the next opening asks again.
    """
    row = session.get(ApplicantIdentity, application.id)
    if row is not None:
        return _identity(row)
    why = _("{procedure}: review of receipt number {receipt}")
    try:
        outcome = network.ask(
            session=session,
            hub=hub,
            requester=agencies.municipality_agency_code(application.municipality_code),
            resident_id=application.resident_id,
            procedure=REVIEW_PROCEDURE,
            items=[IDENTITY_ITEM],
            purpose=why.format(
                procedure=application.procedure_name, receipt=application.receipt_number
            )[:200],
        )
    except MynaError as error:
        log.warning("office_applicant_identity_refused", code=error.code)
        return _from_certificate(application)
    payloads = [
        record.payload
        for result in outcome.results
        if result.outcome is network.Outcome.SUCCESS and result.provider == JLIS
        for record in result.records
    ]
    if not payloads:
        return _from_certificate(application)
    found = payloads[0]
    name, kana = str(found.get("name", "")), str(found.get("name_kana", ""))
    sex = found.get("sex")
    row = ApplicantIdentity(
        application_id=application.id,
        municipality_code=application.municipality_code,
        name=name[:200],
        name_kana=kana[:200],
        birth_date=_birth_date(found.get("birth_date")),
        sex=sex if isinstance(sex, int) and not isinstance(sex, bool) else None,
        address=str(found.get("address", ""))[:400],
        search_key=normalise(f"{name}{kana}{application.signer_name}")[:800],
        fetched_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _identity(row)


def birth_date_label(identity: Identity) -> str:
    """The date of birth in 和暦 (the page's language), or "" when unknown."""
    return "" if identity.birth_date is None else format_date(identity.birth_date)
