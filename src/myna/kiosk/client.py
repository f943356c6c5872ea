"""The kiosk's side of the kiosk API (docs/certificates.md): JSON requests, read answers.

A refusal comes back as :class:`ServiceRefusedError` carrying the service's own localized
message (the service answers in the kiosk's language).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel

from myna.platform.answers import Read, json_answer, read_answer
from myna.platform.errors import N_, MynaError
from myna.platform.i18n import get_locale

API_PREFIX = "/api/kiosk/v1"
PDF = "application/pdf"


class KioskError(MynaError, code="kiosk_error"):
    """Something between the kiosk and the certificate service went wrong."""

    message = N_("The kiosk could not complete this step. Please try again.")


class ServiceUnreachableError(KioskError, code="kiosk_service_unreachable", status_code=502):
    message = N_(
        "The certificate service could not be reached. Please try again in a moment, or "
        "ask for the certificate at the municipal office."
    )


class ServiceRefusedError(KioskError, code="kiosk_service_refused"):
    """The service answered with an error: its code and its localized message."""

    def __init__(self, *, error: str, text: str, status_code: int) -> None:
        super().__init__(text)
        self.error = error
        self.status_code = status_code
        self.text = text

    def localized(self) -> str:
        """The service's message, already in the kiosk's language."""
        return self.text


class UnreadableAnswerError(KioskError, code="kiosk_unreadable_answer", status_code=502):
    message = N_(
        "The certificate service gave an answer this kiosk cannot read. Please try again; "
        "if it persists, ask the shop staff."
    )


class SessionOpened(BaseModel):
    """A session waiting for the card."""

    session_id: str
    kiosk_id: str
    nonce: str
    expires_at: datetime


class Member(BaseModel):
    """A member of the card holder's household."""

    id: int
    name: str
    relation: str
    is_holder: bool


class Choices(BaseModel):
    """Whose card it is, their household, the fees."""

    session_id: str
    holder_name: str
    municipality_name: str
    members: list[Member]
    fees: dict[str, int]
    expires_at: datetime


class Certificate(BaseModel):
    """A certificate received: its number, the fee shown, the signed PDF."""

    number: str
    fee: int
    pdf: bytes


class KioskClient:
    """The kiosk API at ``portal_url``."""

    def __init__(self, http: httpx.Client, portal_url: str) -> None:
        self.http = http
        self.base = portal_url.rstrip("/") + API_PREFIX

    def open_session(self, kiosk_id: str) -> SessionOpened:
        """A new session; the card signs its nonce."""
        return _read(SessionOpened, self._json(self._send("POST", "/sessions", kiosk_id=kiosk_id)))

    def present_card(self, session_id: str, *, certificate: str, signature: str) -> Choices:
        """The card's auth certificate and its PIN-unlocked signature (base64)."""
        answer = self._send(
            "POST",
            f"/sessions/{session_id}/card",
            certificate=certificate,
            signature=signature,
        )
        return _read(Choices, self._json(answer))

    def choices(self, session_id: str) -> Choices:
        """The identified session's household and fees."""
        return _read(Choices, self._json(self._send("GET", f"/sessions/{session_id}")))

    def issue(self, session_id: str, **request: Any) -> Certificate:
        """The certificate chosen, as the signed PDF."""
        response = self._send("POST", f"/sessions/{session_id}/certificates", **request)
        if not response.is_success:
            self._json(response)  # raises the service's refusal
            raise UnreadableAnswerError
        number = response.headers.get("x-myna-certificate-number", "")
        fee = response.headers.get("x-myna-fee", "")
        if not response.headers.get("content-type", "").startswith(PDF) or not number:
            raise UnreadableAnswerError
        if not fee.isdigit():
            raise UnreadableAnswerError
        return Certificate(number=number, fee=int(fee), pdf=response.content)

    def end(self, session_id: str) -> None:
        """The card is taken out."""
        response = self._send("DELETE", f"/sessions/{session_id}")
        if not response.is_success:
            self._json(response)

    def _send(self, method: str, path: str, **body: Any) -> httpx.Response:
        headers = {"Accept": "application/json", "Accept-Language": get_locale()}
        try:
            return self.http.request(
                method, self.base + path, json=body if method == "POST" else None, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ServiceUnreachableError from exc

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        return json_answer(response, refused=ServiceRefusedError, unreadable=UnreadableAnswerError)


def _read(model: type[Read], body: dict[str, Any]) -> Read:
    return read_answer(model, body, unreadable=UnreadableAnswerError)
