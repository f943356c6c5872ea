"""The kiosk API's bodies (docs/certificates.md): sessions, the card's answer, requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from myna.certificates.domain import MAX_MEMBERS, CertificateKind, Scope

MemberId = Annotated[int, Field(ge=1, le=2**31 - 1)]
# A user-authentication certificate is about 1.5 KB of DER; base64 and headroom.
MAX_CERTIFICATE_B64 = 8192
MAX_SIGNATURE_B64 = 1024


class KioskSessionCreate(BaseModel):
    """A copier opens a session."""

    model_config = ConfigDict(extra="forbid")

    kiosk_id: str = Field(
        min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", description="The copier's id"
    )


class KioskSessionRead(BaseModel):
    """The session and the nonce the card signs (card.protocol.kiosk_message)."""

    session_id: str
    kiosk_id: str
    nonce: str
    expires_at: datetime


class KioskCardAnswer(BaseModel):
    """The card's user-authentication certificate and its signature, base64 (DER, raw)."""

    model_config = ConfigDict(extra="forbid")

    certificate: str = Field(min_length=1, max_length=MAX_CERTIFICATE_B64)
    signature: str = Field(min_length=1, max_length=MAX_SIGNATURE_B64)


class KioskMemberRead(BaseModel):
    """A member of the card holder's household."""

    id: int
    name: str
    relation: str
    is_holder: bool


class KioskIdentifiedRead(BaseModel):
    """Whose card it is, their household, and the kiosk's fees (yen, shown not charged)."""

    session_id: str
    holder_name: str
    municipality_name: str
    members: list[KioskMemberRead]
    fees: dict[CertificateKind, int]
    expires_at: datetime


class KioskCertificateRequest(BaseModel):
    """The certificate chosen and, for a 住民票の写し, its options."""

    model_config = ConfigDict(extra="forbid")

    kind: CertificateKind
    scope: Scope = Scope.HOUSEHOLD
    members: list[MemberId] = Field(default_factory=list, max_length=MAX_MEMBERS)
    relation: bool = False
    domicile: bool = False
    my_number: bool = False
