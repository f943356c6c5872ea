"""Municipality filing API (申請データ取得API): token, list, fetch, status update.

A municipality's system gets a bearer token with a signed client assertion
(``private_key_jwt``, see :mod:`myna.office.filings`) and then reads the applications
filed with that municipality, and moves them along the same status flow as the back
office. Everything is scoped to the token's municipality: another municipality's
receipt number is answered 404, as if it did not exist. See docs/municipality-api.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from myna.applications import service as applications
from myna.applications.domain import ApplicationStatus
from myna.applications.service import ApplicationRead
from myna.office import filings
from myna.office.filing_schemas import (
    ApplicationDetailRead,
    ApplicationPageRead,
    ApplicationSummaryRead,
    AttachmentRead,
    EventRead,
    OAuthErrorRead,
    StatusUpdate,
    TokenRead,
    VerificationRead,
)
from myna.office.filings import ApiCaller
from myna.platform.api_errors import error_responses
from myna.platform.attributes import from_attributes
from myna.platform.encoding import b64
from myna.platform.errors import N_, MynaError, RateLimitedError, RateLimitUnavailableError
from myna.platform.files import DOCUMENT_SIGNATURES
from myna.platform.oauth.errors import InvalidTokenError, OAuthError
from myna.platform.oauth.rfc7523 import MAX_ASSERTION_BYTES
from myna.platform.params import PageNumber, RowId, plausible_date
from myna.platform.ratelimit import Limit
from myna.platform.web import client_address, get_container, transaction

router = APIRouter(tags=["municipalities"], responses=error_responses(403, 404, 409))
PREFIX = "/api/municipality"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Token requests per client address (MYNA_FILING_TOKEN_RATE_LIMIT): a client needs one
# token per 10 minutes, so the limit only stops guessing and floods (429, Retry-After).
RETRY_AFTER_SECONDS = 60


class TokenRateLimitedError(RateLimitedError):
    message = N_("Too many token requests from this address. Wait a minute and try again.")


_bearer = HTTPBearer(auto_error=False, description="The access token from the token endpoint.")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": OAuthErrorRead, "description": "Missing or expired token."}
}
FormValue = Annotated[str, Form(max_length=MAX_ASSERTION_BYTES)]
Answer = TypeVar("Answer")  # what an endpoint's work gives back for a valid token


def _oauth_error(
    error: MynaError, *, status_code: int | None = None, headers: dict[str, str] = NO_STORE
) -> JSONResponse:
    """RFC 6749 §5.2: the error code and a description (by default never cached)."""
    return JSONResponse(
        {"error": error.code, "error_description": error.localized()},
        status_code=error.status_code if status_code is None else status_code,
        headers=headers,
    )


def _unauthorized(error: InvalidTokenError, *, sent: bool) -> JSONResponse:
    """RFC 6750 §3: a challenge; ``error="invalid_token"`` only when a token was sent."""
    challenge = 'Bearer realm="myna-municipality"'
    if sent:
        challenge += ', error="invalid_token"'
    return _oauth_error(error, status_code=401, headers={"WWW-Authenticate": challenge})


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return None if credentials is None else credentials.credentials


def _as_caller(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    work: Callable[[Session, ApiCaller], Answer],
) -> Answer | JSONResponse:
    """``work`` for the token's caller, in one unit of work; without a valid token, 401.

    The token is checked in the same transaction as the work it allows, so a client
    disabled meanwhile is refused, not half served.
    """
    try:
        with transaction(request) as db:
            return work(db, filings.authenticate(session=db, token=_token(credentials)))
    except InvalidTokenError as error:
        return _unauthorized(error, sent=credentials is not None)


@router.post(
    f"{PREFIX}/token",
    response_model=TokenRead,
    summary="Get an access token with a signed client assertion (private_key_jwt)",
    responses={400: {"model": OAuthErrorRead}, 401: {"model": OAuthErrorRead}},
)
def token(
    request: Request,
    grant_type: FormValue = "",
    client_assertion_type: FormValue = "",
    client_assertion: FormValue = "",
    scope: FormValue = "",
) -> Response:
    limiter = get_container(request).rate_limiter
    try:
        allowed = limiter.allow(Limit.FILING_TOKEN, client_address(request))
    except RateLimitUnavailableError as error:
        return _oauth_error(error, headers={**NO_STORE, "Retry-After": str(RETRY_AFTER_SECONDS)})
    if not allowed:
        return _oauth_error(
            TokenRateLimitedError(),
            headers={**NO_STORE, "Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    try:
        with transaction(request) as db:
            issued = filings.issue_token(
                session=db,
                settings=get_container(request).settings,
                grant_type=grant_type,
                client_assertion_type=client_assertion_type,
                client_assertion=client_assertion,
                scope=scope,
            )
    except OAuthError as error:
        return _oauth_error(error)
    body = TokenRead(
        access_token=issued.access_token,
        token_type=issued.token_type,
        expires_in=issued.expires_in,
        scope=issued.scope,
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


def _summary(item: ApplicationRead) -> ApplicationSummaryRead:
    return from_attributes(ApplicationSummaryRead, item, applicant_name=item.signer_name)


@router.get(
    f"{PREFIX}/applications",
    response_model=ApplicationPageRead,
    summary="The municipality's applications, newest first",
    responses=_UNAUTHORIZED,
)
def list_applications(
    request: Request,
    credentials: Bearer,
    status: Annotated[ApplicationStatus | None, Query()] = None,
    since: Annotated[
        datetime | None, Query(description="Only those changed at or after this time.")
    ] = None,
    page: Annotated[PageNumber, Query()] = 1,
    page_size: Annotated[int, Query(ge=1, le=applications.MAX_PAGE_SIZE)] = 20,
) -> Response | ApplicationPageRead:
    if since is not None and since.tzinfo is None:
        raise filings.NaiveSinceError
    if since is not None and not plausible_date(since.date()):
        # Far from any filing, and a zone away from the calendar's ends (year 1, 9999).
        raise filings.SinceOutOfRangeError

    def page_of(db: Session, caller: ApiCaller) -> ApplicationPageRead:
        found = applications.list_applications(
            session=db,
            municipality_code=caller.municipality_code,
            status=status,
            since=since,
            page=page,
            page_size=page_size,
        )
        return ApplicationPageRead(
            items=[_summary(item) for item in found.items],
            total=found.total,
            page=found.page,
            page_size=found.page_size,
            pages=found.pages,
        )

    return _as_caller(request, credentials, page_of)


@router.get(
    f"{PREFIX}/applications/{{receipt_number}}",
    response_model=ApplicationDetailRead,
    summary="One application: data, history, attachments, signed bytes, verification",
    responses=_UNAUTHORIZED,
)
def get_application(
    request: Request, credentials: Bearer, receipt_number: str
) -> Response | ApplicationDetailRead:
    settings = get_container(request).settings

    def detail_of(db: Session, caller: ApiCaller) -> ApplicationDetailRead:
        item = applications.get_application(
            session=db, receipt_number=receipt_number, municipality_code=caller.municipality_code
        )
        content, signature = applications.signed_parts(session=db, application_id=item.id)
        check = filings.check_signature(session=db, settings=settings, application=item)
        events = applications.history(session=db, application_id=item.id)
        files = applications.attachments(session=db, application_id=item.id)
        base = f"{PREFIX}/applications/{item.receipt_number}/attachments"
        return ApplicationDetailRead(
            **_summary(item).model_dump(),
            data=item.data,
            history=[EventRead.model_validate(e, from_attributes=True) for e in events],
            attachments=[AttachmentRead(**asdict(f), url=f"{base}/{f.id}") for f in files],
            content=b64(content),
            signature=b64(signature),
            verification=VerificationRead(**check.to_dict()),
        )

    return _as_caller(request, credentials, detail_of)


@router.get(
    f"{PREFIX}/applications/{{receipt_number}}/attachments/{{attachment_id}}",
    summary="The bytes of one attached file",
    response_class=Response,
    responses={
        200: {
            # Served as the type its first bytes show (myna.platform.files).
            "content": {media_type: {} for media_type in DOCUMENT_SIGNATURES},
            "description": "The file: a PDF, a PNG or a JPEG.",
        },
        **_UNAUTHORIZED,
    },
)
def get_attachment(
    request: Request, credentials: Bearer, receipt_number: str, attachment_id: RowId
) -> Response:

    def file_of(db: Session, caller: ApiCaller) -> Response:
        item = applications.get_application(
            session=db, receipt_number=receipt_number, municipality_code=caller.municipality_code
        )
        info = {f.id: f for f in applications.attachments(session=db, application_id=item.id)}
        data = applications.attachment_data(
            session=db, application_id=item.id, attachment_id=attachment_id
        )
        return Response(
            data,
            media_type=info[attachment_id].media_type,
            headers={
                "Content-Disposition": filings.content_disposition(info[attachment_id].name),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )

    return _as_caller(request, credentials, file_of)


@router.post(
    f"{PREFIX}/applications/{{receipt_number}}/status",
    response_model=ApplicationSummaryRead,
    summary="Move an application along the status flow; the resident gets a notice",
    responses={
        **_UNAUTHORIZED,
        409: {"description": "The flow does not allow this change from the current status."},
        422: {"description": "A correction request or rejection without a comment."},
    },
)
def change_status(
    request: Request, credentials: Bearer, receipt_number: str, update: StatusUpdate
) -> Response | ApplicationSummaryRead:

    def change(db: Session, caller: ApiCaller) -> ApplicationSummaryRead:
        # The same procedure logic as the back office's page (a move-out sends its
        # certificate information; a move-in reservation completes the move).
        container = get_container(request)
        changed = container.procedures.change_status(
            session=db,
            hub=container.hub_for(db),
            receipt_number=receipt_number,
            municipality_code=caller.municipality_code,
            target=update.status,
            actor=caller.actor,
            comment=update.comment,
        )
        return _summary(changed)

    return _as_caller(request, credentials, change)
