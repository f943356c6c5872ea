"""Back-office pages for moves: reservations of move-in and their completion (転入予約).

``GET /office/moves?show=open|completed|cancelled|all`` lists the move-in reservations
made to the staff member's municipality (the open ones unless asked otherwise),
``GET /office/moves/{id}`` shows one with the move-out certificate information
(転出証明書情報) once it arrived, and ``POST /office/moves/{id}/complete`` completes the
move-in in one transaction (:func:`myna.moves.service.complete_move_in`). The button is
offered only when the service's own rule (:func:`myna.moves.service.move_in_refusal`)
lets it succeed. Another municipality's move is "not found".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna.moves import service as moves
from myna.office import service as office
from myna.office.views import templates
from myna.platform.clock import today_in_japan
from myna.platform.errors import N_
from myna.platform.i18n import gettext as _
from myna.platform.params import RowId
from myna.platform.sessions import CsrfField, CurrentStaff, StaffBrowser, as_staff, check_csrf
from myna.platform.web import get_container, transaction

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
MoveId = Annotated[RowId, Path()]
# The lists a clerk can choose, in the order of the choices on the page.
LISTS = {
    "open": N_("Open move-ins"),
    "completed": N_("Completed move-ins"),
    "cancelled": N_("Cancelled move-ins"),
    "all": N_("All move-ins"),
}


@router.get("/office/moves", response_class=HTMLResponse)
def moves_page(
    request: Request,
    current: CurrentStaff,
    show: Annotated[str, Query(max_length=16)] = "open",
) -> Response:
    chosen = show if show in LISTS else "open"
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=current.staff_id)
        municipality_name = office.municipality_name(session=db, code=staff.municipality_code)
        listed = moves.move_ins_for(
            session=db,
            municipality_code=staff.municipality_code,
            statuses=moves.MOVE_LISTS[chosen],
        )
    return templates.page(
        request,
        "office/moves.html",
        csrf_token=current.csrf_token,
        office_move_municipality=municipality_name,
        office_moves=listed,
        office_move_show=chosen,
        office_move_lists=[(value, _(label)) for value, label in LISTS.items()],
        headers=NO_STORE,
    )


def _detail(
    request: Request,
    csrf_token: str,
    municipality_name: str,
    move: moves.MoveView,
    *,
    error: str = "",
    done: bool = False,
    status_code: int = 200,
) -> Response:
    return templates.page(
        request,
        "office/moves_detail.html",
        csrf_token=csrf_token,
        office_move_municipality=municipality_name,
        office_move=move,
        office_move_error=error,
        office_move_done=done,
        office_move_refusal=_refusal(move),
        status_code=status_code,
        headers=NO_STORE,
    )


def _refusal(move: moves.MoveView) -> str:
    """Why 「転入を完了する」 would be refused today, in the reader's language; "" if not."""
    refusal = move.move_in_refusal(today_in_japan())
    return "" if refusal is None else refusal.localized()


@router.get("/office/moves/{move_id}", response_class=HTMLResponse)
def move_page(
    request: Request,
    current: CurrentStaff,
    move_id: MoveId,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=current.staff_id)
        municipality_name = office.municipality_name(session=db, code=staff.municipality_code)
        move = moves.get_move_in(
            session=db, move_id=move_id, municipality_code=staff.municipality_code
        )
    return _detail(request, current.csrf_token, municipality_name, move, done=done == "completed")


@router.post("/office/moves/{move_id}/complete", response_class=HTMLResponse)
def complete_move(
    request: Request,
    browser: StaffBrowser,
    move_id: MoveId,
    csrf_token: CsrfField = "",
) -> Response:
    # The form's token first: a post without a logged-in session is refused as forged.
    current = check_csrf(as_staff(browser), csrf_token)
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=current.staff_id)
        # The hub shares this transaction: the exchanges it logs commit with the move-in
        # or roll back with it.
        hub = get_container(request).hub_for(db)
        try:
            # A savepoint: a refusal half-way undoes every step, and the page still renders.
            with db.begin_nested():
                moves.complete_move_in(
                    session=db,
                    hub=hub,
                    move_id=move_id,
                    municipality_code=staff.municipality_code,
                    actor=f"staff:{staff.id}",
                )
        except moves.MoveError as error:
            municipality_name = office.municipality_name(session=db, code=staff.municipality_code)
            move = moves.get_move_in(
                session=db, move_id=move_id, municipality_code=staff.municipality_code
            )
            return _detail(
                request,
                current.csrf_token,
                municipality_name,
                move,
                error=error.localized(),
                status_code=error.status_code,
            )
    return RedirectResponse(f"/office/moves/{move_id}?done=completed", status_code=303)
