"""The sender API of 民間送達 (see docs/delivery.md).

``POST /documents`` takes one JWS compact serialisation (``application/jose``) signed by
the sender's key, whose payload carries the signed document; ``GET /documents/{id}``
carries the same kind of signed request in the ``Authorization: JWS <token>`` header.
Requests are counted per client address against the delivery rate limit; each route
runs its use case in one transaction, in one worker-thread hop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from myna.delivery import service
from myna.delivery.messages import MAX_REQUEST_BYTES
from myna.delivery.schemas import ReceiptRead
from myna.network.api import jose_body
from myna.network.domain import MalformedMessageError, UnsignedMessageError
from myna.platform.db import unit_of_work
from myna.platform.ratelimit import Limit
from myna.platform.web import client_address, get_container

if TYPE_CHECKING:
    from myna.bootstrap import Container

PREFIX = "/api/delivery/v1"
router = APIRouter(prefix=PREFIX, tags=["delivery"])
SCHEME = "JWS "
_SIGNED = {
    "requestBody": {
        "required": True,
        "content": {"application/jose": {"schema": {"type": "string"}}},
        "description": "A `delivery` request as a JWS compact serialisation signed by the sender",
    }
}
_HEADER = {
    "parameters": [
        {
            "name": "Authorization",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "`JWS <token>`: a signed `receipt` request naming the document id",
        }
    ]
}
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
    header = request.headers.get("authorization", "")
    if not header.startswith(SCHEME):
        raise UnsignedMessageError
    token = header.removeprefix(SCHEME).strip()

    def run(session: Session, container: Container, token: str) -> service.Receipt:
        found = service.receipt(session=session, settings=container.settings, token=token)
        if found.document_id != document_id:
            raise MalformedMessageError
        return found

    return _read(await _run(container, token, run))
