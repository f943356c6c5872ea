"""Back-office pages for staff cards (職員証): an administrator registers and removes them.

``GET /office/staff/{id}/cards`` lists the cards registered to a staff member of the
administrator's municipality; ``POST …/cards/challenge`` starts a card login challenge
(audience ``staff-card``) bound to the administrator's session and opens
``GET …/cards/present/{challenge}``, where the staff member presents the card through
the card reader. Once the card has answered, that page shows the certificate it proved
and the administrator confirms with ``POST …/cards``; ``POST …/cards/{card}/remove``
removes a registration. Every form carries the session's CSRF token; another
municipality's staff member is "not found"; only an administrator passes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from myna import cardlogin
from myna.cardlogin.web import ChallengeIdForm, ChallengeIdPath, qr_svg
from myna.office import staff_cards
from myna.office.service import OfficeError
from myna.office.views import templates
from myna.platform.errors import MynaError
from myna.platform.params import RowId
from myna.platform.sessions import CsrfField, CurrentStaff, StaffSession, check_csrf
from myna.platform.web import get_container, transaction

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
StaffId = Annotated[RowId, Path()]
CardId = Annotated[RowId, Path()]
DONE = frozenset({"registered", "removed"})


def _cards_path(staff_id: int) -> str:
    return f"/office/staff/{staff_id}/cards"


def _cards_page(
    request: Request,
    db: Session,
    current: StaffSession,
    staff_id: int,
    *,
    error: MynaError | None = None,
    done: str = "",
) -> Response:
    listed = staff_cards.staff_cards(session=db, admin_id=current.staff_id, staff_id=staff_id)
    return templates.page(
        request,
        "office/staff_cards.html",
        csrf_token=current.csrf_token,
        office_cards=listed,
        office_card_done=done if done in DONE else "",
        error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        headers=NO_STORE,
    )


@router.get("/office/staff/{staff_id}/cards", response_class=HTMLResponse)
def cards_page(
    request: Request,
    current: CurrentStaff,
    staff_id: StaffId,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    with transaction(request) as db:
        return _cards_page(request, db, current, staff_id, done=done)


@router.post("/office/staff/{staff_id}/cards/challenge")
def start_registration(
    request: Request, current: CurrentStaff, staff_id: StaffId, csrf_token: CsrfField
) -> Response:
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        view = staff_cards.start_registration(
            session=db,
            settings=get_container(request).settings,
            admin_id=current.staff_id,
            staff_id=staff_id,
            session_token=current.token,
        )
    return RedirectResponse(f"{_cards_path(staff_id)}/present/{view.challenge_id}", status_code=303)


@router.get("/office/staff/{staff_id}/cards/present/{challenge_id}", response_class=HTMLResponse)
def present_page(
    request: Request, current: CurrentStaff, staff_id: StaffId, challenge_id: ChallengeIdPath
) -> Response:
    settings = get_container(request).settings
    proven = None
    refusal: MynaError | None = None
    with transaction(request) as db:
        listed = staff_cards.staff_cards(session=db, admin_id=current.staff_id, staff_id=staff_id)
        try:
            proven = staff_cards.presented_card(
                session=db,
                admin_id=current.staff_id,
                staff_id=staff_id,
                challenge_id=challenge_id,
                session_token=current.token,
            )
        except cardlogin.ChallengeNotVerifiedError:
            pass  # the card has not answered yet: the page waits for it
        except (OfficeError, cardlogin.LoginError) as error:
            refusal = error
    state = "verified" if proven else ("refused" if refusal else "waiting")
    return templates.page(
        request,
        "office/staff_card_present.html",
        csrf_token=current.csrf_token,
        office_cards=listed,
        office_card_state=state,
        office_card_challenge=challenge_id,
        office_card_proven=proven,
        office_card_reader_link=cardlogin.reader_link(
            settings.reader_url, settings.portal_url, challenge_id
        ),
        ttl_minutes=max(1, settings.challenge_ttl_seconds // 60),
        error=None if refusal is None else refusal.localized(),
        status_code=200 if refusal is None else refusal.status_code,
        headers=NO_STORE,
    )


@router.get("/office/staff/{staff_id}/cards/present/{challenge_id}/status")
def present_status(
    request: Request, current: CurrentStaff, staff_id: StaffId, challenge_id: ChallengeIdPath
) -> Response:
    with transaction(request) as db:
        status = staff_cards.registration_status(
            session=db,
            admin_id=current.staff_id,
            staff_id=staff_id,
            challenge_id=challenge_id,
            session_token=current.token,
        )
    return JSONResponse({"status": status}, headers=NO_STORE)


@router.get("/office/staff/{staff_id}/cards/present/{challenge_id}/qr.svg")
def present_qr(
    request: Request, current: CurrentStaff, staff_id: StaffId, challenge_id: ChallengeIdPath
) -> Response:
    with transaction(request) as db:
        staff_cards.staff_cards(session=db, admin_id=current.staff_id, staff_id=staff_id)
        bound = staff_cards.is_registration_challenge(
            session=db, challenge_id=challenge_id, session_token=current.token
        )
    if not bound:
        return Response(status_code=404)
    settings = get_container(request).settings
    svg = qr_svg(cardlogin.reader_link(settings.reader_url, settings.portal_url, challenge_id))
    return Response(svg, media_type="image/svg+xml", headers=NO_STORE)


@router.post("/office/staff/{staff_id}/cards", response_class=HTMLResponse)
def register_card(
    request: Request,
    current: CurrentStaff,
    staff_id: StaffId,
    csrf_token: CsrfField,
    challenge_id: ChallengeIdForm,
) -> Response:
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        try:
            staff_cards.register_card(
                session=db,
                admin_id=current.staff_id,
                staff_id=staff_id,
                challenge_id=challenge_id,
                session_token=current.token,
            )
        except (
            staff_cards.CardAlreadyRegisteredError,
            staff_cards.CardRevokedError,
            staff_cards.CardExpiredError,
            staff_cards.CardRefusedError,
            cardlogin.LoginError,
        ) as error:
            # Nothing registered; the presented card's challenge is used up either way.
            return _cards_page(request, db, current, staff_id, error=error)
    return RedirectResponse(f"{_cards_path(staff_id)}?done=registered", status_code=303)


@router.post("/office/staff/{staff_id}/cards/{card_id}/remove")
def remove_card(
    request: Request,
    current: CurrentStaff,
    staff_id: StaffId,
    card_id: CardId,
    csrf_token: CsrfField,
) -> Response:
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        staff_cards.remove_card(
            session=db, admin_id=current.staff_id, staff_id=staff_id, card_id=card_id
        )
    return RedirectResponse(f"{_cards_path(staff_id)}?done=removed", status_code=303)
