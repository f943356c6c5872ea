"""The hub's HTTP endpoint for requesting agencies (情報照会), see docs/network.md.

``POST /network/exchange`` takes a signed ExchangeRequest (``application/jose``, the JWS
compact serialisation, RFC 7515 §9.2.1) and answers with the hub-signed results. The
whole exchange — verification, authorization, the providers' answers and the log —
runs in one worker-thread hop inside one transaction.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from myna.network.domain import UnsignedMessageError
from myna.network.messages import MAX_TOKEN_BYTES
from myna.platform.db import unit_of_work
from myna.platform.web import get_container

router = APIRouter(tags=["network"])
JOSE = "application/jose"


@router.post(
    "/network/exchange",
    response_class=Response,
    responses={200: {"content": {JOSE: {}}, "description": "The hub-signed results"}},
    summary="Submit a signed exchange request (情報照会) to the hub",
)
async def exchange(request: Request) -> Response:
    body = await request.body()
    if not body or len(body) > MAX_TOKEN_BYTES:
        raise UnsignedMessageError
    try:
        token = body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise UnsignedMessageError from exc
    container = get_container(request)

    def run() -> str:
        with unit_of_work(container.session_factory) as session:
            hub = container.hub_for(session)
            outcome = hub.exchange(session=session, token=token)
            return hub.respond(session=session, outcome=outcome)

    return Response(await run_in_threadpool(run), media_type=JOSE)
