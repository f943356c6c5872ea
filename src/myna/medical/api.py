"""The institution API of オンライン資格確認 (see docs/health.md).

Every request body is one JWS compact serialisation (``application/jose``) signed by
the institution's key; the answers are JSON, or FHIR R4 (JP Core) when the client asks
for ``application/fhir+json``. Each route runs its use case in one transaction, in one
worker-thread hop.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from myna.medical import fhir, service
from myna.medical.messages import MAX_CERTIFICATE_BYTES
from myna.medical.schemas import (
    ConsentsRead,
    EligibilityRead,
    IdentifiedRead,
    VisitStartedRead,
    eligibility_read,
)
from myna.network.api import jose_body
from myna.platform.api_errors import error_responses
from myna.platform.clock import JST
from myna.platform.db import unit_of_work, utcnow
from myna.platform.web import get_container

if TYPE_CHECKING:
    from myna.bootstrap import Container

PREFIX = "/api/medical/v1"
router = APIRouter(
    prefix=PREFIX, tags=["medical"], responses=error_responses(401, 403, 404, 409, 415)
)
MAX_REQUEST_BYTES = 4 * MAX_CERTIFICATE_BYTES + 4096
FHIR_JSON = "application/fhir+json"
_SIGNED = {
    "requestBody": {
        "required": True,
        "content": {"application/jose": {"schema": {"type": "string"}}},
        "description": "The request as a JWS compact serialisation signed by the institution",
    }
}
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {FHIR_JSON: {"schema": {"type": "object"}}},
        "description": f"JSON; or a FHIR R4 Bundle (JP Core) when Accept asks for {FHIR_JSON}",
    }
}
Answer = TypeVar("Answer")


async def _signed(
    request: Request, use_case: Callable[[Session, Container, str], Answer]
) -> Answer:
    """Read the signed body, then run ``use_case(session, container, token)`` in a thread."""
    token = await jose_body(request, MAX_REQUEST_BYTES)
    container = get_container(request)

    def run() -> Answer:
        with unit_of_work(container.session_factory) as session:
            return use_case(session, container, token)

    return await run_in_threadpool(run)


def _answer(result: service.Eligibility, as_fhir: bool) -> EligibilityRead | Response:
    """The JSON answer, or the same content as a FHIR Bundle."""
    if not as_fhir:
        return eligibility_read(result)
    consents = result.consents
    document = fhir.health_bundle(
        coverage_record=result.coverage,
        seed=result.visit_id or secrets.token_urlsafe(12),
        timestamp=utcnow().astimezone(JST),
        include_limit=result.shows_limit,
        medications=result.medications if consents and consents.medication else (),
        clinical=result.clinical if consents and consents.medication else (),
        checkups=result.checkups if consents and consents.checkup else (),
    )
    return JSONResponse(document, media_type=FHIR_JSON)


@router.post(
    "/visits",
    status_code=201,
    summary="Open a reception at the card reader (受付)",
    openapi_extra=_SIGNED,
)
async def start_visit(request: Request) -> VisitStartedRead:
    def run(session: Session, container: Container, token: str) -> VisitStartedRead:
        started = service.start_visit(session=session, settings=container.settings, token=token)
        return VisitStartedRead(
            visit_id=started.visit_id,
            institution_code=started.institution_code,
            nonce=started.nonce,
            expires_at=started.expires_at,
        )

    return await _signed(request, run)


@router.post(
    "/visits/card",
    summary="The card at the reader: PIN signature, or the staff's face-match confirmation",
    openapi_extra=_SIGNED,
)
async def present_card(request: Request) -> IdentifiedRead:
    def run(session: Session, container: Container, token: str) -> IdentifiedRead:
        found = service.present_card(session=session, settings=container.settings, token=token)
        return IdentifiedRead(visit_id=found.visit_id, method=found.method)

    return await _signed(request, run)


@router.post(
    "/visits/consents",
    summary="The patient's answers on the consent screens",
    openapi_extra=_SIGNED,
)
async def answer_consents(request: Request) -> ConsentsRead:
    def run(session: Session, container: Container, token: str) -> ConsentsRead:
        given = service.answer_consents(session=session, settings=container.settings, token=token)
        return ConsentsRead(
            medication=given.medication,
            checkup=given.checkup,
            limit=given.limit,
            view_until=given.view_until,
        )

    return await _signed(request, run)


Confirm = Callable[..., service.Eligibility]


async def _eligibility(request: Request, confirm: Confirm) -> EligibilityRead | Response:
    """Run an eligibility use case (with the hub) and answer as JSON or FHIR."""
    as_fhir = FHIR_JSON in request.headers.get("accept", "")

    def run(session: Session, container: Container, token: str) -> EligibilityRead | Response:
        found = confirm(
            session=session,
            settings=container.settings,
            hub=container.hub_for(session),
            token=token,
        )
        return _answer(found, as_fhir)

    return await _signed(request, run)


@router.post(
    "/visits/result",
    summary="The eligibility, and what the patient consented to, within 24 hours",
    openapi_extra=_SIGNED,
    response_model=EligibilityRead,
    responses=_ANSWERS,
)
async def visit_result(request: Request) -> EligibilityRead | Response:
    return await _eligibility(request, service.visit_result)


@router.post(
    "/eligibility/by-number",
    summary="Without the card: 被保険者記号・番号・枝番 and the date of birth (eligibility only)",
    openapi_extra=_SIGNED,
    response_model=EligibilityRead,
    responses=_ANSWERS,
)
async def by_number(request: Request) -> EligibilityRead | Response:
    return await _eligibility(request, service.confirm_by_number)
