"""The JPKI verifier API: status, 最新4情報, statements and CRLs (docs/api/verifiers.md).

``POST /status`` takes one JWS compact serialisation (``application/jose``) signed by a
registered verifier's key: a batch of serial numbers of signing or user-authentication
certificates, answered item by item and billed. ``GET /statements/{month}`` and ``GET
/crl/{kind}`` carry the same kind of signed request in ``Authorization: JWS <token>``.
Requests are counted per client address against the verifier rate limit; each route
runs its use case in one transaction, in one worker-thread hop.

``POST /latest-info/consents`` registers a holder's consent signed with the card, and
``POST /latest-info`` answers a batch with the latest basic 4 info where consented; both
take a signed request in the body, as ``/status`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from myna.jpki import latest_info, verifiers
from myna.jpki.domain import CertificateKind
from myna.jpki.schemas import (
    ConsentRegisteredRead,
    LatestInfoRead,
    StatementRead,
    StatusRead,
)
from myna.jpki.verifier_domain import (
    UnsignedVerifierRequestError,
    VerifierMediaTypeError,
    VerifierRequestTooLargeError,
)
from myna.platform.api_errors import error_responses
from myna.platform.db import unit_of_work
from myna.platform.ratelimit import Limit
from myna.platform.web import BodyLimit, client_address, get_container

if TYPE_CHECKING:
    from myna.bootstrap import Container

PREFIX = "/api/jpki/v1"
router = APIRouter(
    prefix=PREFIX, tags=["jpki verifiers"], responses=error_responses(401, 403, 404, 409, 415, 429)
)
JOSE = "application/jose"
PKIX_CRL = "application/pkix-crl"  # RFC 2585 §4.2
SCHEME = "JWS "


def _signed(kind: str) -> dict[str, object]:
    return {
        "requestBody": {
            "required": True,
            "content": {JOSE: {"schema": {"type": "string"}}},
            "description": f"A `{kind}` request as a JWS compact serialisation signed by the "
            "verifier (ES256, its certificate in x5c); see docs/api/verifiers.md",
        }
    }


_SIGNED = _signed("status")


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


Month = Annotated[str, Path(min_length=1, max_length=16, description="The month in Japan, YYYY-MM")]
Answer = TypeVar("Answer")


def _limited(request: Request) -> Container:
    container = get_container(request)
    container.rate_limiter.hit(Limit.JPKI_VERIFIER, client_address(request))
    return container


async def _run(container: Container, use_case: Callable[[Session], Answer]) -> Answer:
    def run() -> Answer:
        with unit_of_work(container.session_factory) as session:
            return use_case(session)

    return await run_in_threadpool(run)


async def _signed_body(request: Request, container: Container) -> str:
    limit = verifiers.request_limit(container.settings)
    try:
        body = await BodyLimit(
            JOSE, limit, VerifierMediaTypeError, VerifierRequestTooLargeError
        ).read(request)
    except VerifierRequestTooLargeError as exc:
        raise VerifierRequestTooLargeError(limit=limit) from exc
    try:
        token = body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise UnsignedVerifierRequestError from exc
    if not token:
        raise UnsignedVerifierRequestError
    return token


def _signed_header(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if not header.startswith(SCHEME) or not header.removeprefix(SCHEME).strip():
        raise UnsignedVerifierRequestError
    return header.removeprefix(SCHEME).strip()


@router.post(
    "/status",
    summary="The revocation status of a batch of card certificates (失効情報の提供)",
    openapi_extra=_SIGNED,
)
async def revocation_status(request: Request) -> StatusRead:
    """Each serial good, revoked (why, since when) or unknown, as of one CRL; billed."""
    container = _limited(request)
    token = await _signed_body(request, container)

    def run(session: Session) -> verifiers.StatusAnswer:
        return verifiers.revocation_status(
            session=session,
            settings=container.settings,
            requests=container.signed_requests,
            token=token,
        )

    return StatusRead.of(await _run(container, run))


@router.post(
    "/latest-info/consents",
    summary="Register a holder's consent to 最新4情報提供, signed with the card",
    openapi_extra=_signed("latest_info_consent"),
    status_code=201,
)
async def register_consent(request: Request) -> ConsentRegisteredRead:
    """Check the holder's CMS signature over the canonical statement naming this verifier."""
    container = _limited(request)
    token = await _signed_body(request, container)

    def run(session: Session) -> latest_info.ConsentRead:
        return latest_info.register_consent(
            session=session,
            settings=container.settings,
            requests=container.signed_requests,
            token=token,
        )

    return ConsentRegisteredRead.of(await _run(container, run))


@router.post(
    "/latest-info",
    summary="The status of a batch of signing certificates, with the latest 4 info where "
    "consented (最新4情報提供)",
    openapi_extra=_signed("latest_info"),
)
async def latest(request: Request) -> LatestInfoRead:
    """Each serial valid, expired, revoked or unknown; the news where consented; billed."""
    container = _limited(request)
    token = await _signed_body(request, container)

    def run(session: Session) -> latest_info.LatestAnswer:
        return latest_info.latest_info(
            session=session,
            settings=container.settings,
            requests=container.signed_requests,
            provisions=container.provision_log,
            token=token,
        )

    return LatestInfoRead.of(await _run(container, run))


@router.get(
    "/statements/{month}",
    summary="The verifier's own statement (請求明細) for a month",
    openapi_extra=_header("`JWS <token>`: a signed `statement` request naming the `month`"),
)
async def statement(request: Request, month: Month) -> StatementRead:
    """What the signing verifier was billed in ``month`` so far (and its providers)."""
    container = _limited(request)
    token = _signed_header(request)

    def run(session: Session) -> verifiers.Statement:
        return verifiers.own_statement(
            session=session,
            settings=container.settings,
            requests=container.signed_requests,
            token=token,
            month=month,
        )

    return StatementRead.of(await _run(container, run))


@router.get(
    "/crl/{kind}",
    summary="The current CRL of the signing or user-authentication CA, for the statement",
    response_class=Response,
    responses={200: {"content": {PKIX_CRL: {}}, "description": "The CRL, DER"}},
    openapi_extra=_header("`JWS <token>`: a signed `crl` request naming `certificate_kind`"),
)
async def revocation_list(request: Request, kind: Literal["sign", "auth"]) -> Response:
    """The same CRL as ``/jpki/crl/<kind>.crl``, on the statement at the CRL tariff."""
    container = _limited(request)
    token = _signed_header(request)

    def run(session: Session) -> bytes:
        return verifiers.verifier_crl(
            session=session,
            settings=container.settings,
            requests=container.signed_requests,
            token=token,
            kind=CertificateKind(kind),
        )

    der = await _run(container, run)
    return Response(content=der, media_type=PKIX_CRL, headers={"Cache-Control": "no-store"})
