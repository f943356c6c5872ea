"""The resource APIs for organisations: 自己情報取得API (also as FHIR) and お知らせ情報取得API.

Each needs a DPoP-bound access token (``Authorization: DPoP <token>`` and a ``DPoP`` proof
for this method and URL, RFC 9449 §7) and answers with a JWT signed by the platform, or a
JWE around it for organisations that registered an encryption key. With the same token,
the organisation fetches the consent receipt (同意レシート) it is bound by.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from myna.network import Hub
from myna.partners import authorization, discovery, resources
from myna.partners.authorization import TokenContext
from myna.partners.domain import PartnerError
from myna.partners.organizations import JwksCache
from myna.platform.oauth.errors import OAuthError
from myna.platform.settings import Settings
from myna.platform.web import get_container, transaction

PREFIX = "/api/partners/v1"
MYINFO_PATH = f"{PREFIX}/myinfo"
HEALTH_FHIR_PATH = f"{MYINFO_PATH}/health.fhir"
NOTICES_PATH = f"{PREFIX}/notices"
CONSENT_RECEIPT_PATH = f"{PREFIX}/consent-receipt"
router = APIRouter(tags=["resource APIs"])
NO_STORE = {"Cache-Control": "no-store"}
_SIGNED = {
    200: {
        "description": "A JWT signed by the platform (application/jwt), or a compact JWE "
        "around it (application/jose) when the organisation registered an encryption key.",
        "content": {"application/jwt": {}, "application/jose": {}},
    },
    401: {"description": "invalid_token or invalid_dpop_proof, with a WWW-Authenticate challenge"},
    403: {"description": "insufficient_scope: not consented or not in the token"},
    502: {
        "description": "jwks_unavailable: the encryption key at the organisation's jwks_uri "
        "could not be read (nothing is sent in the clear instead)"
    },
}

Answer = Callable[[Session, Settings, TokenContext], resources.SignedAnswer]


class HubUseCase(Protocol):
    """A use case that fetches the resident's items through the hub."""

    def __call__(
        self,
        *,
        session: Session,
        settings: Settings,
        hub: Hub,
        cache: JwksCache,
        context: TokenContext,
    ) -> resources.SignedAnswer: ...


def _through_the_hub(request: Request, use_case: HubUseCase) -> Answer:
    """``use_case`` as an :data:`Answer`, with the container's hub and key cache."""

    def answer(db: Session, settings: Settings, context: TokenContext) -> resources.SignedAnswer:
        container = get_container(request)
        return use_case(
            session=db,
            settings=settings,
            hub=container.hub_for(db),
            cache=container.jwks_cache,
            context=context,
        )

    return answer


def _serve(request: Request, path: str, answer: Answer) -> Response:
    settings = get_container(request).settings
    with transaction(request) as db:
        try:
            context = authorization.authenticate_resource_request(
                session=db,
                settings=settings,
                authorization=request.headers.get("authorization"),
                dpop=request.headers.get("dpop"),
                method=request.method,
                url=discovery.endpoint(settings, path),
            )
            result = answer(db, settings, context)
        except (OAuthError, PartnerError) as error:
            # Returned, not raised: a refused use is still recorded on its consent.
            return JSONResponse(
                {"error": error.code, "error_description": error.localized()},
                status_code=error.status_code,
                headers={**NO_STORE, "WWW-Authenticate": authorization.www_authenticate(error)},
            )
    return Response(result.body, media_type=result.media_type, headers=NO_STORE)


@router.get(
    MYINFO_PATH,
    responses=_SIGNED,  # type: ignore[arg-type]
    summary="自己情報取得API: the consented items of わたしの情報, signed item by item",
    description=(
        "A `myinfo+jwt` (iss, aud, sub, iat, exp, jti, consent_id, items, unavailable); "
        "each item also carries `jwt`, the same item signed on its own (`myinfo-item+jwt`)."
    ),
)
def my_information(request: Request) -> Response:
    return _serve(request, MYINFO_PATH, _through_the_hub(request, resources.self_information))


@router.get(
    HEALTH_FHIR_PATH,
    responses=_SIGNED,  # type: ignore[arg-type]
    summary="自己情報取得API (FHIR): the consented health items as one FHIR R4 Bundle, signed",
    description=(
        "A `fhir-bundle+jwt` (iss, aud, sub, iat, exp, jti, consent_id, bundle, unavailable): "
        "`bundle` is a FHIR R4 `collection` Bundle after the JP Core profiles holding only "
        "the consented items of `myinfo.health` that insurers hold (health-insurance, "
        "medication, clinical-record, specific-checkup, medical-expense), or null when the "
        "coverage could not be read. Needs the `myinfo.health` scope and the resident's "
        "consent to `health-insurance`, on which the Patient and Coverage are built "
        "(otherwise 403 insufficient_scope)."
    ),
)
def health_bundle(request: Request) -> Response:
    return _serve(request, HEALTH_FHIR_PATH, _through_the_hub(request, resources.health_bundle))


@router.get(
    NOTICES_PATH,
    responses=_SIGNED,  # type: ignore[arg-type]
    summary="お知らせ情報取得API: the resident's notices, when they agreed to share them",
    description=(
        "A `notices+jwt` (iss, aud, sub, iat, exp, jti, consent_id, notices); each notice "
        "(id, title, sender, category, deadline, published_at) also carries `jwt`, the same "
        "notice signed on its own (`notice-item+jwt`, with iss, aud, sub, iat, consent_id)."
    ),
)
def shared_notices(request: Request) -> Response:
    def answer(db: Session, settings: Settings, context: TokenContext) -> resources.SignedAnswer:
        return resources.shared_notices(
            session=db, settings=settings, cache=get_container(request).jwks_cache, context=context
        )

    return _serve(request, NOTICES_PATH, answer)


@router.get(
    CONSENT_RECEIPT_PATH,
    responses={
        200: {
            "description": "The consent receipt (application/jwt): a JWS signed by the "
            "platform, typ consent-receipt+jwt, aud the organisation's client_id.",
            "content": {"application/jwt": {}},
        },
        401: {
            "description": "invalid_token or invalid_dpop_proof, with a WWW-Authenticate challenge"
        },
    },
    summary="The consent receipt the token was issued under (同意レシート)",
    description=(
        "The receipt of the consent behind the DPoP-bound access token: the same signed "
        "document the resident keeps (who consented, to which organisation, which items "
        "from which source, the purpose and the retention). Any access token of the "
        "consent will do; a withdrawn consent's tokens are refused (401 invalid_token)."
    ),
)
def consent_receipt(request: Request) -> Response:
    def answer(db: Session, settings: Settings, context: TokenContext) -> resources.SignedAnswer:
        del settings
        return resources.consent_receipt(session=db, context=context)

    return _serve(request, CONSENT_RECEIPT_PATH, answer)
