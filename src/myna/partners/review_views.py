"""The platform administrator's review of organisations (連携事業者の審査), in the browser.

``/office/partners`` lists the registered organisations (waiting ones first);
``/office/partners/{client_id}`` shows one with what it asked for and why, and the forms
that :mod:`myna.partners.organizations` offers the CLI too: approve some of the requested
scopes or reject (``review``), suspend, resume. The pages use the back office's login
(the platform's staff sessions, cookie path ``/office``); only a staff member with the
``platform-admin`` role passes (asked of the composition root, as partners sit above the
back office). Every form carries the session's CSRF token and a ticked confirmation;
every decision is logged with the staff member who made it, beside the note and time
the registration keeps.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from myna.partners import organizations
from myna.partners.domain import OrganizationStatus, PartnerError, RegisteredClient
from myna.platform.errors import N_, MynaError
from myna.platform.i18n import gettext as _
from myna.platform.logging import get_logger
from myna.platform.sessions import CsrfField, CurrentStaff, StaffSession, check_csrf
from myna.platform.web import get_container, templates_beside, transaction

log = get_logger(__name__)
templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
BASE = "/office/partners"
NO_STORE = {"Cache-Control": "no-store"}
ClientIdPath = Annotated[str, Path(max_length=64)]
NoteField = Annotated[str, Form(max_length=organizations.MAX_NOTE_LENGTH * 4)]
ChoiceField = Annotated[str, Form(max_length=16)]
ScopesField = Annotated[list[str], Form(max_length=64)]
# Waiting ones first: they are what the administrator has to act on.
_ORDER = [
    OrganizationStatus.PENDING,
    OrganizationStatus.APPROVED,
    OrganizationStatus.SUSPENDED,
    OrganizationStatus.REJECTED,
]
DONE = {
    "approved": N_("The organisation was approved for the scopes ticked."),
    "rejected": N_("The organisation was rejected; the note tells it why."),
    "suspended": N_("The organisation was suspended; its access tokens stopped working."),
    "resumed": N_("The organisation can work again with the scopes it was approved for."),
}


class PlatformAdministratorRequiredError(PartnerError):
    code = "platform_admin_required"
    message = N_(
        "Reviewing organisations is for platform administrators. Please log in with a "
        "platform administrator's account."
    )
    status_code = 403


class ConfirmationRequiredError(PartnerError):
    code = "confirmation_required"
    message = N_("Tick the box to confirm this decision, then send it again.")
    status_code = 422


def _administrator(request: Request, db: Session, current: StaffSession) -> str:
    """The platform administrator's name; anyone else is refused."""
    name = get_container(request).platform_administrator(db, current.staff_id)
    if name is None:
        raise PlatformAdministratorRequiredError
    return name


@router.get(BASE, response_class=HTMLResponse)
def list_page(
    request: Request,
    current: CurrentStaff,
    status: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    chosen = status if status in {s.value for s in OrganizationStatus} else ""
    with transaction(request) as db:
        name = _administrator(request, db, current)
        found = organizations.list_organizations(
            session=db, status=OrganizationStatus(chosen) if chosen else None
        )
    found.sort(key=lambda client: _ORDER.index(client.status))
    return templates.page(
        request,
        "partners/review_list.html",
        csrf_token=current.csrf_token,
        review_admin=name,
        review_clients=found,
        review_status=chosen,
        review_statuses=[(s.value, organizations.status_label(s)) for s in _ORDER],
        headers=NO_STORE,
    )


def _detail(
    request: Request,
    current: StaffSession,
    name: str,
    client: RegisteredClient,
    *,
    done: str = "",
    error: MynaError | None = None,
    form: str = "",
) -> Response:
    return templates.page(
        request,
        "partners/review_detail.html",
        csrf_token=current.csrf_token,
        review_admin=name,
        review_client=client,
        review_status_label=organizations.status_label(client.status),
        review_scope_label=organizations.scope_label,
        review_done=_(DONE[done]) if done in DONE else "",
        review_error=None if error is None else error.localized(),
        review_error_form=form,
        status_code=200 if error is None else error.status_code,
        headers=NO_STORE,
    )


@router.get(BASE + "/{client_id}", response_class=HTMLResponse)
def detail_page(
    request: Request,
    current: CurrentStaff,
    client_id: ClientIdPath,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    with transaction(request) as db:
        name = _administrator(request, db, current)
        client = organizations.get_client(session=db, client_id=client_id)
    return _detail(request, current, name, client, done=done)


def _decide(
    request: Request,
    current: StaffSession,
    client_id: str,
    *,
    csrf_token: str,
    confirm: str,
    form: str,
    action: str,
    change: Callable[[Session], RegisteredClient],
) -> Response:
    """Check the token, the role and the confirmation, make ``change``, log who made it."""
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        name = _administrator(request, db, current)
        try:
            if confirm != "yes":
                raise ConfirmationRequiredError
            # A savepoint: a refused change (a state that moved on, a missing note)
            # leaves nothing written, and the page is shown again with the reason.
            with db.begin_nested():
                changed = change(db)
        except PartnerError as error:
            client = organizations.get_client(session=db, client_id=client_id)
            return _detail(request, current, name, client, error=error, form=form)
        log.info(
            "partner_decision",
            client_id=changed.client_id,
            action=action,
            status=changed.status.value,
            staff_id=current.staff_id,
        )
    return RedirectResponse(f"{BASE}/{changed.client_id}?done={action}", status_code=303)


@router.post(BASE + "/{client_id}/review", response_class=HTMLResponse)
def review(
    request: Request,
    current: CurrentStaff,
    client_id: ClientIdPath,
    csrf_token: CsrfField = "",
    decision: ChoiceField = "",
    scope: ScopesField = [],  # noqa: B006 - FastAPI copies a form field's default
    note: NoteField = "",
    confirm: ChoiceField = "",
) -> Response:
    approve = decision == "approve"

    def change(db: Session) -> RegisteredClient:
        if decision not in ("approve", "reject"):
            raise organizations.InvalidReviewError(N_("Choose to approve or to reject."))
        return organizations.review(
            session=db, client_id=client_id, approve=approve, scopes=scope, note=note
        )

    return _decide(
        request,
        current,
        client_id,
        csrf_token=csrf_token,
        confirm=confirm,
        form="review",
        action="approved" if approve else "rejected",
        change=change,
    )


@router.post(BASE + "/{client_id}/suspend", response_class=HTMLResponse)
def suspend(
    request: Request,
    current: CurrentStaff,
    client_id: ClientIdPath,
    csrf_token: CsrfField = "",
    note: NoteField = "",
    confirm: ChoiceField = "",
) -> Response:
    return _decide(
        request,
        current,
        client_id,
        csrf_token=csrf_token,
        confirm=confirm,
        form="suspend",
        action="suspended",
        change=lambda db: organizations.suspend(session=db, client_id=client_id, note=note),
    )


@router.post(BASE + "/{client_id}/resume", response_class=HTMLResponse)
def resume(
    request: Request,
    current: CurrentStaff,
    client_id: ClientIdPath,
    csrf_token: CsrfField = "",
    note: NoteField = "",
    confirm: ChoiceField = "",
) -> Response:
    return _decide(
        request,
        current,
        client_id,
        csrf_token=csrf_token,
        confirm=confirm,
        form="resume",
        action="resumed",
        change=lambda db: organizations.resume(session=db, client_id=client_id, note=note),
    )
