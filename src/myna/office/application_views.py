"""Back-office application pages: list, detail, status changes, comments, export (申請管理).

Every page is scoped to the logged-in staff member's municipality through the
``municipality_code`` given to :mod:`myna.applications.service`: another municipality's
receipt number is "not found", not "forbidden", so its existence is not disclosed.
Completing or rejecting an application (決裁) needs a supervisor or an administrator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from myna.applications import forms
from myna.applications import service as applications
from myna.applications.domain import (
    MAX_COMMENT_LENGTH,
    NEEDS_REASON,
    STATUS_LABELS,
    TRANSITIONS,
    ApplicationError,
    ApplicationStatus,
)
from myna.applications.service import ApplicationRead, EventRead
from myna.moves import service as moves
from myna.office import applicants, filings
from myna.office import service as office
from myna.office.roles import StaffRole
from myna.office.service import OfficeError, StaffRead
from myna.office.views import templates
from myna.platform.clock import today_in_japan
from myna.platform.errors import N_, MynaError
from myna.platform.i18n import format_date
from myna.platform.i18n import gettext as _
from myna.platform.params import PageNumber, RowId
from myna.platform.sessions import CsrfField, CurrentStaff, StaffSession, check_csrf
from myna.platform.settings import Settings
from myna.platform.web import get_container, transaction

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
BASE = "/office/applications"
PAGE_SIZE = 20
# A decision (決裁) that ends the application is the supervisor's.
APPROVAL_STATUSES = frozenset({ApplicationStatus.COMPLETED, ApplicationStatus.REJECTED})
APPROVER_ROLES = frozenset({StaffRole.SUPERVISOR, StaffRole.ADMIN})
SearchText = Annotated[str, Query(max_length=applicants.MAX_QUERY_LENGTH * 2)]
DateText = Annotated[str, Query(max_length=32)]
# Longer comments get the domain's own message; this only stops absurd bodies.
CommentField = Annotated[str, Form(max_length=MAX_COMMENT_LENGTH * 4)]
ChoiceField = Annotated[str, Form(max_length=64)]
ACTOR_LABELS = {
    applications.RESIDENT: N_("Applicant"),
    applications.SYSTEM: N_("System"),
}


class ApprovalRequiredError(OfficeError):
    code = "approval_required"
    message = N_(
        "Completing or rejecting an application needs a supervisor or an administrator. "
        "Please ask one of them to make this decision."
    )
    status_code = 403


class StatusRequiredError(OfficeError):
    code = "status_required"
    message = N_("Choose the new status.")
    status_code = 422


class CommentRequiredError(OfficeError):
    code = "comment_required"
    message = N_("Enter a comment.")
    status_code = 422


@dataclass(frozen=True, slots=True)
class Target:
    """A status the application may move to from where it is."""

    value: str
    label: str
    needs_reason: bool
    needs_approval: bool


# --- helpers ---------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    return get_container(request).settings


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def can_approve(staff: StaffRead) -> bool:
    """Whether the staff member may complete or reject applications."""
    return staff.role in APPROVER_ROLES


def _targets(current: ApplicationStatus) -> list[Target]:
    order = list(ApplicationStatus)
    return [
        Target(
            value=status.value,
            label=_(STATUS_LABELS[status]),
            needs_reason=status in NEEDS_REASON,
            needs_approval=status in APPROVAL_STATUSES,
        )
        for status in sorted(TRANSITIONS[current], key=order.index)
    ]


def _display(spec: forms.FieldSpec | None, value: Any) -> str:
    """A filed value as staff read it: option labels, はい/いいえ, lists joined."""
    options = dict(spec.options) if spec is not None else {}
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "、".join(_display(spec, v) for v in value)
    if value is None or value == "":
        return _("(not entered)")
    text = str(value)
    if spec is not None and spec.widget == "date":
        try:
            return format_date(date.fromisoformat(text))
        except ValueError:
            return text
    return options.get(text, text)


def _data_groups(db: Session, item: ApplicationRead) -> list[tuple[str, list[tuple[str, str]]]]:
    """The form's fieldsets with their Japanese labels; fields the form lacks come last.

    A coded answer shows its name with the code beside it (``大阪府大阪市（271004）``):
    staff key the code into their own systems.
    """
    definition = forms.checked_forms().get(item.procedure_code)
    shown: set[str] = set()
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    if definition is not None:
        names = forms.labels(session=db, form=definition, data=item.data)
        for group in definition.groups:
            rows = []
            for spec in group.fields:
                if spec.name in names:
                    rows.append((spec.label, f"{names[spec.name]}（{item.data[spec.name]}）"))
                    shown.add(spec.name)
                elif spec.name in item.data:
                    rows.append((spec.label, _display(spec, item.data[spec.name])))
                    shown.add(spec.name)
            if rows:
                groups.append((group.title, rows))
    rest = [(name, _display(None, value)) for name, value in item.data.items() if name not in shown]
    if rest:
        groups.append((_("Other items"), rest))
    return groups


def _actors(db: Session, events: list[EventRead], municipality_code: str) -> dict[str, str]:
    """Who did each step, by name: staff of this municipality, the applicant, the API."""
    ids = [
        int(e.actor.removeprefix("staff:"))
        for e in events
        if e.actor.startswith("staff:") and e.actor.removeprefix("staff:").isdigit()
    ]
    names = {
        f"staff:{staff_id}": name
        for staff_id, name in office.staff_names(
            session=db, staff_ids=ids, municipality_code=municipality_code
        ).items()
    }
    client_ids = [e.actor.removeprefix("api:") for e in events if e.actor.startswith("api:")]
    clients = filings.client_names(
        session=db, client_ids=client_ids, municipality_code=municipality_code
    )
    labels: dict[str, str] = {}
    for event in events:
        actor = event.actor
        if actor in ACTOR_LABELS:
            labels[actor] = _(ACTOR_LABELS[actor])
        elif actor in names:
            labels[actor] = names[actor]
        elif actor.startswith("api:"):
            client = clients.get(actor.removeprefix("api:"), actor.removeprefix("api:"))
            labels[actor] = _("API client {client}").format(client=client)
        else:
            labels[actor] = actor
    return labels


def _detail_page(
    request: Request,
    db: Session,
    current: StaffSession,
    staff: StaffRead,
    receipt_number: str,
    *,
    done: str = "",
    error: MynaError | None = None,
    error_field: str = "",
    values: dict[str, str] | None = None,
) -> Response:
    item = applications.get_application(
        session=db, receipt_number=receipt_number, municipality_code=staff.municipality_code
    )
    check = filings.check_signature(session=db, settings=_settings(request), application=item)
    identity = applicants.applicant(
        session=db, hub=get_container(request).hub_for(db), application=item
    )
    events = applications.history(session=db, application_id=item.id)
    return templates.page(
        request,
        "office/applications_detail.html",
        csrf_token=current.csrf_token,
        office_app_staff=staff,
        office_app_municipality=office.municipality_name(session=db, code=staff.municipality_code),
        office_app=item,
        office_app_check=check,
        office_app_identity=identity,
        office_app_groups=_data_groups(db, item),
        office_app_files=applications.attachments(session=db, application_id=item.id),
        office_app_history=events,
        office_app_actors=_actors(db, events, staff.municipality_code),
        office_app_targets=_targets(item.status),
        office_app_can_approve=can_approve(staff),
        office_app_done=done,
        office_app_error=None if error is None else error.localized(),
        office_app_error_field=error_field,
        office_app_values=values or {},
        status_code=200 if error is None else error.status_code,
        headers=NO_STORE,
    )


# --- pages -----------------------------------------------------------------------------


def _criteria(
    status: str, q: str, receipt: str, procedure: str, filed_from: str, filed_to: str
) -> applicants.Criteria:
    """The list's criteria; an unknown status is "any", bad dates raise with the reason."""
    return applicants.criteria_from(
        name=q,
        receipt=receipt,
        procedure=procedure,
        filed_from=filed_from,
        filed_to=filed_to,
        status=status if status in {s.value for s in ApplicationStatus} else "",
    )


@router.get(BASE, response_class=HTMLResponse)
def list_page(
    request: Request,
    current: CurrentStaff,
    status: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[PageNumber, Query()] = 1,
    q: SearchText = "",
    receipt: SearchText = "",
    procedure: Annotated[str, Query(max_length=64)] = "",
    filed_from: Annotated[str, Query(alias="from", max_length=32)] = "",
    filed_to: Annotated[str, Query(alias="to", max_length=32)] = "",
) -> Response:
    typed = {
        "q": q,
        "receipt": receipt,
        "procedure": procedure,
        "from": filed_from,
        "to": filed_to,
        "status": status,
    }
    error: MynaError | None = None
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=current.staff_id)
        try:
            criteria = _criteria(status, q, receipt, procedure, filed_from, filed_to)
        except applicants.DATE_ERRORS as refused:
            error, criteria = refused, applicants.Criteria()
        found = (
            applications.ApplicationPage(items=[], total=0, page=1, page_size=PAGE_SIZE)
            if error is not None
            else applicants.search(
                session=db,
                municipality_code=staff.municipality_code,
                criteria=criteria,
                page=page,
                page_size=PAGE_SIZE,
            )
        )
        kana = applicants.kana_of(session=db, application_ids=[i.id for i in found.items])
        municipality = office.municipality_name(session=db, code=staff.municipality_code)
        procedures = applicants.procedures_filed(
            session=db, municipality_code=staff.municipality_code
        )
    query = criteria.query_string() if error is None else typed
    return templates.page(
        request,
        "office/applications.html",
        csrf_token=current.csrf_token,
        office_app_staff=staff,
        office_app_municipality=municipality,
        office_app_page=found,
        office_app_kana=kana,
        office_app_status=criteria.status,
        office_app_statuses=[(s.value, _(STATUS_LABELS[s])) for s in ApplicationStatus],
        office_app_procedures=procedures,
        office_app_query=query,
        office_app_query_string=urlencode({k: v for k, v in query.items() if v}),
        office_app_search_error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        headers=NO_STORE,
    )


@router.get(BASE + ".csv")
def list_csv(
    request: Request,
    current: CurrentStaff,
    status: Annotated[str, Query(max_length=32)] = "",
    q: SearchText = "",
    receipt: SearchText = "",
    procedure: Annotated[str, Query(max_length=64)] = "",
    filed_from: Annotated[str, Query(alias="from", max_length=32)] = "",
    filed_to: Annotated[str, Query(alias="to", max_length=32)] = "",
) -> Response:
    """The filtered list as CSV: UTF-8 with a byte order mark, so Excel reads it right."""
    criteria = _criteria(status, q, receipt, procedure, filed_from, filed_to)
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=current.staff_id)
        text = applicants.export_csv(
            session=db, municipality_code=staff.municipality_code, criteria=criteria
        )
    name = f"applications-{staff.municipality_code}-{today_in_japan().isoformat()}.csv"
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": filings.content_disposition(name),
            "X-Content-Type-Options": "nosniff",
            **NO_STORE,
        },
    )


@router.get(BASE + "/{receipt_number}", response_class=HTMLResponse)
def detail_page(
    request: Request,
    current: CurrentStaff,
    receipt_number: str,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=current.staff_id)
        return _detail_page(
            request,
            db,
            current,
            staff,
            receipt_number,
            done=done if done in ("status", "comment") else "",
        )


def _staff_and_application(
    db: Session, current: StaffSession, receipt_number: str
) -> tuple[StaffRead, ApplicationRead]:
    """The staff member and their municipality's application: a foreign one is "not found"."""
    staff = office.get_staff(session=db, staff_id=current.staff_id)
    item = applications.get_application(
        session=db, receipt_number=receipt_number, municipality_code=staff.municipality_code
    )
    return staff, item


def _act_on_application(
    request: Request,
    current: StaffSession,
    receipt_number: str,
    csrf_token: str,
    action: Callable[[Session, StaffRead, ApplicationRead], None],
    *,
    errors: tuple[type[MynaError], ...],
    error_field: str,
    values: dict[str, str],
    done: str,
) -> Response:
    """Run one form's ``action`` on the application, then back to its page.

    ``errors`` are raised before anything is written (the checks come first), so the page
    is shown again with the message and the values typed in.
    """
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        staff, item = _staff_and_application(db, current, receipt_number)
        try:
            action(db, staff, item)
        except errors as error:
            return _detail_page(
                request,
                db,
                current,
                staff,
                item.receipt_number,
                error=error,
                error_field=error_field,
                values=values,
            )
    return _redirect(f"{BASE}/{item.receipt_number}?done={done}")


@router.post(BASE + "/{receipt_number}/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    current: CurrentStaff,
    receipt_number: str,
    csrf_token: CsrfField = "",
    status: ChoiceField = "",
    comment: CommentField = "",
) -> Response:
    def act(db: Session, staff: StaffRead, item: ApplicationRead) -> None:
        if status not in {s.value for s in ApplicationStatus}:
            raise StatusRequiredError
        target = ApplicationStatus(status)
        if target in APPROVAL_STATUSES and not can_approve(staff):
            raise ApprovalRequiredError
        # The procedure's own logic (a move-out sends its certificate information),
        # in a savepoint: a failed step leaves nothing.
        container = get_container(request)
        container.procedures.change_status(
            session=db,
            hub=container.hub_for(db),
            receipt_number=item.receipt_number,
            municipality_code=staff.municipality_code,
            target=target,
            actor=f"staff:{staff.id}",
            comment=comment,
        )

    return _act_on_application(
        request,
        current,
        receipt_number,
        csrf_token,
        act,
        errors=(ApplicationError, OfficeError, moves.MoveError),
        error_field="status",
        values={"status": status, "comment": comment},
        done="status",
    )


@router.post(BASE + "/{receipt_number}/comments", response_class=HTMLResponse)
def add_comment(
    request: Request,
    current: CurrentStaff,
    receipt_number: str,
    csrf_token: CsrfField = "",
    note: CommentField = "",
    share: ChoiceField = "",
) -> Response:
    def act(db: Session, staff: StaffRead, item: ApplicationRead) -> None:
        if not note.strip():
            raise CommentRequiredError
        applications.add_comment(
            session=db,
            receipt_number=item.receipt_number,
            municipality_code=staff.municipality_code,
            actor=f"staff:{staff.id}",
            comment=note.strip(),
            visible_to_resident=share == "on",
        )

    return _act_on_application(
        request,
        current,
        receipt_number,
        csrf_token,
        act,
        errors=(ApplicationError, OfficeError),
        error_field="note",
        values={"note": note, "share": share},
        done="comment",
    )


@router.get(BASE + "/{receipt_number}/attachments/{attachment_id}")
def attachment(
    request: Request, current: CurrentStaff, receipt_number: str, attachment_id: RowId
) -> Response:
    with transaction(request) as db:
        _, item = _staff_and_application(db, current, receipt_number)
        data = applications.attachment_data(
            session=db, application_id=item.id, attachment_id=attachment_id
        )
        info = {f.id: f for f in applications.attachments(session=db, application_id=item.id)}
    found = info[attachment_id]
    return Response(
        data,
        media_type=found.media_type,
        headers={
            "Content-Disposition": filings.content_disposition(found.name),
            "X-Content-Type-Options": "nosniff",
            **NO_STORE,
        },
    )


@router.get(BASE + "/{receipt_number}/export.zip")
def export(request: Request, current: CurrentStaff, receipt_number: str) -> Response:
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=current.staff_id)
        name, data = filings.export_package(
            session=db,
            settings=_settings(request),
            receipt_number=receipt_number,
            municipality_code=staff.municipality_code,
        )
        applications.record_export(
            session=db,
            receipt_number=receipt_number,
            municipality_code=staff.municipality_code,
            actor=f"staff:{staff.id}",
        )
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": filings.content_disposition(name),
            "X-Content-Type-Options": "nosniff",
            **NO_STORE,
        },
    )
