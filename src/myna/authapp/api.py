"""The authentication app's endpoints for businesses: discovery, JWKS, authorize, token,
UserInfo, and the signing-transaction API (docs/api/authapp.md).

JSON errors are RFC 6749 §5.2 / RFC 6750 §3 objects (``error``, ``error_description``,
the description in the caller's language) with ``Cache-Control: no-store``. The
authorization endpoint, which a browser opens, shows an error page while the client or
its redirect URI is unverified and redirects every other error (RFC 6749 §4.1.2.1).
Form bodies and the authorization query are parsed by hand so a repeated parameter is
refused (RFC 6749 §3.1, §3.2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from myna.authapp import clients, oidc, signing
from myna.authapp.domain import (
    ID_PATTERN,
    SIGN,
    AuthAppError,
    InvalidAuthorizationRequestError,
    RedirectError,
)
from myna.platform.db import unit_of_work, utcnow
from myna.platform.errors import N_, MynaError
from myna.platform.oauth.errors import InvalidRequestError, OAuthError
from myna.platform.ratelimit import Limit
from myna.platform.web import client_address, get_container, transaction

router = APIRouter(tags=["authentication app (デジタル認証アプリ)"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 64 * 1024
SignRequestId = Annotated[str, Path(min_length=43, max_length=43, pattern=ID_PATTERN)]


class OAuthErrorOut(BaseModel):
    """An RFC 6749 §5.2 / RFC 6750 §3 error; the description in the caller's language."""

    error: str
    error_description: str


class TokenOut(BaseModel):
    """The token response (RFC 6749 §5.1); ``id_token`` for the authorization code."""

    access_token: str
    token_type: str = Field(description="Always Bearer.")
    expires_in: int
    scope: str
    id_token: str | None = Field(None, description="ES256 JWT (OIDC Core §2); code grant only.")


class AddressOut(BaseModel):
    """OIDC Core §5.1.1: the address as one formatted string."""

    formatted: str


class UserInfoOut(BaseModel):
    """OIDC Core §5.3.2: ``sub`` and the claims of the granted scopes."""

    model_config = ConfigDict(extra="forbid")

    sub: str = Field(description="A pairwise pseudonym for this business (never the MyNumber).")
    name: str | None = None
    address: AddressOut | None = None
    birthdate: str | None = Field(None, description="YYYY-MM-DD")
    gender: str | None = Field(None, description="male, female or unknown (J-LIS 1, 2, 3)")


class SignRequestIn(BaseModel):
    """A signing transaction: what the resident reads and the documents' digests."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=400, description="Shown to the resident (at most 100).")
    digests: list[str] = Field(
        max_length=50, description="1 to 10 SHA-256 digests of the documents, 64 hex characters."
    )
    return_url: str = Field(
        max_length=2000, description="Where the resident goes back to: the business's site."
    )


class SignRequestOut(BaseModel):
    """A signing transaction: its status and, once signed, the encrypted result."""

    id: str
    status: str = Field(description="pending, signed or expired")
    title: str
    digests: list[str]
    url: str = Field(description="The page to send the resident to.")
    return_url: str
    created_at: datetime
    expires_at: datetime
    signed_at: datetime | None
    result: str | None = Field(
        None,
        description="When signed: a compact JWE (ECDH-ES+A256KW, A256GCM) to the client's "
        "encryption key around the CMS signature, the signed document and the certificate.",
    )


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": OAuthErrorOut} for code in (401, 403, 404, 409, 410)
}


def oauth_error(exc: MynaError, *, challenge: bool = False) -> JSONResponse:
    """The error as JSON; a refused bearer token gets its ``WWW-Authenticate``."""
    headers = dict(NO_STORE)
    if challenge and isinstance(exc, OAuthError):
        headers["WWW-Authenticate"] = oidc.www_authenticate(exc)
    return JSONResponse(
        {"error": exc.code, "error_description": exc.localized()},
        status_code=exc.status_code,
        headers=headers,
    )


def _pairs(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=40)
    except ValueError as exc:
        raise InvalidRequestError(reason=N_("the form is malformed")) from exc
    params = dict(pairs)
    if len(params) != len(pairs):
        raise InvalidRequestError(reason=N_("a parameter is repeated"))
    return params


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded body; a repeated or oversized parameter is refused."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise InvalidRequestError(reason=N_("send application/x-www-form-urlencoded"))
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidRequestError(reason=N_("the request is too large"))
    try:
        return _pairs(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(reason=N_("the form is malformed")) from exc


@router.get(
    oidc.DISCOVERY_PATH, summary="OpenID Provider metadata (OpenID Connect Discovery 1.0 §4)"
)
def openid_configuration(request: Request) -> JSONResponse:
    return JSONResponse(oidc.metadata(get_container(request).settings))


@router.get(
    oidc.JWKS_PATH,
    summary="The app's public signing key (JWKS, with x5c)",
    response_class=Response,
    responses={200: {"content": {"application/jwk-set+json": {}}, "description": "The JWKS"}},
)
def jwks(request: Request) -> JSONResponse:
    settings = get_container(request).settings
    with transaction(request) as db:
        keys = oidc.public_jwks(session=db, settings=settings)
    return JSONResponse(
        keys, media_type="application/jwk-set+json", headers={"Cache-Control": "max-age=300"}
    )


@router.get(
    oidc.AUTHORIZE_PATH,
    summary="Authorization endpoint (OIDC Core §3.1.2): code flow with PKCE S256",
    response_class=RedirectResponse,
    responses={
        303: {"description": "To the resident's consent page, or an error to redirect_uri"},
        400: {"description": "An error page: unknown client or unregistered redirect_uri"},
    },
)
def authorize(request: Request) -> Response:
    settings = get_container(request).settings
    try:
        params = _pairs(request.url.query)
    except InvalidRequestError as error:
        raise InvalidAuthorizationRequestError(reason=N_("a parameter is repeated")) from error
    try:
        with transaction(request) as db:
            authorization_id = oidc.start_authorization(
                session=db, settings=settings, params=params
            )
    except RedirectError as redirect:
        return RedirectResponse(redirect.location, status_code=303, headers=NO_STORE)
    return RedirectResponse(
        f"{oidc.CONSENT_PATH}/{authorization_id}", status_code=303, headers=NO_STORE
    )


_FORM_FIELDS = {
    "grant_type": "authorization_code or client_credentials",
    "code": "The code from the redirect (single use, 60 seconds).",
    "redirect_uri": "The redirect URI of the authorization request.",
    "code_verifier": "The PKCE verifier.",
    "scope": "client_credentials: sign",
    "client_id": "Optional; must match the assertion.",
    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "client_assertion": "A JWT signed with a registered key (PS256 or ES256), aud = issuer.",
}


@router.post(
    oidc.TOKEN_PATH,
    summary="Token endpoint: code (+ PKCE) or client credentials, private_key_jwt",
    response_model=TokenOut,
    response_model_exclude_none=True,
    responses={400: {"model": OAuthErrorOut}, 401: {"model": OAuthErrorOut}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            k: {"type": "string", "description": v} for k, v in _FORM_FIELDS.items()
                        },
                    }
                }
            },
        }
    },
)
async def token(request: Request) -> Response:
    container = get_container(request)
    settings = container.settings

    def run(params: dict[str, str]) -> dict[str, Any]:
        # One unit of work committed even when the request is refused: a refused request
        # still spends its assertion's jti, and a replayed code's revocation must stay.
        failure: MynaError | None = None
        answer: dict[str, Any] = {}
        with unit_of_work(container.session_factory) as db:
            try:
                now = utcnow()
                client = oidc.authenticate_client(
                    session=db, settings=settings, params=params, now=now
                )
                answer = oidc.token(
                    session=db, settings=settings, client=client, params=params, now=now
                )
            except MynaError as exc:
                failure = exc
        if failure is not None:
            raise failure
        return answer

    try:
        # Counted before the client is known: codes and assertions are guessed from somewhere.
        container.rate_limiter.hit(Limit.AUTHAPP_TOKEN, client_address(request))
        params = await _form(request)
        body = await run_in_threadpool(run, params)
    except MynaError as exc:
        return oauth_error(exc)
    return JSONResponse(body, headers=NO_STORE)


def _userinfo(request: Request) -> Response:
    container = get_container(request)
    with transaction(request) as db:
        try:
            context = oidc.authenticate_bearer(
                session=db, authorization=request.headers.get("authorization"), scope="openid"
            )
            claims = oidc.userinfo(
                session=db, settings=container.settings, hub=container.hub_for(db), context=context
            )
        except OAuthError as error:
            return oauth_error(error, challenge=True)
    return JSONResponse(claims, headers=NO_STORE)


_USERINFO = {
    "summary": "UserInfo (OIDC Core §5.3): sub and the basic 4 info, logged in やりとり履歴",
    "response_model": UserInfoOut,
    "responses": {401: {"model": OAuthErrorOut}, 403: {"model": OAuthErrorOut}},
}


@router.get(oidc.USERINFO_PATH, **_USERINFO)  # type: ignore[arg-type]
def userinfo(request: Request) -> Response:
    return _userinfo(request)


@router.post(oidc.USERINFO_PATH, **_USERINFO)  # type: ignore[arg-type]
def userinfo_post(request: Request) -> Response:
    return _userinfo(request)


def _sign_client(request: Request, db: Any) -> clients.ClientRead:
    context = oidc.authenticate_bearer(
        session=db, authorization=request.headers.get("authorization"), scope=SIGN
    )
    return clients.get_client(session=db, client_id=context.client_id)


def _out(read: signing.SignRequestRead) -> SignRequestOut:
    return SignRequestOut(
        id=read.id,
        status=read.status.value,
        title=read.title,
        digests=list(read.digests),
        url=read.url,
        return_url=read.return_url,
        created_at=read.created_at,
        expires_at=read.expires_at,
        signed_at=read.signed_at,
        result=read.result,
    )


@router.post(
    oidc.SIGN_REQUESTS_PATH,
    status_code=201,
    summary="Ask a resident to sign documents (by their SHA-256 digests)",
    response_model=SignRequestOut,
    responses=_ERRORS,
)
def create_sign_request(request: Request, body: SignRequestIn) -> Response:
    settings = get_container(request).settings
    with transaction(request) as db:
        try:
            client = _sign_client(request, db)
            created = signing.create_sign_request(
                session=db,
                settings=settings,
                client=client,
                title=body.title,
                digests=list(body.digests),
                return_url=body.return_url,
            )
        except OAuthError as error:
            return oauth_error(error, challenge=True)
        except AuthAppError as error:
            return oauth_error(error)
    return JSONResponse(_out(created).model_dump(mode="json"), status_code=201, headers=NO_STORE)


@router.get(
    oidc.SIGN_REQUESTS_PATH + "/{request_id}",
    summary="A signing transaction's status; once signed, the JWE with the signature",
    response_model=SignRequestOut,
    responses=_ERRORS,
)
def read_sign_request(request: Request, request_id: SignRequestId) -> Response:
    settings = get_container(request).settings
    with transaction(request) as db:
        try:
            client = _sign_client(request, db)
            found = signing.sign_request_for_client(
                session=db, settings=settings, client=client, request_id=request_id
            )
        except OAuthError as error:
            return oauth_error(error, challenge=True)
        except MynaError as error:
            return oauth_error(error)
    return JSONResponse(_out(found).model_dump(mode="json"), headers=NO_STORE)
