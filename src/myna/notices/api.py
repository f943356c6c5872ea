"""The agency API for notices: send and preview, as signed messages (JWS, RFC 7515).

``POST /api/agency/notices`` and ``POST /api/agency/notices/preview`` take the JSON body
signed by the agency (``application/jose``, compact serialisation, ES256, the agency's
government-CA certificate in ``x5c``) and verified like the hub verifies an exchange
request (:func:`myna.network.open_signed`). The verified signer is the sender; an agency
addresses one resident by its own link code, never by MyNumber.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from myna import network
from myna.notices import service
from myna.notices.domain import Audience, InvalidNoticeError, Segment, ToResident, ToSegment
from myna.platform.api_errors import error_responses
from myna.platform.db import unit_of_work
from myna.platform.web import get_container

router = APIRouter(
    prefix="/api/agency/notices",
    tags=["notices"],
    responses=error_responses(401, 403, 404, 409, 415),
)
JOSE = "application/jose"
_SIGNED_BODY = {
    "requestBody": {
        "required": True,
        "content": {JOSE: {"schema": {"type": "string", "description": "JWS compact"}}},
    }
}


async def _token(request: Request) -> str:
    body = await request.body()
    if not body:
        raise network.UnsignedMessageError
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise network.UnsignedMessageError from exc


def _payload(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidNoticeError(detail="the signed payload is not JSON") from exc
    if not isinstance(data, dict):
        raise InvalidNoticeError(detail="the signed payload must be a JSON object")
    return data


def _once(data: dict[str, Any]) -> tuple[str, datetime]:
    """The request's id and time (required: a signed notice must not be sendable twice)."""
    request_id = data.pop("request_id", None)
    issued_at = data.pop("issued_at", None)
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 64:
        raise InvalidNoticeError(detail="request_id (a unique id of up to 64 characters)")
    try:
        moment = datetime.fromisoformat(str(issued_at))
    except ValueError as exc:
        raise InvalidNoticeError(detail="issued_at (an ISO 8601 time with its zone)") from exc
    return request_id, moment


def _audience(data: Any) -> Audience:
    if isinstance(data, dict) and set(data) == {"link_code"} and isinstance(data["link_code"], str):
        return ToResident(data["link_code"][:64])
    if isinstance(data, dict) and set(data) == {"segment"}:
        return ToSegment(Segment.from_dict(data["segment"]))
    raise InvalidNoticeError(detail='audience must be {"link_code": ...} or {"segment": {...}}')


def _attachments(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise InvalidNoticeError(detail="attachments must be a list")
    decoded = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise InvalidNoticeError(detail="each attachment needs name, media_type, content")
        try:
            data = base64.b64decode(item["content"], validate=True)
        except (ValueError, binascii.Error) as exc:
            raise InvalidNoticeError(detail="attachment content must be base64") from exc
        decoded.append({**{k: v for k, v in item.items() if k != "content"}, "data": data})
    return decoded


async def _signed_call(
    request: Request, handle: Callable[[Session, str, dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """Verify the agency's signed body and ``handle`` its payload in one transaction.

    ``handle`` gets the session, the verified sender and the payload; it runs in a
    worker thread, off the event loop.
    """
    token = await _token(request)
    container = get_container(request)

    def run() -> dict[str, Any]:
        with unit_of_work(container.session_factory) as session:
            opened = network.open_signed(token, session=session, settings=container.settings)
            return handle(session, opened.sender, _payload(opened.payload))

    return await run_in_threadpool(run)


def _send(session: Session, sender: str, data: dict[str, Any]) -> dict[str, Any]:
    request_id, issued_at = _once(data)
    network.admit_once(
        session=session, request_id=request_id, requester=sender, issued_at=issued_at
    )
    audience = _audience(data.pop("audience", None))
    if "attachments" in data:
        data["attachments"] = _attachments(data["attachments"])
    sent = service.send_notice(
        session=session, sender=sender, audience=audience, content=service.parse_content(data)
    )
    return sent.model_dump(mode="json")


def _preview(session: Session, sender: str, data: dict[str, Any]) -> dict[str, Any]:
    # A preview changes nothing, so it needs no request id (one is tolerated).
    data.pop("request_id", None)
    data.pop("issued_at", None)
    if set(data) != {"segment"}:
        raise InvalidNoticeError(detail='the preview body is {"segment": {...}}')
    segment = Segment.from_dict(data["segment"])
    size = service.preview_audience(session=session, sender=sender, segment=segment)
    return {"audience_size": size}


@router.post(
    "",
    status_code=201,
    summary="Send a notice to one resident (by link code) or to a segment",
    openapi_extra=_SIGNED_BODY,
)
async def send(request: Request) -> JSONResponse:
    return JSONResponse(await _signed_call(request, _send), status_code=201)


@router.post(
    "/preview",
    summary="How many residents a segment reaches today",
    openapi_extra=_SIGNED_BODY,
)
async def preview(request: Request) -> JSONResponse:
    return JSONResponse(await _signed_call(request, _preview))
