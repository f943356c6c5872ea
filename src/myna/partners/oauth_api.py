"""The authorization server's endpoints: discovery, JWKS, PAR, authorize, token.

JSON endpoints answer errors as RFC 6749 §5.2 objects (``error``, ``error_description``)
with ``Cache-Control: no-store``; the authorization endpoint, which a browser opens,
shows an error page and never redirects to a URI it has not verified. Form bodies are
parsed by hand so a repeated parameter can be refused (RFC 6749 §3.1, §3.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from myna.partners import authorization, discovery, dpop
from myna.partners.client_auth import authenticate_client
from myna.partners.domain import PartnerError, RegisteredClient
from myna.platform.db import unit_of_work, utcnow
from myna.platform.errors import N_, MynaError, RateLimitUnavailableError
from myna.platform.oauth.errors import InvalidDPoPProofError, InvalidRequestError, OAuthError
from myna.platform.ratelimit import Limit
from myna.platform.web import get_container, transaction

router = APIRouter(tags=["authorization server"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 64 * 1024
# Back-channel calls per organisation (PAR and token together), counted once the
# organisation is authenticated so no one can spend another's allowance.
RETRY_AFTER_SECONDS = 60


class OrganizationRateLimitedError(PartnerError):
    code = "rate_limited"
    message = N_("Too many requests from this organisation. Please wait a minute and try again.")
    status_code = 429


def _count_call(request: Request, client_id: str) -> None:
    """Count one back-channel call of the organisation (MYNA_PARTNER_RATE_LIMIT)."""
    if not get_container(request).rate_limiter.allow(Limit.PARTNER_TOKEN, client_id):
        raise OrganizationRateLimitedError


def _form_body(fields: dict[str, str]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            name: {"type": "string", "description": text}
                            for name, text in fields.items()
                        },
                    }
                }
            },
        },
        "parameters": [
            {
                "name": "DPoP",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "A DPoP proof JWT (RFC 9449 §4).",
            }
        ],
    }


_CLIENT_AUTH = {
    "client_id": "The organisation's client ID (optional; must match the assertion).",
    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "client_assertion": "A JWT signed with a registered key (PS256 or ES256), aud = issuer.",
}
_PAR_FIELDS = {
    **_CLIENT_AUTH,
    "response_type": "code",
    "redirect_uri": "One of the registered redirect URIs, exactly.",
    "scope": "Space-separated scopes, within those approved.",
    "state": "Returned unchanged on the redirect.",
    "nonce": "Returned in the ID token.",
    "code_challenge": "BASE64URL(SHA256(code_verifier)).",
    "code_challenge_method": "S256",
    "dpop_jkt": "Optional: the thumbprint of the DPoP key the code is bound to.",
}
_TOKEN_FIELDS = {
    **_CLIENT_AUTH,
    "grant_type": "authorization_code",
    "code": "The code from the redirect (single use, 60 seconds).",
    "redirect_uri": "The redirect URI of the authorization request.",
    "code_verifier": "The PKCE verifier.",
}
_OAUTH_ERROR = {
    "description": "An RFC 6749 §5.2 error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "error": {"type": "string"},
                    "error_description": {"type": "string"},
                },
            }
        }
    },
}

# What a client authenticated at the back channel may be answered besides success.
_BACK_CHANNEL_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _OAUTH_ERROR,
    401: _OAUTH_ERROR,
    429: _OAUTH_ERROR,
}


def _json_example(description: str, example: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI response with a JSON example of its body."""
    return {"description": description, "content": {"application/json": {"example": example}}}


def oauth_error(exc: MynaError, *, status: int | None = None) -> JSONResponse:
    """An RFC 6749 §5.2 error response; DPoP errors are 400 here (RFC 9449 §5)."""
    known = OAuthError | PartnerError | RateLimitUnavailableError
    code = exc.code if isinstance(exc, known) else "invalid_request"
    if status is None:
        status = 400 if isinstance(exc, InvalidDPoPProofError) else exc.status_code
        status = status if status in {400, 401, 429, 503} else 400
    waits = status in {429, 503}
    headers = {**NO_STORE, "Retry-After": str(RETRY_AFTER_SECONDS)} if waits else NO_STORE
    return JSONResponse(
        {"error": code, "error_description": exc.localized()}, status_code=status, headers=headers
    )


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded body as a dict; a repeated or oversized parameter is refused."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise InvalidRequestError(reason=N_("send application/x-www-form-urlencoded"))
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidRequestError(reason=N_("the request is too large"))
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=40)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError(reason=N_("the form is malformed")) from exc
    params = dict(pairs)
    if len(params) != len(pairs):
        raise InvalidRequestError(reason=N_("a parameter is repeated"))
    return params


def _dpop_header(request: Request) -> str | None:
    values = request.headers.getlist("dpop")
    if len(values) > 1:
        raise InvalidDPoPProofError(reason=N_("send exactly one DPoP header"))
    return values[0] if values else None


@dataclass(frozen=True, slots=True)
class BackChannelCall:
    """An authenticated call of an organisation's server, for the endpoint to answer."""

    db: Session
    client: RegisteredClient
    params: dict[str, str]
    proof: str | None
    now: datetime


BackChannelWork = Callable[[BackChannelCall], tuple[int, dict[str, Any]]]


async def _back_channel(request: Request, work: BackChannelWork) -> Response:
    """A call of an organisation's server (PAR, token): read the form, authenticate the
    organisation and count its call, then let ``work`` answer it.

    All of it runs in a worker thread, in one unit of work that is committed even when
    ``work`` refuses the request: a refused request still spends its ``jti`` values, and
    a replayed code's revocation must outlive the error. Either way the answer is JSON.
    """
    container = get_container(request)
    settings = container.settings

    def run(params: dict[str, str], proof: str | None) -> tuple[int, dict[str, Any]]:
        failure: MynaError | None = None
        with unit_of_work(container.session_factory) as db:
            try:
                now = utcnow()
                client = authenticate_client(
                    session=db,
                    settings=settings,
                    cache=container.jwks_cache,
                    params=params,
                    now=now,
                )
                _count_call(request, client.client_id)
                answer = work(BackChannelCall(db, client, params, proof, now))
            except MynaError as exc:
                failure = exc
        if failure is not None:
            raise failure
        return answer

    try:
        params = await _form(request)
        proof = _dpop_header(request)
        status, body = await run_in_threadpool(run, params, proof)
    except MynaError as exc:
        return oauth_error(exc)
    return JSONResponse(body, status_code=status, headers=NO_STORE)


@router.get(
    "/.well-known/openid-configuration",
    summary="OpenID Provider metadata (OIDC Discovery §4, RFC 8414)",
)
def openid_configuration(request: Request) -> JSONResponse:
    return JSONResponse(discovery.metadata(get_container(request).settings))


@router.get(
    "/.well-known/oauth-authorization-server",
    summary="Authorization server metadata (RFC 8414 §3)",
)
def authorization_server_metadata(request: Request) -> JSONResponse:
    return JSONResponse(discovery.metadata(get_container(request).settings))


@router.get(
    discovery.JWKS_PATH,
    summary="The platform's public signing keys (JWKS)",
    response_class=Response,
    responses={200: {"content": {"application/jwk-set+json": {}}, "description": "The JWKS"}},
)
def jwks(request: Request) -> JSONResponse:
    settings = get_container(request).settings
    with transaction(request) as db:
        keys = discovery.public_jwks(session=db, settings=settings)
    return JSONResponse(
        keys, media_type="application/jwk-set+json", headers={"Cache-Control": "max-age=300"}
    )


@router.post(
    discovery.PAR_PATH,
    status_code=201,
    summary="Pushed authorization request (RFC 9126 §2)",
    openapi_extra=_form_body(_PAR_FIELDS),
    responses={
        201: _json_example(
            "The request_uri to send the browser with",
            {"request_uri": "urn:ietf:params:oauth:request_uri:…", "expires_in": 60},
        ),
        **_BACK_CHANNEL_ERRORS,
    },
)
async def pushed_authorization_request(request: Request) -> Response:
    settings = get_container(request).settings

    def work(call: BackChannelCall) -> tuple[int, dict[str, Any]]:
        jkt = None
        if call.proof is not None:
            url = discovery.endpoint(settings, discovery.PAR_PATH)
            checked = dpop.check_proof(
                session=call.db, proof=call.proof, method="POST", url=url, now=call.now
            )
            jkt = checked.jkt
        pushed = authorization.push_request(
            session=call.db, client=call.client, params=call.params, dpop_jkt=jkt
        )
        return 201, pushed.response()

    return await _back_channel(request, work)


@router.get(
    discovery.AUTHORIZE_PATH,
    summary="Authorization endpoint: opens a pushed request (RFC 9126 §4)",
    response_class=RedirectResponse,
    responses={303: {"description": "To the consent page"}, 400: {"description": "Error page"}},
)
def authorize(
    request: Request, client_id: str | None = None, request_uri: str | None = None
) -> RedirectResponse:
    with transaction(request) as db:
        pending_id = authorization.open_request(
            session=db, client_id=client_id, request_uri=request_uri
        )
    return RedirectResponse(f"/consent/{pending_id}", status_code=303, headers=NO_STORE)


@router.post(
    discovery.TOKEN_PATH,
    summary="Token endpoint: a code for a DPoP-bound access token and an ID token",
    openapi_extra=_form_body(_TOKEN_FIELDS),
    responses={
        200: _json_example(
            "RFC 6749 §5.1 with token_type DPoP",
            {
                "access_token": "…",
                "token_type": "DPoP",
                "expires_in": 300,
                "scope": "openid name",
                "id_token": "eyJ…",
            },
        ),
        **_BACK_CHANNEL_ERRORS,
    },
)
async def token(request: Request) -> Response:
    settings = get_container(request).settings

    def work(call: BackChannelCall) -> tuple[int, dict[str, Any]]:
        url = discovery.endpoint(settings, discovery.TOKEN_PATH)
        checked = dpop.check_proof(
            session=call.db, proof=call.proof, method="POST", url=url, now=call.now
        )
        issued = authorization.exchange_code(
            session=call.db,
            settings=settings,
            client=call.client,
            params=call.params,
            proof=checked,
        )
        return 200, issued

    return await _back_channel(request, work)
