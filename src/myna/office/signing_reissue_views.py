"""Back-office page for the re-issue of a signing certificate at the counter.

``GET /office/signing-reissue`` shows the form: the card's id (the resident presents the
card) and the new signing password, twice, which the resident enters. ``POST`` re-issues
(:func:`myna.office.signing_reissue.reissue_at_counter`) in one transaction and shows
the new certificate's validity; a refusal (another municipality's resident, a card
reported lost, a certificate that needs no re-issue, a password against the rules) is
shown on the form, nothing written. Every form carries the session's CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse

from myna import card, jpki
from myna.office import service as office
from myna.office import signing_reissue
from myna.office.views import templates
from myna.platform.errors import MynaError
from myna.platform.sessions import CsrfField, CurrentStaff, check_csrf
from myna.platform.web import get_container, transaction

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
CardIdForm = Annotated[str, Form(max_length=64)]
SecretForm = Annotated[str, Form(max_length=64)]
# What the counter can be refused with: shown on the form, the transaction rolled back.
REFUSALS = (
    office.OfficeError,
    card.CardNotFoundError,
    card.CardDamagedError,
    card.InvalidPinFormatError,
    card.OtherMunicipalityCardError,
    card.ReissueNotEligibleError,
    jpki.JpkiError,
)


def _page(
    request: Request,
    csrf_token: str,
    municipality_name: str,
    *,
    card_id: str = "",
    reissued: signing_reissue.Reissued | None = None,
    error: MynaError | None = None,
) -> Response:
    return templates.page(
        request,
        "office/signing_reissue.html",
        csrf_token=csrf_token,
        office_reissue_municipality=municipality_name,
        office_reissue_card_id=card_id,
        office_reissued=reissued,
        error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        headers=NO_STORE,
    )


@router.get("/office/signing-reissue", response_class=HTMLResponse)
def reissue_page(request: Request, current: CurrentStaff) -> Response:
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=current.staff_id)
        name = office.municipality_name(session=db, code=staff.municipality_code)
    return _page(request, current.csrf_token, name)


@router.post("/office/signing-reissue", response_class=HTMLResponse)
def reissue(
    request: Request,
    current: CurrentStaff,
    csrf_token: CsrfField,
    card_id: CardIdForm,
    password: SecretForm,
    password_confirmation: SecretForm,
) -> Response:
    check_csrf(current, csrf_token)
    container = get_container(request)
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=current.staff_id)
        name = office.municipality_name(session=db, code=staff.municipality_code)
    card_id = card_id.strip()
    try:
        with transaction(request) as db:
            done = signing_reissue.reissue_at_counter(
                session=db,
                settings=container.settings,
                staff_id=current.staff_id,
                card_id=card_id,
                password=password,
                confirmation=password_confirmation,
            )
    except REFUSALS as error:
        return _page(request, current.csrf_token, name, card_id=card_id, error=error)
    return _page(request, current.csrf_token, name, reissued=done)
