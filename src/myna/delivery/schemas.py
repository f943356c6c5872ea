"""The sender API's answers (JSON), as OpenAPI shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ReceiptRead(BaseModel):
    """受付結果: the document is in the resident's box."""

    delivery_id: str = Field(description="Myna's id of the delivery")
    document_id: str = Field(description="The sender's own id of the document")
    sender: str
    kind: str = Field(description="TEG800, TEG810, TEG820, TEG840, TEG104 or PENSION")
    year: int = Field(description="The tax year (年分), e.g. 2025 for 令和7年分")
    status: str = "accepted"
    received_at: datetime
    duplicate: bool = Field(
        description="True when this was a resend of a document already accepted (same bytes)"
    )


class HandedOverDocumentRead(BaseModel):
    """A document of a 年末調整 hand-over: what it is and who issued it."""

    document_id: str = Field(description="The issuer's own id of the document")
    issuer: str = Field(description="The code of the sender that issued it (an insurer...)")
    issuer_name: str
    kind: str = Field(description="TEG800, TEG810 or TEG840")
    year: int = Field(description="The tax year (年分)")
    sha256: str = Field(description="SHA-256 (hex) of the signed XML as delivered")


class CollectedDocumentRead(HandedOverDocumentRead):
    """A collected document, with the signed XML exactly as its issuer delivered it."""

    xml: str = Field(description="Base64 of the signed XML, unchanged: verify its XMLDSig yourself")


class HandoverSummaryRead(BaseModel):
    """A hand-over addressed to the employer (年末調整の控除証明書の受け渡し)."""

    handover_id: str = Field(description="Myna's id of the hand-over; collect it by this id")
    recipient: str = Field(
        description="The employee's recipient number for your organisation (from the link)"
    )
    year: int = Field(description="The tax year (年分) of the year-end adjustment")
    status: Literal["ready", "collected"] = Field(
        description="ready: not collected yet (the employee may still withdraw it)"
    )
    handed_over_at: datetime
    collected_at: datetime | None = Field(description="Your first collection")
    documents: list[HandedOverDocumentRead]


class HandoverListRead(BaseModel):
    """The hand-overs of one tax year an employer may collect, oldest first."""

    sender: str
    year: int
    handovers: list[HandoverSummaryRead]


class HandoverRead(BaseModel):
    """One collected hand-over, with its documents."""

    handover_id: str
    recipient: str
    year: int
    status: Literal["collected"] = "collected"
    handed_over_at: datetime
    collected_at: datetime
    documents: list[CollectedDocumentRead]
