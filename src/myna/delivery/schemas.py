"""The sender API's answers (JSON), as OpenAPI shows them."""

from __future__ import annotations

from datetime import datetime

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
