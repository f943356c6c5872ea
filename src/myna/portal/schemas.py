"""JSON shapes of the portal's API (documented in OpenAPI and docs/card-login.md)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from urllib.parse import urlencode

from pydantic import BaseModel, Field, field_validator

from myna.phone.schemas import UnlockIn
from myna.platform.clock import JST
from myna.platform.params import PageNumber, check_date


class ChallengeOut(BaseModel):
    """A login challenge as a card reader sees it."""

    challenge_id: str
    nonce: str = Field(description="Random, base64url without padding.")
    origin: str = Field(description="The portal origin the signature is bound to.")
    audience: str = Field(
        default="resident",
        description="Whose login this is, for the reader to tell the card holder: `resident` "
        "(the portal), `staff` (the back office), `staff-card` (registering a staff card).",
    )
    status: str
    expires_at: datetime
    to_be_signed: str = Field(
        description="base64url of the login message; readers should rebuild and compare it."
    )


class AnswerIn(BaseModel):
    """A card's answer: its user-authentication certificate and the signature."""

    certificate: str = Field(
        min_length=16, max_length=8192, description="DER certificate, base64url (or base64)."
    )
    signature: str = Field(
        min_length=16, max_length=2048, description="PKCS#1 v1.5 SHA-256 signature, base64url."
    )
    unlock: UnlockIn | None = Field(
        default=None,
        description="The phone's unlock (WebAuthn assertion), required with a phone "
        "credential's certificate (docs/phone-credential.md).",
    )


class ResidentOut(BaseModel):
    """The logged-in resident, as the portal shows them."""

    name: str
    name_kana: str
    birth_date: date
    municipality: str
    certificate_not_after: datetime | None


class AnswerOut(BaseModel):
    """The outcome of an answer: logged in here, or verified for another device."""

    status: Literal["logged_in", "verified"]
    resident: ResidentOut | None = None


class StatusOut(BaseModel):
    """A challenge's status, for the browser that started it."""

    status: str


class ExchangeFilters(BaseModel):
    """やりとり履歴 filters from the query string."""

    since: date | None = None
    until: date | None = None
    agency: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9._:-]*$")
    item: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9._:-]*$")
    page: PageNumber = 1

    @field_validator("since", "until", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # An empty date input is submitted as "": no bound, not an error.
        return None if value == "" else value

    def since_at(self) -> datetime | None:
        """The start of ``since`` in Japan, as an instant; DateOutOfRangeError if absurd."""
        if self.since is None:
            return None
        return datetime.combine(check_date(self.since), time(), JST)

    def until_at(self) -> datetime | None:
        """The end of ``until`` in Japan (exclusive); DateOutOfRangeError if absurd."""
        if self.until is None:
            return None
        return datetime.combine(check_date(self.until) + timedelta(days=1), time(), JST)

    def query_string(self) -> str:
        """The filters (without the page) for links."""
        values = {
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "agency": self.agency,
            "item": self.item,
        }
        return urlencode({k: v for k, v in values.items() if v})
