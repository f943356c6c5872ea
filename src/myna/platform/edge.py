"""The portal's edge: every request's middleware work in one pure-ASGI layer.

The portal needs, around every route and from the outside in: a request id
(:mod:`myna.platform.requestid`), the request counted (:mod:`myna.platform.metrics`),
public documents readable from any site (``PublicReadMiddleware``), the security
headers, the reader's language, the body size limits, NUL characters refused, and an
unexpected exception answered inside all of them. As eight middleware layers, each
request paid for eight calls and eight wrappers around every message it sent — about
a fifth of a trivial request. :class:`EdgeMiddleware` does the same work, in the same
order and with the same pieces (the helpers of :mod:`myna.platform.web`), in one layer
that wraps ``send`` once. The other apps keep the single-purpose layers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myna.platform import i18n
from myna.platform.metrics import Metrics, route_of
from myna.platform.requestid import REQUEST_ID_HEADER, assign_request_id
from myna.platform.web import (
    BodySizeLimitMiddleware,
    PublicReadMiddleware,
    RefusalHandler,
    UnexpectedHandler,
    UploadRule,
    answer_preflight,
    answer_unexpected,
    carries_nul,
    locale_of,
    refuse,
    with_security_headers,
)

__all__ = ["EdgeMiddleware"]

_REQUEST_ID = REQUEST_ID_HEADER.lower().encode("latin-1")


class EdgeMiddleware:
    """Request id, metrics, public reads, security headers, locale, limits, errors: one layer.

    Equivalent to, from the outside in: ``RequestIdMiddleware``, ``MetricsMiddleware``,
    ``PublicReadMiddleware(prefixes=public_read)``,
    ``SecurityHeadersMiddleware(public_prefixes=public_prefixes)``, ``LocaleMiddleware``,
    ``BodySizeLimitMiddleware(limit=body_limit, uploads=uploads, handler=refusals)``,
    ``RejectNulMiddleware(handler=refusals)`` and
    ``UnexpectedErrorMiddleware(handler=unexpected)``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        body_limit: int,
        uploads: Sequence[UploadRule] = (),
        public_read: tuple[str, ...] = (),
        public_prefixes: tuple[str, ...] = (),
        refusals: RefusalHandler | None = None,
        unexpected: UnexpectedHandler | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.public_read = public_read
        self.public_prefixes = public_prefixes
        self.refusals = refusals
        self.unexpected = unexpected
        # The body limits' own logic, run around the inner part of each request.
        self.bodies = BodySizeLimitMiddleware(
            app, limit=body_limit, uploads=uploads, handler=refusals
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = assign_request_id(scope)
        path = str(scope.get("path", ""))
        cross_origin = bool(self.public_read) and path.startswith(self.public_read)
        public = path.startswith(self.public_prefixes)
        started = time.perf_counter()
        status = 500
        answered = False

        async def send_as_the_edge(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                headers = with_security_headers(message, public=public)
                if cross_origin:
                    headers.append(PublicReadMiddleware.ALLOW)
                headers = [(n, v) for n, v in headers if n.lower() != _REQUEST_ID]
                headers.append((_REQUEST_ID, request_id.encode("latin-1")))
                message["headers"] = headers
                status = int(message["status"])
                answered = True
            await send(message)

        async def inner(scope: Scope, receive: Receive, send: Send) -> None:
            # Inside the body limits: NUL refused, then the app, its surprises answered.
            if carries_nul(scope):
                await refuse(self.refusals, scope, receive, send, 400)
                return
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                if answered:
                    raise
                await answer_unexpected(self.unexpected, scope, receive, send, exc)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            if cross_origin and scope["method"] == "OPTIONS":
                # Answered outside the security headers, as the public-read layer did.
                await answer_preflight(_with_request_id(send, request_id))
                status = 204
                return
            i18n.set_locale(locale_of(scope))
            await self.bodies.guard(scope, receive, send_as_the_edge, inner)
        finally:
            structlog.contextvars.reset_contextvars(**bound)
            self.metrics.observe_request(
                route=route_of(scope),
                method=str(scope["method"]),
                status=status,
                seconds=time.perf_counter() - started,
            )


def _with_request_id(send: Send, request_id: str) -> Send:
    """``send`` for an answer made outside the security headers: the request id alone."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                *message.get("headers", []),
                (_REQUEST_ID, request_id.encode("latin-1")),
            ]
        await send(message)

    return sending
