"""The portal application factory: routes of every context, one set of middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from myna import __version__, authapp, network
from myna.applications.domain import MAX_APPLICATION_ATTACHMENT_BYTES
from myna.applications.resident_views import router as resident_application_router
from myna.applications.submission_api import router as submission_api_router
from myna.applications.views import ATTACHMENT_UPLOAD_PATH
from myna.applications.views import router as application_router
from myna.authapp.api import router as authapp_api_router
from myna.authapp.views import router as authapp_router
from myna.catalog.api import router as services_api_router
from myna.catalog.views import router as services_router
from myna.certificates.api import router as kiosk_api_router
from myna.certificates.office_views import router as office_seal_router
from myna.certificates.views import router as certificate_router
from myna.corrections.views import CORRECTIONS_PATH
from myna.corrections.views import router as correction_router
from myna.counters.resident_views import router as counters_resident_router
from myna.counters.views import export_router as counters_export_router
from myna.counters.views import router as counters_router
from myna.delivery.api import router as delivery_api_router
from myna.delivery.handover_views import router as delivery_handover_router
from myna.delivery.views import router as delivery_router
from myna.jpki.api import router as jpki_router
from myna.jpki.verifier_api import router as jpki_verifier_router
from myna.medical.api import router as medical_api_router
from myna.medical.views import router as medical_router
from myna.moves.views import router as move_router
from myna.network import transparency
from myna.network.api import router as network_router
from myna.network.transparency.api import PREFIX as TRANSPARENCY_PREFIX
from myna.network.transparency.api import WELL_KNOWN as TRANSPARENCY_WELL_KNOWN
from myna.network.transparency.api import router as transparency_router
from myna.notices.api import router as notices_api_router
from myna.notices.views import router as notice_router
from myna.office.application_views import router as office_application_router
from myna.office.correction_views import router as office_correction_router
from myna.office.filings_api import router as filings_api_router
from myna.office.move_views import router as office_move_router
from myna.office.notice_views import NOTICE_FORM_MAX_BYTES, NOTICE_FORM_PATH
from myna.office.notice_views import router as office_notice_router
from myna.office.signing_reissue_views import router as office_signing_reissue_router
from myna.office.staff_card_views import router as office_staff_card_router
from myna.office.views import router as office_router
from myna.partners import authorization
from myna.partners.consent_views import router as consent_router
from myna.partners.oauth_api import router as oauth_router
from myna.partners.organization_views import router as organization_router
from myna.partners.resource_api import router as partner_resource_router
from myna.partners.review_views import router as partner_review_router
from myna.platform.api_errors import PLATFORM_ERRORS
from myna.platform.apidocs import install_api_docs
from myna.platform.db import unit_of_work
from myna.platform.edge import EdgeMiddleware
from myna.platform.errors import MynaError
from myna.platform.i18n import gettext as _
from myna.platform.logging import get_logger
from myna.platform.operations import METRICS_PATH, READINESS_PATH, install_operations
from myna.platform.requestid import request_id_of
from myna.platform.routing import index_routes
from myna.platform.sessions import RESIDENT, STAFF, LoginRequiredError, login_gate
from myna.platform.web import (
    NO_TELEMETRY,
    UploadRule,
    language_router,
    make_templates,
    template_context,
)
from myna.portal import service as portal_service
from myna.portal.account_views import router as account_router
from myna.portal.api import router as portal_api_router
from myna.portal.latest_info_views import router as latest_info_consent_router
from myna.portal.phone_api import router as phone_api_router
from myna.portal.phone_views import router as phone_router
from myna.portal.proxy_views import router as proxy_activity_router
from myna.portal.views import router as portal_router
from myna.proxy.views import router as proxy_router
from myna.stats.views import router as stats_router
from myna.tax.views import router as tax_router
from myna.vaccination.api import router as vaccination_api_router
from myna.vaccination.service import ISSUERS_PATH as VACCINATION_ISSUERS
from myna.vaccination.views import router as vaccination_router

if TYPE_CHECKING:
    from myna.bootstrap import Container

log = get_logger(__name__)
PLATFORM_STATIC = Path(__file__).parent / "platform" / "static"
PORTAL_STATIC = Path(__file__).parent / "portal" / "static"
STATS_STATIC = Path(__file__).parent / "stats" / "static"
MAX_BODY_BYTES = 1 << 20
# An e-application's attachment: the file plus the multipart envelope.
MAX_UPLOAD_BYTES = MAX_APPLICATION_ATTACHMENT_BYTES + (64 << 10)
# A correction request's evidence, the fields and the envelope.
MAX_EVIDENCE_UPLOAD_BYTES = network.MAX_EVIDENCE_BYTES + (64 << 10)
_error_templates = make_templates()


def create_app(container: Container) -> FastAPI:
    """The portal with the JPKI endpoints, wired to ``container``."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Route handlers run in AnyIO's thread pool; a few threads keep the CPU busy
        # while the database works, more only contend for the GIL (and SQLite's lock).
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = container.settings.worker_threads
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_publish_tree_heads, container)
            yield
            tasks.cancel_scope.cancel()
        container.close()

    app = FastAPI(
        telemetry=NO_TELEMETRY,
        lifespan=lifespan,
        title="Myna Portal API",
        version=__version__,
        description="Card login and the JPKI repository (CA certificates, CRLs, OCSP).",
        # Swagger UI is served by the portal itself (myna.platform.apidocs), under the CSP.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        # Every operation may be refused by the platform itself (myna.platform.api_errors).
        responses=PLATFORM_ERRORS,
    )
    app.state.container = container
    _ = container.rate_limiter  # built now (with the metrics), before requests race to build it
    for router in (
        portal_router,
        portal_api_router,
        phone_api_router,
        phone_router,
        account_router,
        latest_info_consent_router,
        proxy_router,
        proxy_activity_router,
        jpki_router,
        jpki_verifier_router,
        network_router,
        transparency_router,
        notice_router,
        notices_api_router,
        # The signing pages first: /apply/sign/{id} would otherwise match /apply/{m}/{code}.
        resident_application_router,
        application_router,
        move_router,
        correction_router,
        medical_router,
        vaccination_router,
        vaccination_api_router,
        # Before the box: /delivery/{delivery_id} would take /delivery/year-end-adjustment.
        delivery_handover_router,
        delivery_router,
        tax_router,
        stats_router,
        certificate_router,
        kiosk_api_router,
        consent_router,
        organization_router,
        partner_review_router,
        services_router,
        services_api_router,
        filings_api_router,
        medical_api_router,
        delivery_api_router,
        submission_api_router,
        oauth_router,
        partner_resource_router,
        authapp_api_router,
        authapp_router,
        office_router,
        office_application_router,
        office_move_router,
        office_correction_router,
        office_notice_router,
        office_staff_card_router,
        office_signing_reissue_router,
        counters_router,
        counters_export_router,
        counters_resident_router,
        office_seal_router,
        language_router,
    ):
        app.include_router(router)
    install_api_docs(app)
    app.mount("/static/portal", StaticFiles(directory=PORTAL_STATIC), name="portal-static")
    app.mount("/static/stats", StaticFiles(directory=STATS_STATIC), name="stats-static")
    app.mount("/static", StaticFiles(directory=PLATFORM_STATIC), name="static")

    install_error_handlers(app)
    # Each context's routes are asked only about paths of their own first segment.
    index_routes(app)
    # /healthz, /readyz, /metrics (first in matching order); the edge below counts and
    # names every request itself.
    install_operations(app, container.operations, middleware=False)
    # Every request's middleware work in one layer (myna.platform.edge), from the
    # outside in: request id, metrics, public reads, security headers, locale, body
    # limits, NUL refusals, and a 500 answered inside them all (so with the headers).
    app.add_middleware(
        EdgeMiddleware,
        metrics=container.operations.metrics,
        body_limit=MAX_BODY_BYTES,
        uploads=[
            UploadRule(ATTACHMENT_UPLOAD_PATH, MAX_UPLOAD_BYTES, login_gate(container, RESIDENT)),
            UploadRule(
                CORRECTIONS_PATH, MAX_EVIDENCE_UPLOAD_BYTES, login_gate(container, RESIDENT)
            ),
            UploadRule(NOTICE_FORM_PATH, NOTICE_FORM_MAX_BYTES, login_gate(container, STAFF)),
        ],
        # The exchange log's key, heads and proofs: readable by monitors on any site; the
        # municipalities' SMART Health Card keys, by verifiers' pages on any site.
        public_read=(
            f"{TRANSPARENCY_PREFIX}/",
            TRANSPARENCY_WELL_KNOWN,
            f"{VACCINATION_ISSUERS}/",
        ),
        public_prefixes=("/static/",),
        # The edge's refusals (400, 413) as the common error, in the reader's language.
        refusals=refused_at_the_edge,
        unexpected=unexpected_error,
    )
    if container.settings.trusted_proxies:
        # Outermost: every limit and log below sees the client a trusted proxy names.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=container.settings.trusted_proxies)
    return app


SEQUENCE_STEP = 250
"""Pending exchange-log entries integrated per transaction by the background publisher."""


async def _publish_tree_heads(container: Container) -> None:
    """Sign a new exchange-log tree head every interval, so entries become provable."""

    rounds = 0

    def publish() -> None:
        # Pending entries are integrated in short transactions first, so writers wait on
        # the log's lock (SQLite's one write lock) for one small batch at a time; the
        # head then signs what is left with them.
        while True:
            with unit_of_work(container.session_factory) as session:
                given = transparency.sequence(session=session, limit=SEQUENCE_STEP)
            if len(given) < SEQUENCE_STEP:
                break
        with unit_of_work(container.session_factory) as session:
            container.publish_tree_head(session)
            # Housekeeping about once a minute: expired sessions and old request ids.
            if rounds % 60 == 0:
                container.sessions.purge_expired(session)
                portal_service.forget_expired_challenges(session=session)
                network.forget_old_requests(session=session)
                authorization.forget_expired(session=session)
                authapp.forget_expired(session=session)

    while True:
        await anyio.sleep(container.settings.tree_head_interval_seconds)
        try:
            await anyio.to_thread.run_sync(publish)
            rounds += 1
        except Exception:
            log.exception("tree_head_failed")


def wants_json(request: Request) -> bool:
    """API and JPKI clients get JSON errors; people get pages."""
    path = request.url.path
    return path.startswith(
        (
            "/api/",
            "/jpki/",
            "/network/",
            "/login/status/",
            METRICS_PATH,
            READINESS_PATH,
            "/transparency/",
            "/.well-known/",
            "/authapp/api/",
            "/authapp/.well-known/",
            "/authapp/token",
            "/authapp/userinfo",
            "/authapp/jwks",
            f"{VACCINATION_ISSUERS}/",
            # The usage statistics' open data (the page itself is /stats).
            "/stats/",
        )
    ) or "application/json" in (request.headers.get("accept", ""))


def error_response(request: Request, *, status: int, code: str, message: str) -> Response:
    """One error, rendered for its audience, with a next step and no internals."""
    if wants_json(request):
        return JSONResponse({"error": code, "message": message}, status_code=status)
    return _error_templates.TemplateResponse(
        request,
        "error.html",
        template_context(
            request,
            title=_("Something went wrong"),
            message=message,
            return_path=request.url.path,
        ),
        status_code=status,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to a clear, localized response; never a stack trace."""

    @app.exception_handler(MynaError)
    async def myna_error(request: Request, exc: MynaError) -> Response:
        if isinstance(exc, LoginRequiredError) and not wants_json(request):
            target = exc.login_path
            if exc.comes_back and request.method == "GET":
                # A page opened from a notice or a partner comes back to itself after login.
                after = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                target = f"{target}?next={quote(after, safe='')}"
            return RedirectResponse(target, status_code=303)
        return error_response(
            request, status=exc.status_code, code=exc.code, message=exc.localized()
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(
            request,
            status=422,
            code="invalid_request",
            message=_("The request is not valid. Please check what you sent."),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            message = _("This page does not exist. Please check the address.")
            code = "not_found"
        elif exc.status_code == 400:
            message = _("The request is not valid. Please check what you sent.")
            code = "invalid_request"
        elif exc.status_code == 405:
            message = _("This method is not allowed here.")
            code = "method_not_allowed"
        else:
            message = _("The request could not be handled.")
            code = "http_error"
        return error_response(request, status=exc.status_code, code=code, message=message)

    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(PoolTimeoutError, database_unavailable)
    app.add_exception_handler(Exception, unexpected_error)


async def refused_at_the_edge(request: Request, status: int) -> Response:
    """A request refused before its route: a NUL in it (400) or a body too large (413)."""
    if status == 413:
        return error_response(
            request, status=413, code="request_too_large", message=_("The request is too large.")
        )
    return error_response(
        request,
        status=status,
        code="invalid_request",
        message=_("The request is not valid. Please check what you sent."),
    )


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database dropped the connection or did not answer: 503, and try again.

    A restart or failover of PostgreSQL cuts the connections in use; the pool replaces
    them (``pool_pre_ping``), so the same process serves again once the database does.
    Nothing was committed by the failed request (its transaction died with it).
    """
    cause = getattr(exc, "orig", None) or exc
    log.warning(
        "database_unavailable",
        path=request.url.path,
        request_id=request_id_of(request.scope),
        error=type(cause).__name__,
        # The driver's own words ("database or disk is full", "terminating connection
        # due to administrator command"): what the operator acts on.
        reason=(str(cause).splitlines() or [""])[0][:200],
    )
    return error_response(
        request,
        status=503,
        code="database_unavailable",
        message=_("The service is briefly unavailable. Please try again shortly."),
    )


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure: logged with its trace, answered without one."""
    del exc  # the log has it, from the exception being handled
    log.exception("unhandled_error", path=request.url.path, request_id=request_id_of(request.scope))
    return error_response(
        request,
        status=500,
        code="internal_error",
        message=_("Something went wrong on our side. Please try again later."),
    )
