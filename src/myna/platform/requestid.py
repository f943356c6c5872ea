"""Request ids: one per HTTP request, in the response and in every log line it causes.

A caller (a load balancer, an integrator's client) may send ``X-Request-ID``; a sane one
— at most 128 characters of letters, digits and ``. _ : - + = /`` — is kept, so one id
follows a request across the proxy, the portal and the caller's own logs. Anything else
is replaced by a new random id (never echoed, never logged). The id is bound into
structlog's context variables for the request (route handlers that run in the thread
pool inherit it) and returned in the ``X-Request-ID`` response header.
"""

from __future__ import annotations

import re
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware", "accepted_request_id", "request_id_of"]

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID_LENGTH = 128
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]*")
_HEADER = REQUEST_ID_HEADER.lower().encode("latin-1")
# Where the id is kept for the request (Request.state): error handlers log it too.
STATE_KEY = "request_id"


def accepted_request_id(presented: str | None) -> str:
    """``presented`` when it is a sane request id, else a new random one."""
    if (
        presented is not None
        and len(presented) <= MAX_REQUEST_ID_LENGTH
        and _SANE.fullmatch(presented)
    ):
        return presented
    return str(uuid.uuid4())


def request_id_of(scope: Scope) -> str | None:
    """The id given to the request of ``scope`` (None outside the middleware)."""
    state = scope.get("state")
    found = state.get(STATE_KEY) if isinstance(state, dict) else None
    return found if isinstance(found, str) else None


def assign_request_id(scope: Scope) -> str:
    """The request's id (the client's ``X-Request-ID`` if acceptable, else a new one),
    kept in the scope's state for the logs and the answer's header."""
    presented = None
    for name, value in scope["headers"]:
        if name == _HEADER:
            presented = value.decode("latin-1")
            break
    request_id = accepted_request_id(presented)
    scope.setdefault("state", {})[STATE_KEY] = request_id
    return request_id


class RequestIdMiddleware:
    """Gives each HTTP request its id: bound into the logs, returned in the header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = assign_request_id(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)
