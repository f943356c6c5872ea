"""The hub's HTTP endpoint for requesting agencies (情報照会), see docs/network.md.

``POST /network/exchange`` takes a signed ExchangeRequest (``application/jose``, the JWS
compact serialisation, RFC 7515 §9.2.1) and answers with the hub-signed results. The
whole exchange — verification, authorization, the providers' answers and the log —
runs in one worker-thread hop inside one transaction.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from myna.network.domain import UnsignedMessageError
from myna.network.messages import MAX_TOKEN_BYTES
from myna.platform.api_errors import error_responses
from myna.platform.db import unit_of_work
from myna.platform.web import get_container

router = APIRouter(tags=["network"], responses=error_responses(401, 403, 404, 409, 415))
JOSE = "application/jose"


async def jose_body(request: Request, max_bytes: int = MAX_TOKEN_BYTES) -> str:
    """The request body: one JWS compact serialisation, ASCII, within ``max_bytes``."""
    body = await request.body()
    if not body or len(body) > max_bytes:
        raise UnsignedMessageError
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise UnsignedMessageError from exc


@router.post(
    "/network/exchange",
    response_class=Response,
    responses={200: {"content": {JOSE: {}}, "description": "The hub-signed results"}},
    summary="Submit a signed exchange request (情報照会) to the hub",
)
async def exchange(request: Request) -> Response:
    token = await jose_body(request)
    container = get_container(request)

    def run() -> str:
        with unit_of_work(container.session_factory) as session:
            hub = container.hub_for(session)
            outcome = hub.exchange(session=session, token=token)
            return hub.respond(session=session, outcome=outcome)

    return Response(await run_in_threadpool(run), media_type=JOSE)


@router.post(
    "/network/correction-answer",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "Accepted"}},
    summary="Answer a correction request (訂正の申出) the hub delivered to your agency",
)
async def correction_answer(request: Request) -> Response:
    """An agency node's signed CorrectionAnswer: checked, logged, passed to the portal."""
    token = await jose_body(request)
    container = get_container(request)

    def run() -> dict[str, str]:
        with unit_of_work(container.session_factory) as session:
            answer = container.hub_for(session).answer_correction(session=session, token=token)
            return {"request_id": answer.request_id, "status": "delivered"}

    return JSONResponse(await run_in_threadpool(run))
