"""JPKI HTTP routes: CA certificates, CRLs (RFC 5280 §5) and OCSP (RFC 6960 Appendix A).

Routes carry their full ``/jpki/...`` paths; include the router without a prefix.
Anything a client sends that cannot be read gets a proper answer — a JSON error, or
an OCSP ``malformedRequest`` response — never a 500.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from cryptography import x509
from cryptography.x509 import ocsp
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from myna.jpki import profile, service
from myna.jpki.domain import JpkiError
from myna.jpki.schemas import AuthorityIndex, AuthorityRead, JpkiErrorRead
from myna.platform.api_errors import error_responses
from myna.platform.db import unit_of_work, utcnow
from myna.platform.errors import N_, MynaError
from myna.platform.web import BodyLimit, get_container, transaction

router = APIRouter(
    tags=["jpki"],
    # The repository's own refusals carry {code, message} (its clients read ``code``).
    responses=error_responses(404, 413, 415, 503, model=JpkiErrorRead),
)

PKIX_CERT = "application/pkix-cert"  # RFC 2585 §4.1
PKIX_CRL = "application/pkix-crl"  # RFC 2585 §4.2
OCSP_REQUEST = "application/ocsp-request"  # RFC 6960 Appendix C.1
OCSP_RESPONSE = "application/ocsp-response"  # RFC 6960 Appendix C.2
# A single-certificate request is about 100 bytes; a signed one a few kilobytes.
MAX_OCSP_REQUEST_BYTES = 8192


class OcspRequestTooLargeError(JpkiError, code="ocsp_request_too_large", status_code=413):
    """The OCSP request body is over the limit."""

    message = N_("The OCSP request is too large. Send one request about a single certificate.")


class OcspMediaTypeError(JpkiError, code="ocsp_unsupported_media_type", status_code=415):
    """The OCSP request was not sent as application/ocsp-request."""

    message = N_("Send the OCSP request with the content type application/ocsp-request.")


# An OCSP answer is DER; unsuccessful statuses are OCSP responses too (RFC 6960 §2.3).
_OCSP_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {OCSP_RESPONSE: {}}, "description": "The OCSP response, DER"}
}


def _error(error: MynaError) -> JSONResponse:
    body = JpkiErrorRead(code=error.code, message=error.localized())
    return JSONResponse(body.model_dump(), status_code=error.status_code)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _max_age(until: datetime) -> int:
    return max(0, int((until - utcnow()).total_seconds()))


@router.get("/jpki/ca/", response_model=AuthorityIndex)
def authority_index(
    request: Request,
) -> AuthorityIndex:
    """The CA certificates, their CRLs and the OCSP responder."""
    with transaction(request) as session:
        base = get_container(request).settings.portal_url
        authorities = service.list_authorities(session=session)
        return AuthorityIndex(
            authorities=[
                AuthorityRead(
                    kind=authority.kind.value,
                    subject=authority.subject,
                    not_before=authority.not_before,
                    not_after=authority.not_after,
                    sha256_fingerprint=authority.sha256_fingerprint,
                    certificate_url=profile.ca_url(base, authority.kind),
                    crl_url=profile.crl_url(base, authority.kind),
                )
                for authority in authorities
            ],
            ocsp_url=profile.ocsp_url(base),
        )


@router.get(
    "/jpki/ca/{name}.crt",
    response_class=Response,
    responses={200: {"content": {PKIX_CERT: {}}, "description": "The CA certificate, DER"}},
)
def authority_certificate(
    name: str,
    request: Request,
) -> Response:
    """A CA certificate, DER (RFC 5280 §4.2.2.1 caIssuers)."""
    with transaction(request) as session:
        try:  # an unknown name is an UnknownAuthorityError
            der = service.ca_certificate(session=session, kind=name)
        except MynaError as error:
            return _error(error)
        return Response(
            content=der,
            media_type=PKIX_CERT,
            headers={"Cache-Control": "public, max-age=86400"},
        )


@router.get(
    "/jpki/crl/{name}.crl",
    response_class=Response,
    responses={200: {"content": {PKIX_CRL: {}}, "description": "The CRL, DER"}},
)
def revocation_list(
    request: Request,
    name: str,
) -> Response:
    """A CA's current CRL, DER, cacheable until its nextUpdate (RFC 5280 §5.1.2.5)."""
    with transaction(request) as session:
        settings = get_container(request).settings
        try:  # an unknown name is an UnknownAuthorityError
            der = service.current_crl(session=session, settings=settings, kind=name)
        except MynaError as error:
            return _error(error)
        crl = x509.load_der_x509_crl(der)
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        headers = {
            "Cache-Control": "public, max-age=0, must-revalidate",
            "Last-Modified": _http_date(crl.last_update_utc),
            "ETag": f'"{name}-{number}"',
        }
        if crl.next_update_utc is not None:
            headers["Cache-Control"] = f"public, max-age={_max_age(crl.next_update_utc)}"
            headers["Expires"] = _http_date(crl.next_update_utc)
        return Response(content=der, media_type=PKIX_CRL, headers=headers)


def _ocsp_headers(response_der: bytes) -> dict[str, str]:
    """RFC 5019 §6.2 caching: only successful, nonce-free answers, until nextUpdate."""
    response = ocsp.load_der_ocsp_response(response_der)
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return {"Cache-Control": "no-store"}
    if any(isinstance(e.value, x509.OCSPNonce) for e in response.extensions):
        return {"Cache-Control": "no-store"}
    headers = {"Last-Modified": _http_date(response.this_update_utc)}
    if response.next_update_utc is not None:
        headers["Cache-Control"] = f"public, max-age={_max_age(response.next_update_utc)}"
        headers["Expires"] = _http_date(response.next_update_utc)
    return headers


async def _answer(request: Request, request_der: bytes) -> Response:
    container = get_container(request)

    def respond() -> bytes:
        # One thread hop holds the whole unit of work (see myna.platform.web.transaction).
        with unit_of_work(container.session_factory) as session:
            return service.ocsp_response(
                session=session, settings=container.settings, request_der=request_der
            )

    response_der = await run_in_threadpool(respond)
    return Response(
        content=response_der, media_type=OCSP_RESPONSE, headers=_ocsp_headers(response_der)
    )


_OCSP_BODY = BodyLimit(
    OCSP_REQUEST, MAX_OCSP_REQUEST_BYTES, OcspMediaTypeError, OcspRequestTooLargeError
)


@router.post("/jpki/ocsp", response_class=Response, responses=_OCSP_ANSWER)
async def ocsp_post(request: Request) -> Response:
    """An OCSP request by POST (RFC 6960 Appendix A.1)."""
    try:
        body = await _OCSP_BODY.read(request)
    except MynaError as error:
        return _error(error)
    return await _answer(request, body)


@router.get("/jpki/ocsp/{encoded:path}", response_class=Response, responses=_OCSP_ANSWER)
async def ocsp_get(request: Request, encoded: str) -> Response:
    """An OCSP request by GET: the URL-encoded base64 of the DER (RFC 6960 Appendix A.1)."""
    if len(encoded) > MAX_OCSP_REQUEST_BYTES * 4 // 3 + 4:
        return _error(OcspRequestTooLargeError())
    try:
        request_der = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        # Unreadable input is an OCSP-level malformedRequest, as for a bad POST body.
        request_der = b""
    return await _answer(request, request_der)
