"""JSON shapes of the municipality filing API (申請データ取得API), documented in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from myna.applications.domain import MAX_COMMENT_LENGTH, ApplicationStatus


class TokenRead(BaseModel):
    """An access token response (RFC 6749 §5.1)."""

    model_config = ConfigDict(frozen=True)

    access_token: str = Field(description="Opaque bearer token (RFC 6750).")
    token_type: str = Field(default="Bearer")
    expires_in: int = Field(description="Seconds until the token expires (600).")
    scope: str = Field(description='Always "applications".')


class OAuthErrorRead(BaseModel):
    """An error response of the token endpoint (RFC 6749 §5.2) or a bearer error (RFC 6750)."""

    model_config = ConfigDict(frozen=True)

    error: str = Field(
        description="invalid_request, invalid_client, unsupported_grant_type, invalid_scope "
        "or invalid_token."
    )
    error_description: str


class ApplicationSummaryRead(BaseModel):
    """An application as a list shows it."""

    model_config = ConfigDict(frozen=True)

    receipt_number: str = Field(description="受付番号, e.g. 7K3M-Q9TD-2HXA-R4WB.")
    procedure_code: str
    procedure_name: str = Field(description="The procedure's Japanese name.")
    municipality_code: str
    status: ApplicationStatus
    applicant_name: str = Field(description="The signer's name from the signing certificate.")
    signed_at: datetime = Field(description="The signing time the signer claimed.")
    submitted_at: datetime
    updated_at: datetime = Field(description="Last status change; `since` filters on it.")


class ApplicationPageRead(BaseModel):
    """One page of applications, newest first."""

    model_config = ConfigDict(frozen=True)

    items: list[ApplicationSummaryRead]
    total: int
    page: int
    page_size: int
    pages: int


class EventRead(BaseModel):
    """One step of an application's history (internal comments included)."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(description='"status" or "comment".')
    status: ApplicationStatus | None
    comment: str
    actor: str = Field(description='"resident", "system", "staff:<id>" or "api:<client_id>".')
    visible_to_resident: bool
    created_at: datetime


class AttachmentRead(BaseModel):
    """An attached file's metadata; its SHA-256 is also inside the signed content."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    media_type: str
    size: int
    sha256: str
    url: str = Field(description="Where to fetch its bytes with the same bearer token.")


class VerificationRead(BaseModel):
    """The signature and signing certificate as checked when the response was made."""

    model_config = ConfigDict(frozen=True)

    status: str = Field(
        description='"valid", or the failure: "revoked", "expired", "bad_signature", ...'
    )
    valid: bool
    signer_name: str
    certificate_serial: str = Field(description="Hexadecimal serial number.")
    not_before: datetime | None
    not_after: datetime | None
    signing_time: datetime | None
    revoked_at: datetime | None
    checked_at: datetime


class ApplicationDetailRead(ApplicationSummaryRead):
    """One application with its data, history, files and the signed bytes."""

    data: dict[str, Any] = Field(description="The form data as filed (also in `content`).")
    history: list[EventRead]
    attachments: list[AttachmentRead]
    content: str = Field(description="Base64 of exactly the signed bytes (canonical JSON).")
    signature: str = Field(description="Base64 of the detached CMS SignedData, DER.")
    verification: VerificationRead


class StatusUpdate(BaseModel):
    """A status change requested by the municipality's system."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: ApplicationStatus
    comment: str = Field(
        default="",
        max_length=MAX_COMMENT_LENGTH,
        description="Shown to the resident in the notice; required for "
        "correction-requested and rejected.",
    )
