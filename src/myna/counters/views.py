"""The municipal counters' staff pages (市民カード化), under ``/office/counters``.

They sit in the back office's cookie scope: the staff log in to the back office
(password and one-time code, or the staff card) and use the counters of their own
municipality. The card is the one on the counter's reader: the resident enters the
PIN there, or — at a shelter — a staff member compares the face with the card. Every
form carries the session's CSRF token; a refusal is shown on the page, nothing
written. The shelter's roster is exported as CSV (UTF-8 with a BOM) and JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna.counters import service as counters
from myna.counters.domain import (
    ACTION_LABELS,
    LOAN_DAYS,
    LOAN_LIMIT,
    METHOD_LABELS,
    FaceNotConfirmedError,
)
from myna.counters.export import roster_csv
from myna.counters.schemas import Roster, RosterEntry
from myna.office import service as office
from myna.platform.api_errors import error_responses
from myna.platform.errors import MynaError
from myna.platform.params import RowId
from myna.platform.sessions import CsrfField, CurrentStaff, check_csrf
from myna.platform.web import get_container, templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
export_router = APIRouter(tags=["counters"])
PREFIX = "/office/counters"
NO_STORE = {"Cache-Control": "no-store"}
CardId = Annotated[str, Form(max_length=64)]
Pin = Annotated[str, Form(max_length=16)]
BookCode = Annotated[str, Form(max_length=16)]
ShelterId = Annotated[RowId, Path()]
CheckinId = Annotated[RowId, Path()]


def _now() -> datetime:
    return datetime.now(UTC)


def _staff(request: Request, current: CurrentStaff) -> office.StaffRead:
    with transaction(request) as db:
        return office.get_staff(session=db, staff_id=current.staff_id)


def _labels() -> dict[str, Any]:
    return {"counters_action_labels": ACTION_LABELS, "counters_method_labels": METHOD_LABELS}


@router.get(PREFIX, response_class=HTMLResponse)
def menu(request: Request, current: CurrentStaff) -> Response:
    staff = _staff(request, current)
    with transaction(request) as db:
        try:
            library: counters.FacilityView | None = counters.library_of(
                session=db, municipality_code=staff.municipality_code
            )
        except MynaError:
            library = None
        shelters = counters.shelters_of(session=db, municipality_code=staff.municipality_code)
        town = office.municipality_name(session=db, code=staff.municipality_code)
    return templates.page(
        request,
        "counters/menu.html",
        csrf_token=current.csrf_token,
        counters_town=town,
        counters_library=library,
        counters_shelters=shelters,
        headers=NO_STORE,
    )


# --- the library ---------------------------------------------------------------------------


def _library_page(
    request: Request,
    current: CurrentStaff,
    staff: office.StaffRead,
    *,
    error: MynaError | None = None,
    done: str | None = None,
    patron: counters.PatronView | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    container = get_container(request)
    with transaction(request) as db:
        library = counters.library_of(session=db, municipality_code=staff.municipality_code)
        books = counters.catalogue(session=db, library=library)
    return templates.page(
        request,
        "counters/library.html",
        csrf_token=current.csrf_token,
        counters_library=library,
        counters_books=books,
        counters_cards=container.counter_reader.list_cards(),
        counters_done=done,
        counters_patron=patron,
        counters_values=values or {},
        counters_loan_limit=LOAN_LIMIT,
        counters_loan_days=LOAN_DAYS,
        error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        return_path=f"{PREFIX}/library",
        headers=NO_STORE,
    )


@router.get(PREFIX + "/library", response_class=HTMLResponse)
def library_page(request: Request, current: CurrentStaff) -> Response:
    return _library_page(request, current, _staff(request, current))


def _library_step(
    request: Request, current: CurrentStaff, card_id: str, pin: str
) -> tuple[office.StaffRead, counters.FacilityView, counters.Identified]:
    """The staff member, their library and the holder proven with the card and PIN."""
    staff = _staff(request, current)
    container = get_container(request)
    with transaction(request) as db:
        library = counters.library_of(session=db, municipality_code=staff.municipality_code)
        holder = counters.identify_with_pin(
            session=db,
            settings=container.settings,
            reader=container.counter_reader,
            session_token=current.token,
            card_id=card_id,
            pin=pin,
        )
    return staff, library, holder


@router.post(PREFIX + "/library/register", response_class=HTMLResponse)
def register(
    request: Request, current: CurrentStaff, csrf_token: CsrfField, card_id: CardId, pin: Pin = ""
) -> Response:
    check_csrf(current, csrf_token)
    staff = _staff(request, current)
    settings = get_container(request).settings
    try:
        staff, library, holder = _library_step(request, current, card_id, pin)
        with transaction(request) as db:
            patron = counters.register_patron(
                session=db, settings=settings, library=library, holder=holder, at=_now()
            )
    except MynaError as error:
        return _library_page(request, current, staff, error=error, values={"card_id": card_id})
    return _library_page(request, current, staff, done="registered", patron=patron)


@router.post(PREFIX + "/library/lend", response_class=HTMLResponse)
def lend(
    request: Request,
    current: CurrentStaff,
    csrf_token: CsrfField,
    card_id: CardId,
    book_code: BookCode,
    pin: Pin = "",
) -> Response:
    check_csrf(current, csrf_token)
    staff = _staff(request, current)
    settings = get_container(request).settings
    values = {"card_id": card_id, "book_code": book_code}
    try:
        staff, library, holder = _library_step(request, current, card_id, pin)
        with transaction(request) as db:
            patron = counters.lend(
                session=db,
                settings=settings,
                library=library,
                holder=holder,
                book_code=book_code,
                at=_now(),
            )
    except MynaError as error:
        return _library_page(request, current, staff, error=error, values=values)
    return _library_page(request, current, staff, done="lent", patron=patron)


@router.post(PREFIX + "/library/return", response_class=HTMLResponse)
def return_book(
    request: Request, current: CurrentStaff, csrf_token: CsrfField, book_code: BookCode
) -> Response:
    check_csrf(current, csrf_token)
    staff = _staff(request, current)
    try:
        with transaction(request) as db:
            library = counters.library_of(session=db, municipality_code=staff.municipality_code)
            counters.return_book(session=db, library=library, book_code=book_code, at=_now())
    except MynaError as error:
        return _library_page(
            request, current, staff, error=error, values={"return_code": book_code}
        )
    return _library_page(request, current, staff, done="returned")


# --- shelters -----------------------------------------------------------------------------


def _shelter(request: Request, staff: office.StaffRead, shelter_id: int) -> counters.FacilityView:
    with transaction(request) as db:
        return counters.shelter(
            session=db, shelter_id=shelter_id, municipality_code=staff.municipality_code
        )


def _shelter_page(
    request: Request,
    current: CurrentStaff,
    found: counters.FacilityView,
    *,
    error: MynaError | None = None,
    done: int | None = None,
) -> Response:
    with transaction(request) as db:
        entries = counters.roster(session=db, shelter=found)
    return templates.page(
        request,
        "counters/shelter.html",
        csrf_token=current.csrf_token,
        counters_shelter=found,
        counters_entries=entries,
        counters_inside=sum(1 for e in entries if e.checked_out_at is None),
        counters_cards=get_container(request).counter_reader.list_cards(),
        counters_done=done,
        error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        return_path=f"{PREFIX}/shelters/{found.id}",
        headers=NO_STORE,
        **_labels(),
    )


@router.get(PREFIX + "/shelters/{shelter_id}", response_class=HTMLResponse)
def shelter_page(
    request: Request,
    current: CurrentStaff,
    shelter_id: ShelterId,
    done: Annotated[int | None, Query(ge=0, le=100)] = None,
) -> Response:
    found = _shelter(request, _staff(request, current), shelter_id)
    return _shelter_page(request, current, found, done=done)


def _identify_page(
    request: Request,
    current: CurrentStaff,
    found: counters.FacilityView,
    card_id: str,
    error: MynaError | None = None,
    face_error: bool = False,
) -> Response:
    reader = get_container(request).counter_reader
    try:
        placed = counters.card_on_reader(reader=reader, card_id=card_id)
    except MynaError as refused:
        return _shelter_page(request, current, found, error=refused)
    return templates.page(
        request,
        "counters/identify.html",
        csrf_token=current.csrf_token,
        counters_shelter=found,
        counters_card=placed,
        counters_face_error=face_error,
        error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        return_path=f"{PREFIX}/shelters/{found.id}",
        headers=NO_STORE,
    )


@router.get(PREFIX + "/shelters/{shelter_id}/card", response_class=HTMLResponse)
def identify_page(
    request: Request,
    current: CurrentStaff,
    shelter_id: ShelterId,
    card_id: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    found = _shelter(request, _staff(request, current), shelter_id)
    return _identify_page(request, current, found, card_id)


def _household_page(
    request: Request,
    current: CurrentStaff,
    found: counters.FacilityView,
    presentation: counters.Presentation,
    error: MynaError | None = None,
) -> Response:
    return templates.page(
        request,
        "counters/household.html",
        csrf_token=current.csrf_token,
        counters_shelter=found,
        counters_presentation=presentation,
        error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        return_path=f"{PREFIX}/shelters/{found.id}",
        headers=NO_STORE,
        **_labels(),
    )


def _present(
    request: Request,
    current: CurrentStaff,
    shelter_id: int,
    card_id: str,
    identify: Any,
) -> Response:
    staff = _staff(request, current)
    found = _shelter(request, staff, shelter_id)
    settings = get_container(request).settings
    try:
        with transaction(request) as db:
            holder = identify(db, staff)
            presentation = counters.present_at_shelter(
                session=db,
                settings=settings,
                shelter=found,
                staff_id=staff.id,
                holder=holder,
                at=_now(),
            )
    except FaceNotConfirmedError as error:
        return _identify_page(request, current, found, card_id, error, face_error=True)
    except MynaError as error:
        return _identify_page(request, current, found, card_id, error)
    return _household_page(request, current, found, presentation)


@router.post(PREFIX + "/shelters/{shelter_id}/pin", response_class=HTMLResponse)
def present_with_pin(
    request: Request,
    current: CurrentStaff,
    csrf_token: CsrfField,
    shelter_id: ShelterId,
    card_id: CardId,
    pin: Pin = "",
) -> Response:
    check_csrf(current, csrf_token)
    container = get_container(request)

    def identify(db: Any, _staff: office.StaffRead) -> counters.Identified:
        return counters.identify_with_pin(
            session=db,
            settings=container.settings,
            reader=container.counter_reader,
            session_token=current.token,
            card_id=card_id,
            pin=pin,
        )

    return _present(request, current, shelter_id, card_id, identify)


@router.post(PREFIX + "/shelters/{shelter_id}/face", response_class=HTMLResponse)
def present_by_face(
    request: Request,
    current: CurrentStaff,
    csrf_token: CsrfField,
    shelter_id: ShelterId,
    card_id: CardId,
    face_matches: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    check_csrf(current, csrf_token)
    container = get_container(request)

    def identify(db: Any, staff: office.StaffRead) -> counters.Identified:
        return counters.identify_by_face(
            session=db,
            settings=container.settings,
            reader=container.counter_reader,
            card_id=card_id,
            confirmed=face_matches == "yes",
            staff_name=staff.display_name,
        )

    return _present(request, current, shelter_id, card_id, identify)


@router.post(PREFIX + "/shelters/{shelter_id}/checkins", response_class=HTMLResponse)
def check_in(
    request: Request,
    current: CurrentStaff,
    csrf_token: CsrfField,
    shelter_id: ShelterId,
    token: Annotated[str, Form(max_length=2048)],
    presenter: Annotated[str, Form(max_length=8)] = "",
    members: Annotated[list[int] | None, Form()] = None,
) -> Response:
    check_csrf(current, csrf_token)
    staff = _staff(request, current)
    found = _shelter(request, staff, shelter_id)
    settings = get_container(request).settings
    chosen = [m for m in (members or []) if 0 <= m < 100]
    presentation: counters.Presentation | None = None
    try:
        with transaction(request) as db:
            now = _now()
            presentation = counters.open_presentation(
                session=db, settings=settings, shelter=found, staff_id=staff.id, token=token, at=now
            )
            made = counters.check_in(
                session=db,
                settings=settings,
                shelter=found,
                presentation=presentation,
                with_members=chosen,
                include_presenter=presenter == "yes",
                staff_name=staff.display_name,
                at=now,
            )
    except MynaError as error:
        if presentation is None:
            return _shelter_page(request, current, found, error=error)
        return _household_page(request, current, found, presentation, error)
    return RedirectResponse(f"{PREFIX}/shelters/{found.id}?done={len(made)}", status_code=303)


@router.post(
    PREFIX + "/shelters/{shelter_id}/checkins/{checkin_id}/checkout", response_class=HTMLResponse
)
def check_out(
    request: Request,
    current: CurrentStaff,
    csrf_token: CsrfField,
    shelter_id: ShelterId,
    checkin_id: CheckinId,
) -> Response:
    check_csrf(current, csrf_token)
    staff = _staff(request, current)
    found = _shelter(request, staff, shelter_id)
    try:
        with transaction(request) as db:
            counters.check_out(session=db, shelter=found, checkin_id=checkin_id, at=_now())
    except MynaError as error:
        return _shelter_page(request, current, found, error=error)
    return RedirectResponse(f"{PREFIX}/shelters/{found.id}", status_code=303)


# --- the roster's export -------------------------------------------------------------------


def _roster(request: Request, current: CurrentStaff, shelter_id: int) -> Roster:
    staff = _staff(request, current)
    found = _shelter(request, staff, shelter_id)
    with transaction(request) as db:
        entries = counters.roster(session=db, shelter=found)
    return Roster(
        shelter_id=found.id,
        shelter=found.name,
        municipality_code=found.municipality_code,
        exported_at=_now(),
        inside=sum(1 for e in entries if e.checked_out_at is None),
        entries=[
            RosterEntry(
                id=e.id,
                party=e.party,
                name=e.name,
                name_kana=e.name_kana,
                birth_date=e.birth_date,
                sex=e.sex,
                home_municipality=e.home_municipality,
                method=e.method.value,
                checked_in_by=e.checked_in_by,
                confirmed_by=e.confirmed_by,
                checked_in_at=e.checked_in_at,
                checked_out_at=e.checked_out_at,
            )
            for e in entries
        ],
    )


@export_router.get(
    PREFIX + "/shelters/{shelter_id}/roster.json",
    response_model=Roster,
    summary="A shelter's roster (避難者名簿), for the staff of its municipality",
    responses={
        303: {"description": "Not logged in as staff: to the staff login page."},
        **error_responses(403, 404, pages=True),
    },
)
def roster_json(request: Request, current: CurrentStaff, shelter_id: ShelterId) -> Response:
    roster = _roster(request, current, shelter_id)
    return Response(
        roster.model_dump_json(),
        media_type="application/json",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="shelter-{shelter_id}.json"',
        },
    )


@router.get(PREFIX + "/shelters/{shelter_id}/roster.csv")
def roster_csv_file(request: Request, current: CurrentStaff, shelter_id: ShelterId) -> Response:
    staff = _staff(request, current)
    found = _shelter(request, staff, shelter_id)
    with transaction(request) as db:
        entries = counters.roster(session=db, shelter=found)
    return Response(
        roster_csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="shelter-{shelter_id}.csv"',
        },
    )
