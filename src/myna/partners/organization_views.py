"""Organisations on the web: 連携サービス一覧 (``/partners``) and the registration API.

``POST /api/partners/organizations`` registers an organisation as a client awaiting
review (a JSON body like RFC 7591's client metadata; errors as RFC 7591 §3.2.2);
``GET /api/partners/organizations`` lists the approved ones as open data; ``/partners``
shows residents, without login, which organisations may ask them for what, and why.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from myna.partners import organizations
from myna.partners.domain import ALL_SCOPES, PartnerError, RegisteredClient, RequestedScope
from myna.platform.api_errors import ErrorRead, error_responses
from myna.platform.attributes import from_attributes
from myna.platform.errors import N_
from myna.platform.ratelimit import Limit
from myna.platform.web import client_address, get_container, templates_beside, transaction

templates = templates_beside(__file__)
API_PATH = "/api/partners/organizations"
NO_STORE = {"Cache-Control": "no-store"}
router = APIRouter()


class RegistrationRateLimitedError(PartnerError):
    code = "too_many_registrations"
    message = N_("Too many registrations from this address. Please try again in an hour.")
    status_code = 429


# --- schemas -------------------------------------------------------------------------


def _at_most(limit: int) -> dict[str, Any]:
    """The published limit of a text field (``maxLength`` in OpenAPI).

    The model itself accepts up to twice as much, so that a text over the limit reaches
    the registration's own check and is refused as RFC 7591 asks (400
    ``invalid_client_metadata`` naming the field) rather than as a bare schema error.
    """
    return {"maxLength": limit}


class RequestedScopeWrite(BaseModel):
    """A scope the organisation asks for, and why (shown to the reviewer and residents)."""

    model_config = ConfigDict(extra="forbid")

    scope: str = Field(max_length=64, description=f"One of: {' '.join(ALL_SCOPES)}.")
    reason: str = Field(
        max_length=organizations.MAX_REASON_LENGTH * 2,
        json_schema_extra=_at_most(organizations.MAX_REASON_LENGTH),
        description="Why the service needs it, in Japanese for residents.",
    )


class OrganizationCreate(BaseModel):
    """An organisation's registration (client metadata after RFC 7591 §2)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "みらい銀行",
                    "purpose": "口座開設の本人確認と住所の入力を省くため",
                    "contact": "api-support@mirai-bank.example",
                    "retention": "口座解約から7年",
                    "redirect_uris": ["https://mirai-bank.example/myna/callback"],
                    "jwks_uri": "https://mirai-bank.example/.well-known/jwks.json",
                    "requested_scopes": [
                        {"scope": "openid", "reason": "ログインのため"},
                        {"scope": "name", "reason": "口座名義の確認のため"},
                        {"scope": "address", "reason": "届出住所の入力を省くため"},
                    ],
                }
            ]
        },
    )

    name: str = Field(
        max_length=organizations.MAX_NAME_LENGTH * 2,
        json_schema_extra=_at_most(organizations.MAX_NAME_LENGTH),
        description="表示名.",
    )
    purpose: str = Field(
        max_length=organizations.MAX_PURPOSE_LENGTH * 2,
        json_schema_extra=_at_most(organizations.MAX_PURPOSE_LENGTH),
        description="What the service uses residents' information for (利用目的).",
    )
    contact: str = Field(
        max_length=organizations.MAX_CONTACT_LENGTH * 2,
        json_schema_extra=_at_most(organizations.MAX_CONTACT_LENGTH),
        description="Where residents and reviewers reach the organisation.",
    )
    retention: str = Field(
        max_length=organizations.MAX_RETENTION_LENGTH * 2,
        json_schema_extra=_at_most(organizations.MAX_RETENTION_LENGTH),
        description="How long the information is kept (保存期間), e.g. 取得から1年.",
    )
    redirect_uris: list[str] = Field(
        max_length=organizations.MAX_REDIRECT_URIS * 2,
        json_schema_extra={
            "minItems": 1,
            "maxItems": organizations.MAX_REDIRECT_URIS,
            "items": {"type": "string", "maxLength": organizations.MAX_URI_LENGTH},
        },
        description="Exact https URIs without fragment (http only on 127.0.0.1/localhost).",
    )
    jwks: dict[str, Any] | None = Field(
        default=None, description="Public signing keys (EC P-256 or RSA ≥ 2048, kid, use sig)."
    )
    jwks_uri: str | None = Field(
        default=None,
        max_length=organizations.MAX_URI_LENGTH * 2,
        json_schema_extra={
            "anyOf": [
                {"type": "string", "maxLength": organizations.MAX_URI_LENGTH},
                {"type": "null"},
            ]
        },
        description="Or where to fetch them (https).",
    )
    requested_scopes: list[RequestedScopeWrite] = Field(
        max_length=len(ALL_SCOPES) * 2,
        json_schema_extra={"minItems": 1, "maxItems": len(ALL_SCOPES)},
        description="Each scope with its reason; openid first.",
    )


class ScopeRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    scope: str
    reason: str = Field(description="The organisation's reason.")
    label: str = Field(description="What the scope gives, in the request's language.")


class OrganizationRead(BaseModel):
    """A registration as the organisation sees it right after registering."""

    model_config = ConfigDict(frozen=True)

    client_id: str = Field(description="Use it as client_id, iss and sub of client assertions.")
    status: str = Field(description='"pending" until reviewed; then approved or rejected.')
    name: str
    purpose: str
    contact: str
    retention: str
    redirect_uris: list[str]
    jwks_uri: str | None
    requested_scopes: list[ScopeRead]
    approved_scopes: list[str]


class LinkedServiceRead(BaseModel):
    """An approved organisation, as open data."""

    model_config = ConfigDict(frozen=True)

    client_id: str
    name: str
    purpose: str
    retention: str
    contact: str
    scopes: list[ScopeRead] = Field(description="The approved scopes with the reasons given.")
    approved_at: datetime | None


class RegistrationErrorRead(BaseModel):
    """RFC 7591 §3.2.2: ``invalid_redirect_uri`` or ``invalid_client_metadata``."""

    model_config = ConfigDict(frozen=True)

    error: str
    error_description: str


# --- presenters ----------------------------------------------------------------------


def _scopes(client: RegisteredClient, *, approved_only: bool) -> list[ScopeRead]:
    return [
        ScopeRead(scope=s.scope, reason=s.reason, label=organizations.scope_label(s.scope))
        for s in client.requested_scopes
        if not approved_only or s.scope in client.approved_scopes
    ]


def _registration(client: RegisteredClient) -> OrganizationRead:
    return from_attributes(
        OrganizationRead,
        client,
        status=client.status.value,
        redirect_uris=list(client.redirect_uris),
        requested_scopes=_scopes(client, approved_only=False),
        approved_scopes=list(client.approved_scopes),
    )


def linked_service(client: RegisteredClient) -> LinkedServiceRead:
    """An approved organisation with its scopes in the reader's language."""
    return from_attributes(
        LinkedServiceRead,
        client,
        scopes=_scopes(client, approved_only=True),
        approved_at=client.extra.get("reviewed_at"),
    )


def _registration_error(error: PartnerError) -> JSONResponse:
    """RFC 7591 §3.2.2: only two error codes; the reason is in the description."""
    code = (
        "invalid_redirect_uri"
        if isinstance(error, organizations.InvalidRedirectUriError)
        else "invalid_client_metadata"
    )
    return JSONResponse(
        {"error": code, "error_description": error.localized()},
        status_code=error.status_code,
        headers=NO_STORE,
    )


# --- routes --------------------------------------------------------------------------


def _count_registration(request: Request) -> None:
    # Registration is open (a person reviews every one), so one address may not flood it.
    limiter = get_container(request).rate_limiter
    if not limiter.allow(Limit.PARTNER_REGISTRATION, client_address(request)):
        raise RegistrationRateLimitedError


@router.post(
    API_PATH,
    status_code=201,
    tags=["partners"],
    summary="Register an organisation (it waits for review)",
    description=(
        "Registers a private organisation as an OAuth client of the Mynaportal API. "
        "The answer's client_id is used at once in client assertions, but the "
        "authorization server accepts it only after a reviewer approves some of the "
        "requested scopes. Limited to 10 registrations per hour and address."
    ),
    responses={
        **error_responses(429),
        # A body that is not JSON at all is refused by the platform, in its common body.
        400: {
            "model": RegistrationErrorRead | ErrorRead,
            "description": "RFC 7591 §3.2.2 error, or an unreadable body (invalid_request).",
        },
    },
)
def register(request: Request, body: OrganizationCreate) -> Response:
    _count_registration(request)
    try:
        with transaction(request) as db:
            # The request body's fields are the registration's, but for the scopes' type.
            created = organizations.register_organization(
                session=db,
                **body.model_dump(exclude={"requested_scopes"}),
                requested_scopes=[
                    RequestedScope(scope=s.scope, reason=s.reason) for s in body.requested_scopes
                ],
            )
    except PartnerError as error:
        return _registration_error(error)
    return JSONResponse(
        _registration(created).model_dump(mode="json"), status_code=201, headers=NO_STORE
    )


@router.get(
    API_PATH,
    tags=["partners"],
    summary="The approved organisations (連携サービス一覧) as open data",
)
def list_linked(request: Request) -> list[LinkedServiceRead]:
    with transaction(request) as db:
        approved = organizations.list_approved(session=db)
    return [linked_service(client) for client in approved]


@router.get("/partners", response_class=HTMLResponse, include_in_schema=False)
def linked_services(request: Request) -> Response:
    with transaction(request) as db:
        approved = organizations.list_approved(session=db)
    return templates.page(
        request,
        "partners/organizations.html",
        partner_services=[linked_service(client) for client in approved],
    )
