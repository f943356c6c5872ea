"""The sender API of 民間送達 (see docs/delivery.md).

``POST /documents`` takes one JWS compact serialisation (``application/jose``) signed by
the sender's key, whose payload carries the signed document; ``GET /documents/{id}``
carries the same kind of signed request in the ``Authorization: JWS <token>`` header.
An employer collects the 控除証明書 its employees hand over for 年末調整 the same way:
``GET /year-end-adjustment?year=`` lists them, ``GET /year-end-adjustment/{id}`` returns
one with its documents as their issuers signed them (see :mod:`myna.delivery.handovers`).
Requests are counted per client address against the delivery rate limit; each route
runs its use case in one transaction, in one worker-thread hop.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from myna.delivery import handovers, service
from myna.delivery.domain import EARLIEST_TAX_YEAR, LATEST_TAX_YEAR
from myna.delivery.messages import MAX_REQUEST_BYTES
from myna.delivery.schemas import (
    CollectedDocumentRead,
    HandedOverDocumentRead,
    HandoverListRead,
    HandoverRead,
    HandoverSummaryRead,
    ReceiptRead,
)
from myna.network.api import jose_body
from myna.network.domain import MalformedMessageError, UnsignedMessageError
from myna.platform.api_errors import error_responses
from myna.platform.db import unit_of_work
from myna.platform.ratelimit import Limit
from myna.platform.web import client_address, get_container

if TYPE_CHECKING:
    from myna.bootstrap import Container

PREFIX = "/api/delivery/v1"
router = APIRouter(
    prefix=PREFIX, tags=["delivery"], responses=error_responses(401, 403, 404, 409, 415)
)
SCHEME = "JWS "
_SIGNED = {
    "requestBody": {
        "required": True,
        "content": {"application/jose": {"schema": {"type": "string"}}},
        "description": "A `delivery` request as a JWS compact serialisation signed by the sender",
    }
}


def _header(description: str) -> dict[str, object]:
    return {
        "parameters": [
            {
                "name": "Authorization",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": description,
            }
        ]
    }


_HEADER = _header("`JWS <token>`: a signed `receipt` request naming the document id")
_HANDOVERS_HEADER = _header("`JWS <token>`: a signed `handovers` request naming the `year`")
_COLLECT_HEADER = _header("`JWS <token>`: a signed `collect` request naming the `handover_id`")
YEAR_END_PATH = "/year-end-adjustment"
TaxYear = Annotated[
    int,
    Query(ge=EARLIEST_TAX_YEAR, le=LATEST_TAX_YEAR, description="The tax year (年分), e.g. 2025"),
]
HandoverId = Annotated[
    str, Path(min_length=1, max_length=64, description="The hand-over's id from the list")
]
Answer = TypeVar("Answer")


def _limited(request: Request) -> Container:
    container = get_container(request)
    container.rate_limiter.hit(Limit.DELIVERY, client_address(request))
    return container


async def _run(
    container: Container, token: str, use_case: Callable[[Session, Container, str], Answer]
) -> Answer:
    def run() -> Answer:
        with unit_of_work(container.session_factory) as session:
            return use_case(session, container, token)

    return await run_in_threadpool(run)


def _signed_header(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if not header.startswith(SCHEME):
        raise UnsignedMessageError
    return header.removeprefix(SCHEME).strip()


def _read(found: service.Receipt) -> ReceiptRead:
    return ReceiptRead(
        delivery_id=found.delivery_id,
        document_id=found.document_id,
        sender=found.sender,
        kind=found.kind.value,
        year=found.year,
        received_at=found.received_at,
        duplicate=found.duplicate,
    )


@router.post(
    "/documents",
    status_code=201,
    summary="Deliver a signed document (控除証明書, 源泉徴収票) to a linked resident",
    openapi_extra=_SIGNED,
    responses={200: {"model": ReceiptRead, "description": "A resend: the first receipt"}},
)
async def deliver(request: Request) -> Response:
    container = _limited(request)
    token = await jose_body(request, MAX_REQUEST_BYTES)

    def run(session: Session, container: Container, token: str) -> service.Receipt:
        return service.deliver(session=session, settings=container.settings, token=token)

    found = await _run(container, token, run)
    return JSONResponse(
        _read(found).model_dump(mode="json"), status_code=200 if found.duplicate else 201
    )


@router.get(
    "/documents/{document_id}",
    summary="The receipt of a document this sender delivered",
    openapi_extra=_HEADER,
)
async def receipt(request: Request, document_id: str) -> ReceiptRead:
    container = _limited(request)
    token = _signed_header(request)

    def run(session: Session, container: Container, token: str) -> service.Receipt:
        found = service.receipt(session=session, settings=container.settings, token=token)
        if found.document_id != document_id:
            raise MalformedMessageError
        return found

    return _read(await _run(container, token, run))


# -- 年末調整: an employer collects what its employees hand over --------------------------


def _document(found: handovers.HandedOver) -> HandedOverDocumentRead:
    return HandedOverDocumentRead(
        document_id=found.document_id,
        issuer=found.issuer,
        issuer_name=found.issuer_name,
        kind=found.kind.value,
        year=found.year,
        sha256=found.sha256,
    )


@router.get(
    YEAR_END_PATH,
    summary="年末調整: the certificates employees handed over to this employer, for a year",
    openapi_extra=_HANDOVERS_HEADER,
)
async def year_end_handovers(request: Request, year: TaxYear) -> HandoverListRead:
    container = _limited(request)
    token = _signed_header(request)

    def run(session: Session, container: Container, token: str) -> handovers.EmployerHandovers:
        return handovers.handovers_for_employer(
            session=session, settings=container.settings, token=token, year=year
        )

    found = await _run(container, token, run)
    return HandoverListRead(
        sender=found.sender,
        year=found.year,
        handovers=[
            HandoverSummaryRead(
                handover_id=item.handover_id,
                recipient=item.recipient,
                year=item.year,
                status="collected" if item.collected_at is not None else "ready",
                handed_over_at=item.handed_over_at,
                collected_at=item.collected_at,
                documents=[_document(document) for document in item.documents],
            )
            for item in found.handovers
        ],
    )


@router.get(
    YEAR_END_PATH + "/{handover_id}",
    summary="年末調整: collect one hand-over, with the documents as their issuers signed them",
    openapi_extra=_COLLECT_HEADER,
)
async def collect_handover(request: Request, handover_id: HandoverId) -> HandoverRead:
    container = _limited(request)
    token = _signed_header(request)

    def run(session: Session, container: Container, token: str) -> handovers.Collected:
        return handovers.collect(
            session=session, settings=container.settings, token=token, handover_id=handover_id
        )

    found = await _run(container, token, run)
    return HandoverRead(
        handover_id=found.handover_id,
        recipient=found.recipient,
        year=found.year,
        handed_over_at=found.handed_over_at,
        collected_at=found.collected_at,
        documents=[
            CollectedDocumentRead(
                **_document(document.about).model_dump(),
                xml=base64.b64encode(document.xml).decode("ascii"),
            )
            for document in found.documents
        ],
    )
