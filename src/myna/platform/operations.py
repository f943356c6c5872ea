"""What an operator needs of every Myna app: liveness, readiness, metrics, request ids.

The portal, the agency node, the card reader, the clinic counter and the certificate
kiosk are separate FastAPI apps; :func:`install_operations` gives each of them the same
four things, built from the same platform pieces:

- ``GET /healthz`` — liveness: the process answers (never touches a dependency);
- ``GET /readyz`` — readiness: the app's own checks (:mod:`myna.platform.readiness`),
  200 when all pass, 503 with the failed checks' names otherwise;
- ``GET /metrics`` — Prometheus counts of requests by route template, method and status
  (:mod:`myna.platform.metrics`), behind ``MYNA_METRICS_TOKEN`` (a bearer token) or
  ``MYNA_METRICS_LOOPBACK`` (loopback clients); without either it does not exist (404);
- an ``X-Request-ID`` on every answer and in every log line a request causes
  (:mod:`myna.platform.requestid`).

The routes are put before every other route of the app, so a catch-all path of the app
(``/{institution}`` at the counter) cannot shadow them. The middleware is added last, so
it sits outside the app's own: a request refused by a body limit is counted and has an id.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from myna.platform.errors import N_, MynaError
from myna.platform.logging import get_logger
from myna.platform.metrics import CONTENT_TYPE_LATEST, Metrics, MetricsAccess, MetricsMiddleware
from myna.platform.readiness import Check, NotReadyError, ReadinessAnswer, ReadinessProbe
from myna.platform.requestid import RequestIdMiddleware
from myna.platform.settings import Settings

__all__ = [
    "HEALTH_PATH",
    "METRICS_PATH",
    "NO_STORE",
    "OPERATIONS_PATHS",
    "READINESS_PATH",
    "MetricsUnauthorizedError",
    "Operations",
    "app_operations",
    "directory_check",
    "http_check",
    "install_operations",
]

log = get_logger(__name__)

HEALTH_PATH = "/healthz"
READINESS_PATH = "/readyz"
METRICS_PATH = "/metrics"
OPERATIONS_PATHS = (HEALTH_PATH, READINESS_PATH, METRICS_PATH)
# Probes and scrapes are read fresh each time: no cache between them and the process.
NO_STORE = {"Cache-Control": "no-store"}


class MetricsUnauthorizedError(MynaError, code="unauthorized", status_code=401):
    """A scrape of /metrics without the configured bearer token."""

    message = N_("The metrics need the operator's bearer token.")


@dataclass(frozen=True, slots=True)
class Operations:
    """One app's collectors, who may scrape them, and its readiness checks."""

    metrics: Metrics
    access: MetricsAccess
    readiness: ReadinessProbe
    # What /healthz says besides ``"status": "ok"`` (the agency node names its agency).
    health: Mapping[str, str] = field(default_factory=dict)


def install_operations(app: FastAPI, operations: Operations, *, middleware: bool = True) -> None:
    """Add ``/healthz``, ``/readyz``, ``/metrics`` and the request-id and metrics middleware.

    Call it after the app's own routes and middleware (see the module's docstring).
    Without ``middleware`` only the routes are added: the app's edge layer
    (:class:`myna.platform.edge.EdgeMiddleware`) counts and names its requests itself.
    """
    health = {"status": "ok", **operations.health}
    routes = app.router.routes
    before = len(routes)
    # The app's own routes, not an included router: a probe is matched without asking a
    # router first (the liveness probe is the cheapest request there is).
    router = app.router
    tags: list[str | Enum] = ["operations"]

    @router.get(HEALTH_PATH, tags=tags, summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return health

    @router.get(
        READINESS_PATH,
        tags=tags,
        summary="Readiness: what the app needs answers (check by check)",
        response_model=ReadinessAnswer,
        responses={503: {"model": ReadinessAnswer, "description": "A check did not pass."}},
    )
    async def readyz() -> JSONResponse:
        answer = ReadinessAnswer.of(await operations.readiness.run())
        if answer.failed:
            log.warning("not_ready", failed=answer.failed)
        return JSONResponse(
            answer.model_dump(), status_code=503 if answer.failed else 200, headers=NO_STORE
        )

    @router.get(METRICS_PATH, tags=tags, include_in_schema=False)
    def metrics(request: Request) -> Response:
        access = operations.access
        if not access.enabled:
            raise StarletteHTTPException(status_code=404)
        peer = request.client.host if request.client else None
        if not access.allows(authorization=request.headers.get("authorization"), peer=peer):
            if not access.wants_token:
                raise StarletteHTTPException(status_code=404)
            error = MetricsUnauthorizedError()
            return JSONResponse(
                {"error": error.code, "message": error.localized()},
                status_code=error.status_code,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"', **NO_STORE},
            )
        return Response(
            operations.metrics.exposition(), media_type=CONTENT_TYPE_LATEST, headers=NO_STORE
        )

    # First in matching order: no catch-all path of the app answers for them.
    routes[:] = routes[before:] + routes[:before]
    if middleware:
        # Outside the app's own middleware: every request is counted and carries an id.
        app.add_middleware(MetricsMiddleware, metrics=operations.metrics)
        app.add_middleware(RequestIdMiddleware)


def app_operations(
    settings: Settings, checks: Sequence[Check], *, health: Mapping[str, str] | None = None
) -> Operations:
    """An app's own collectors, the scrape access of ``settings`` and ``checks`` to run.

    Each app gets a registry of its own: its ``/metrics`` shows its requests only, even
    beside other apps in one process (``myna serve --reader --counter --kiosk``).
    """
    return Operations(
        metrics=Metrics(),
        access=MetricsAccess(token=settings.metrics_token, loopback=settings.metrics_loopback),
        readiness=ReadinessProbe(checks, timeout_seconds=settings.ready_timeout_seconds),
        health=dict(health or {}),
    )


def directory_check(name: str, path: Path) -> Check:
    """A directory the app reads (the virtual cards) exists and can be read."""

    def run() -> str:
        if not path.is_dir() or not os.access(path, os.R_OK | os.X_OK):
            raise NotReadyError("not readable")
        return "readable"

    return Check(name, run)


def http_check(name: str, client: httpx.Client, url: str) -> Check:
    """A service the app calls (the portal's ``/healthz``) answers with a success."""

    def run() -> str:
        try:
            response = client.get(url)
        except httpx.HTTPError as error:
            raise NotReadyError("unreachable") from error
        if not response.is_success:
            msg = f"answered {response.status_code}"
            raise NotReadyError(msg)
        return "answers"

    return Check(name, run)
