"""The signing API the card reader talks to (docs/applications.md).

``GET /api/signing-requests/{id}`` gives the bytes to sign — the canonical document of an
application, or of another signed filing such as a tax return — with the portal's origin;
``POST .../response`` carries the detached CMS signature made with the card's signing key.
The request id is 256 random bits known only to the resident's page and their reader,
like a login challenge's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from myna.applications import submission
from myna.phone.schemas import UnlockIn
from myna.platform.api_errors import error_responses
from myna.platform.encoding import b64url
from myna.platform.web import get_container, transaction

router = APIRouter(prefix="/api/signing-requests", tags=["e-application signing"])
RequestId = Annotated[str, Path(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


ERRORS = error_responses(400, 403, 404, 409, 410, 413, 422)


class SigningRequestOut(BaseModel):
    """What the card reader shows and signs."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    origin: str = Field(description="The portal that asks for the signature.")
    procedure_name: str
    municipality_name: str
    to_be_signed: str = Field(
        description="The canonical application document (UTF-8 JSON), base64url without padding."
    )
    content_sha256: str = Field(description="SHA-256 of the document, hex.")
    expires_at: datetime


class SignatureIn(BaseModel):
    """The answer: a detached CMS SignedData (RFC 5652), DER, base64url, from a card or a phone."""

    model_config = ConfigDict(extra="forbid")

    signature: str = Field(min_length=16, max_length=90_000)
    unlock: UnlockIn | None = Field(
        default=None,
        description="The phone's unlock (WebAuthn assertion), required when a phone "
        "credential signs (docs/phone-credential.md).",
    )


class ReceiptOut(BaseModel):
    """The filed application's receipt."""

    receipt_number: str
    status: str
    procedure_name: str


@router.get(
    "/{request_id}",
    responses=ERRORS,
    summary="The application document the card is asked to sign",
)
def read_signing_request(request: Request, request_id: RequestId) -> SigningRequestOut:
    settings = get_container(request).settings
    with transaction(request) as db:
        view = submission.request_for_reader(session=db, request_id=request_id)
    return SigningRequestOut(
        request_id=view.id,
        origin=settings.portal_url.rstrip("/"),
        procedure_name=view.procedure_name,
        municipality_name=view.municipality_name,
        to_be_signed=b64url(view.content),
        content_sha256=view.content_sha256,
        expires_at=view.expires_at,
    )


@router.post(
    "/{request_id}/response",
    responses=ERRORS,
    summary="Answer with the detached CMS signature; files the document once",
)
def answer_signing_request(
    request: Request, request_id: RequestId, body: SignatureIn
) -> ReceiptOut:
    container = get_container(request)
    signature = submission.decode_signature(body.signature)
    with transaction(request) as db:
        filed = submission.finish(
            session=db,
            procedures=container.procedures,
            handlers=container.signed_documents,
            settings=container.settings,
            request_id=request_id,
            signature=signature,
            unlock=body.unlock.assertion() if body.unlock is not None else None,
        )
    return ReceiptOut(
        receipt_number=filed.receipt_number,
        status=filed.status,
        procedure_name=filed.procedure_name,
    )
