"""The institution API of オンライン資格確認 (see docs/health.md).

Every request body is one JWS compact serialisation (``application/jose``) signed by
the institution's key; the answers are JSON, or FHIR R4 (JP Core) when the client asks
for ``application/fhir+json``. Each route runs its use case in one transaction.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from myna.medical import fhir, service
from myna.medical.messages import MAX_CERTIFICATE_BYTES
from myna.medical.schemas import (
    ConsentsRead,
    EligibilityRead,
    IdentifiedRead,
    VisitStartedRead,
    eligibility_read,
)
from myna.network.domain import UnsignedMessageError
from myna.platform.clock import JST
from myna.platform.db import unit_of_work, utcnow
from myna.platform.web import get_container

PREFIX = "/api/medical/v1"
router = APIRouter(prefix=PREFIX, tags=["medical"])
MAX_REQUEST_BYTES = 4 * MAX_CERTIFICATE_BYTES + 4096
_SIGNED = {
    "required": True,
    "content": {"application/jose": {"schema": {"type": "string"}}},
    "description": "The request as a JWS compact serialisation signed by the institution",
}


FHIR_JSON = "application/fhir+json"
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {FHIR_JSON: {"schema": {"type": "object"}}},
        "description": "JSON; or a FHIR R4 Bundle (JP Core) when Accept asks for " + FHIR_JSON,
    }
}


def _wants_fhir(request: Request) -> bool:
    return FHIR_JSON in request.headers.get("accept", "")


def _answer(result: service.Eligibility, as_fhir: bool) -> EligibilityRead | Response:
    """The JSON answer, or the same content as a FHIR Bundle."""
    if not as_fhir:
        return eligibility_read(result)
    seed = result.visit_id or secrets.token_urlsafe(12)
    consents = result.consents
    document = fhir.health_bundle(
        coverage_record=result.coverage,
        seed=seed,
        timestamp=utcnow().astimezone(JST),
        include_limit=result.shows_limit,
        medications=result.medications if consents and consents.medication else (),
        clinical=result.clinical if consents and consents.medication else (),
        checkups=result.checkups if consents and consents.checkup else (),
    )
    return JSONResponse(document, media_type=FHIR_JSON)


async def _token(request: Request) -> str:
    body = await request.body()
    if not body or len(body) > MAX_REQUEST_BYTES:
        raise UnsignedMessageError
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise UnsignedMessageError from exc


@router.post(
    "/visits",
    status_code=201,
    summary="Open a reception at the card reader (受付)",
    openapi_extra={"requestBody": _SIGNED},
)
async def start_visit(request: Request) -> VisitStartedRead:
    token = await _token(request)
    container = get_container(request)

    def run() -> VisitStartedRead:
        with unit_of_work(container.session_factory) as session:
            started = service.start_visit(session=session, settings=container.settings, token=token)
            return VisitStartedRead(
                visit_id=started.visit_id,
                institution_code=started.institution_code,
                nonce=started.nonce,
                expires_at=started.expires_at,
            )

    return await run_in_threadpool(run)


@router.post(
    "/visits/card",
    summary="The card at the reader: PIN signature, or the staff's face-match confirmation",
    openapi_extra={"requestBody": _SIGNED},
)
async def present_card(request: Request) -> IdentifiedRead:
    token = await _token(request)
    container = get_container(request)

    def run() -> IdentifiedRead:
        with unit_of_work(container.session_factory) as session:
            found = service.present_card(session=session, settings=container.settings, token=token)
            return IdentifiedRead(visit_id=found.visit_id, method=found.method)

    return await run_in_threadpool(run)


@router.post(
    "/visits/consents",
    summary="The patient's answers on the consent screens",
    openapi_extra={"requestBody": _SIGNED},
)
async def answer_consents(request: Request) -> ConsentsRead:
    token = await _token(request)
    container = get_container(request)

    def run() -> ConsentsRead:
        with unit_of_work(container.session_factory) as session:
            given = service.answer_consents(
                session=session, settings=container.settings, token=token
            )
            return ConsentsRead(
                medication=given.medication,
                checkup=given.checkup,
                limit=given.limit,
                view_until=given.view_until,
            )

    return await run_in_threadpool(run)


@router.post(
    "/visits/result",
    summary="The eligibility, and what the patient consented to, within 24 hours",
    openapi_extra={"requestBody": _SIGNED},
    response_model=EligibilityRead,
    responses=_ANSWERS,
)
async def visit_result(request: Request) -> EligibilityRead | Response:
    token = await _token(request)
    container = get_container(request)
    as_fhir = _wants_fhir(request)

    def run() -> EligibilityRead | Response:
        with unit_of_work(container.session_factory) as session:
            result = service.visit_result(
                session=session,
                settings=container.settings,
                hub=container.hub_for(session),
                token=token,
            )
            return _answer(result, as_fhir)

    return await run_in_threadpool(run)


@router.post(
    "/eligibility/by-number",
    summary="Without the card: 被保険者記号・番号・枝番 and the date of birth (eligibility only)",
    openapi_extra={"requestBody": _SIGNED},
    response_model=EligibilityRead,
    responses=_ANSWERS,
)
async def by_number(request: Request) -> EligibilityRead | Response:
    token = await _token(request)
    container = get_container(request)
    as_fhir = _wants_fhir(request)

    def run() -> EligibilityRead | Response:
        with unit_of_work(container.session_factory) as session:
            result = service.confirm_by_number(
                session=session,
                settings=container.settings,
                hub=container.hub_for(session),
                token=token,
            )
            return _answer(result, as_fhir)

    return await run_in_threadpool(run)
