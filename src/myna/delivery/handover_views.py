"""The resident's 年末調整 pages: hand 控除証明書 over to the employer, and take them back.

``GET /delivery/year-end-adjustment`` shows the employers the resident links, the
certificates of one 年分 in the box that may go to them, and the hand-overs made;
``POST /delivery/year-end-adjustment/confirm`` checks a choice and shows it to confirm;
``POST /delivery/year-end-adjustment`` hands it over; ``POST .../{id}/withdraw`` takes
back one the employer has not collected. Every form carries the session's CSRF token.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna.delivery import handovers
from myna.delivery.domain import (
    EARLIEST_TAX_YEAR,
    HANDOVER_STATUS_LABELS,
    LATEST_TAX_YEAR,
    is_tax_year,
)
from myna.delivery.service import BOX_PATH
from myna.platform.errors import MynaError
from myna.platform.forms import InvalidFormInputError, Posted, PostedMany
from myna.platform.sessions import CurrentResident, check_csrf
from myna.platform.web import templates_beside, transaction

templates = templates_beside(__file__)
# Included before the box's router: /delivery/{delivery_id} would take this path.
router = APIRouter(include_in_schema=False)
YEAR_END_PATH = f"{BOX_PATH}/year-end-adjustment"
NO_STORE = {"Cache-Control": "no-store"}
DONE = ("handed_over", "withdrawn")
YearQuery = Annotated[int | None, Query(ge=EARLIEST_TAX_YEAR, le=LATEST_TAX_YEAR)]
HandoverId = Annotated[str, Path(min_length=1, max_length=64)]


def _one(posted: dict[str, list[str]], name: str) -> str:
    return next(iter(posted.get(name, [])), "")


def _year(text: str) -> int:
    """The 年分 a form posted: four digits, 2000 to 2100 (no page of ours sends other)."""
    year = int(text) if text.isascii() and text.isdigit() and len(text) == 4 else 0
    if not is_tax_year(year):
        raise InvalidFormInputError
    return year


def _page(
    request: Request,
    current: CurrentResident,
    *,
    year: int | None,
    done: str = "",
    problem: str | None = None,
    status: int = 200,
) -> Response:
    with transaction(request) as db:
        found = handovers.year_end_adjustment(
            session=db, resident_id=current.resident_id, year=year
        )
        return templates.page(
            request,
            "delivery/handovers.html",
            status_code=status,
            headers=NO_STORE,
            csrf_token=current.csrf_token,
            handover_page=found,
            handover_status_labels=HANDOVER_STATUS_LABELS,
            handover_done=done if done in DONE else "",
            handover_problem=problem,
        )


@router.get(YEAR_END_PATH, response_class=HTMLResponse)
def year_end_page(
    request: Request, current: CurrentResident, year: YearQuery = None, done: str = ""
) -> Response:
    """The employers, one year's certificates to hand over, and the hand-overs made."""
    return _page(request, current, year=year, done=done)


@router.post(YEAR_END_PATH + "/confirm")
def confirm_page(request: Request, current: CurrentResident, posted: PostedMany) -> Response:
    """The chosen certificates and employer, checked, with the button that hands them over."""
    check_csrf(current, _one(posted, "csrf_token"))
    year: int | None = None
    try:
        year = _year(_one(posted, "year"))
        with transaction(request) as db:
            plan = handovers.plan_handover(
                session=db,
                resident_id=current.resident_id,
                sender_code=_one(posted, "sender"),
                year=year,
                delivery_ids=posted.get("document", []),
            )
            return templates.page(
                request,
                "delivery/handover_confirm.html",
                headers=NO_STORE,
                csrf_token=current.csrf_token,
                handover_plan=plan,
            )
    except MynaError as error:
        return _page(
            request, current, year=year, problem=error.localized(), status=error.status_code
        )


@router.post(YEAR_END_PATH)
def hand_over(request: Request, current: CurrentResident, posted: PostedMany) -> Response:
    """Hand the confirmed certificates over: the employer may now collect them."""
    check_csrf(current, _one(posted, "csrf_token"))
    year: int | None = None
    try:
        year = _year(_one(posted, "year"))
        with transaction(request) as db:
            handovers.hand_over(
                session=db,
                resident_id=current.resident_id,
                sender_code=_one(posted, "sender"),
                year=year,
                delivery_ids=posted.get("document", []),
            )
    except MynaError as error:
        return _page(
            request, current, year=year, problem=error.localized(), status=error.status_code
        )
    return RedirectResponse(f"{YEAR_END_PATH}?year={year}&done=handed_over", status_code=303)


@router.post(YEAR_END_PATH + "/{handover_id}/withdraw")
def withdraw(
    request: Request, current: CurrentResident, handover_id: HandoverId, posted: Posted
) -> Response:
    """Take back a hand-over the employer has not collected yet."""
    check_csrf(current, posted.get("csrf_token"))
    try:
        with transaction(request) as db:
            year = handovers.withdraw(
                session=db, resident_id=current.resident_id, handover_id=handover_id
            )
    except MynaError as error:
        return _page(
            request, current, year=None, problem=error.localized(), status=error.status_code
        )
    return RedirectResponse(f"{YEAR_END_PATH}?year={year}&done=withdrawn", status_code=303)
