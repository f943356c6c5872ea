"""The resident's マイナ保険証 page: registering the card as the health insurance card.

``GET /my-info/health-insurance`` shows whether the card is registered (and the insured
id the insurer answered) or, if not, that the resident uses a 資格確認書 and can register
now; ``POST`` registers (the resident is logged in with the card, which is what the real
registration asks for).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from myna.medical import fhir, service
from myna.platform.clock import JST
from myna.platform.db import utcnow
from myna.platform.errors import MynaError
from myna.platform.forms import Posted
from myna.platform.sessions import CurrentResident, check_csrf
from myna.platform.web import get_container, templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
ENROLMENT_PATH = "/my-info/health-insurance"
HEALTH_FHIR_PATH = "/my-info/health.fhir.json"
NO_STORE = {"Cache-Control": "no-store"}


def _page(
    request: Request, current: CurrentResident, *, done: bool, problem: str | None, status: int
) -> Response:
    with transaction(request) as db:
        found = service.enrolment(session=db, resident_id=current.resident_id)
    return templates.page(
        request,
        "medical/enrolment.html",
        status_code=status,
        headers=NO_STORE,
        csrf_token=current.csrf_token,
        enrolment=found,
        done=done,
        problem=problem,
    )


@router.get(ENROLMENT_PATH, response_class=HTMLResponse)
def enrolment_page(request: Request, current: CurrentResident, done: str = "") -> Response:
    """Whether the card is the resident's insurance card, and how to make it so."""
    return _page(request, current, done=done == "registered", problem=None, status=200)


@router.post(ENROLMENT_PATH)
def enrol(request: Request, current: CurrentResident, posted: Posted) -> Response:
    """Register the card as the insurance card (the insurer is asked through the hub)."""
    check_csrf(current, posted.get("csrf_token"))
    try:
        with transaction(request) as db:
            service.enrol(
                session=db, hub=get_container(request).hub_for(db), resident_id=current.resident_id
            )
    except MynaError as error:
        return _page(
            request, current, done=False, problem=error.localized(), status=error.status_code
        )
    return RedirectResponse(f"{ENROLMENT_PATH}?done=registered", status_code=303)


@router.get(HEALTH_FHIR_PATH)
def health_bundle(request: Request, current: CurrentResident) -> Response:
    """The resident's own health data as one FHIR R4 Bundle (JP Core), asked through the hub."""
    with transaction(request) as db:
        found = service.own_health_records(
            session=db, hub=get_container(request).hub_for(db), resident_id=current.resident_id
        )
    if found.coverage is None:
        raise service.NoCoverageError
    now = utcnow().astimezone(JST)
    document = fhir.health_bundle(
        coverage_record=found.coverage,
        seed=secrets.token_urlsafe(12),
        timestamp=now,
        include_limit=True,
        medications=found.medications,
        clinical=found.clinical,
        checkups=found.checkups,
        expenses=found.expenses,
    )
    filename = f"myna-health-{now:%Y%m%d}.fhir.json"
    return JSONResponse(
        document,
        media_type="application/fhir+json",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )
