"""The resident's consents to 最新4情報提供: who may learn their latest basic 4 info.

``GET /latest-info-consents`` lists the consents the resident gave with the card (the
verifier, the purpose, when; withdrawn ones too); ``GET /latest-info-consents/{id}/
withdraw`` asks for confirmation and ``POST`` to the same address withdraws (CSRF
token checked). From then on the verifier learns that the certificate was revoked, and
nothing of the new 4 info. Another resident's consent is "not found".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna import jpki
from myna.platform.params import BigRowId
from myna.platform.sessions import CsrfField, CurrentResident, check_csrf
from myna.platform.web import transaction
from myna.portal.views import templates

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
ConsentId = Annotated[BigRowId, Path()]
PATH = "/latest-info-consents"


@router.get(PATH, response_class=HTMLResponse)
def consents_page(request: Request, current: CurrentResident) -> Response:
    with transaction(request) as db:
        found = jpki.consents_of(session=db, holder_id=current.resident_id)
    return templates.page(
        request,
        "portal/latest_info_consents.html",
        csrf_token=current.csrf_token,
        latest_consents=found,
        latest_withdrawn=request.query_params.get("withdrawn") == "1",
        headers=NO_STORE,
    )


@router.get(PATH + "/{consent_id}/withdraw", response_class=HTMLResponse)
def withdraw_page(request: Request, current: CurrentResident, consent_id: ConsentId) -> Response:
    with transaction(request) as db:
        consent = jpki.consent_of(session=db, holder_id=current.resident_id, consent_id=consent_id)
    if not consent.live:
        raise jpki.ConsentNotFoundError
    return templates.page(
        request,
        "portal/latest_info_withdraw.html",
        csrf_token=current.csrf_token,
        latest_consent=consent,
        headers=NO_STORE,
    )


@router.post(PATH + "/{consent_id}/withdraw")
def withdraw(
    request: Request, current: CurrentResident, consent_id: ConsentId, csrf_token: CsrfField
) -> Response:
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        jpki.withdraw_consent(session=db, holder_id=current.resident_id, consent_id=consent_id)
    return RedirectResponse(f"{PATH}?withdrawn=1", status_code=303)
