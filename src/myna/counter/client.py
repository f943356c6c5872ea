"""The counter's side of the institution API (docs/health.md): signed requests, read answers.

The counter is a client: it builds each request from the institution's identity, sends
it to the eligibility service over HTTP and reads the documented JSON answers into its
own small models. A refusal comes back as :class:`ServiceRefusedError` carrying the
service's own localized message (the service answers in the counter's language).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx
from pydantic import BaseModel

from myna.counter.identity import InstitutionIdentity
from myna.platform.answers import Read, json_answer, read_answer
from myna.platform.errors import N_, MynaError
from myna.platform.i18n import get_locale

API_PREFIX = "/api/medical/v1"
JOSE = "application/jose"
FHIR_JSON = "application/fhir+json"


class CounterError(MynaError, code="counter_error"):
    """Something between the counter and the eligibility service went wrong."""

    message = N_("The counter could not complete this step. Please try again.")


class ServiceUnreachableError(CounterError, code="service_unreachable", status_code=502):
    message = N_(
        "The eligibility service could not be reached. Check the network connection of "
        "this counter and try again; if it persists, confirm eligibility with the "
        "資格確認書 or the patient's insurer."
    )


class ServiceRefusedError(CounterError, code="service_refused"):
    """The service answered with an error: its code and its localized message."""

    def __init__(self, *, error: str, text: str, status_code: int) -> None:
        super().__init__(text)
        self.error = error
        self.status_code = status_code
        self.text = text

    def localized(self) -> str:
        """The service's message, already in the counter's language."""
        return self.text


class UnreadableAnswerError(CounterError, code="unreadable_answer", status_code=502):
    message = N_(
        "The eligibility service gave an answer this counter cannot read. Try again; if "
        "it persists, tell the counter's administrator."
    )


class NoFhirError(CounterError, code="no_fhir", status_code=406):
    message = N_(
        "The eligibility service does not offer this result as FHIR yet. The result "
        "shown on the screen is complete."
    )


class VisitStarted(BaseModel):
    """A reception waiting for the card (受付)."""

    visit_id: str
    institution_code: str
    nonce: str
    expires_at: datetime


class Consents(BaseModel):
    """What the patient agreed to share, and until when it may be viewed."""

    medication: bool
    checkup: bool
    limit: bool
    view_until: datetime


class Coverage(BaseModel):
    """資格情報."""

    name: str
    name_kana: str
    birth_date: date
    sex: int
    insurer_number: str
    insurer_name: str
    symbol: str
    number: str
    branch: str
    insured_type: str
    acquired_on: date
    lost_on: date | None = None
    valid_until: date | None = None
    copay_percent: int
    limit_category: str | None = None


class Medication(BaseModel):
    """薬剤情報: one drug dispensed."""

    dispensed_on: date
    pharmacy: str
    prescribed_by: str = ""
    drug_name: str
    daily_amount: float
    unit: str
    usage: str
    days: int


class Clinical(BaseModel):
    """診療情報: one procedure at a visit."""

    treated_on: date
    institution: str
    setting: str
    procedure_name: str


class Measure(BaseModel):
    """One measured value of a checkup."""

    name: str
    value: float
    unit: str


class Checkup(BaseModel):
    """特定健診情報: one year's checkup."""

    examined_on: date
    institution: str
    measures: list[Measure]
    metabolic_judgement: str
    guidance_level: str


class Eligibility(BaseModel):
    """資格確認結果 as the service sends it."""

    status: str
    confirmed_on: date
    method: str
    institution_code: str
    visit_id: str | None = None
    coverage: Coverage
    consents: Consents | None = None
    medications: list[Medication] | None = None
    clinical: list[Clinical] | None = None
    checkups: list[Checkup] | None = None


class EligibilityClient:
    """The institution API at ``portal_url``, signed with each institution's key."""

    def __init__(self, http: httpx.Client, portal_url: str) -> None:
        self.http = http
        self.base = portal_url.rstrip("/") + API_PREFIX

    def start_visit(self, identity: InstitutionIdentity) -> VisitStarted:
        """受付: open a visit; the card signs its nonce."""
        body = self._json(self._post(identity, "/visits", "visit"))
        return _read(VisitStarted, body)

    def present_pin(
        self, identity: InstitutionIdentity, *, visit_id: str, certificate: str, signature: str
    ) -> None:
        """The card's auth certificate and its PIN-unlocked signature over the challenge."""
        self._json(
            self._post(
                identity,
                "/visits/card",
                "card",
                visit_id=visit_id,
                method="pin",
                certificate=certificate,
                signature=signature,
            )
        )

    def present_face(
        self, identity: InstitutionIdentity, *, visit_id: str, certificate: str, staff: str
    ) -> None:
        """The card's auth certificate and the staff member who matched the face."""
        self._json(
            self._post(
                identity,
                "/visits/card",
                "card",
                visit_id=visit_id,
                method="face",
                certificate=certificate,
                confirmed_by=staff,
            )
        )

    def answer_consents(
        self,
        identity: InstitutionIdentity,
        *,
        visit_id: str,
        medication: bool,
        checkup: bool,
        limit: bool,
    ) -> Consents:
        """The patient's three answers on the consent screens."""
        body = self._json(
            self._post(
                identity,
                "/visits/consents",
                "consent",
                visit_id=visit_id,
                medication=medication,
                checkup=checkup,
                limit=limit,
            )
        )
        return _read(Consents, body)

    def result(self, identity: InstitutionIdentity, *, visit_id: str) -> Eligibility:
        """The visit's eligibility and what was consented to (within the viewing window)."""
        body = self._json(self._post(identity, "/visits/result", "result", visit_id=visit_id))
        return _read(Eligibility, body)

    def by_number(self, identity: InstitutionIdentity, query: dict[str, str]) -> Eligibility:
        """Eligibility by the numbers on the 資格確認書 and the date of birth."""
        body = self._json(self._post(identity, "/eligibility/by-number", "by-number", **query))
        return _read(Eligibility, body)

    def result_fhir(self, identity: InstitutionIdentity, *, visit_id: str) -> bytes:
        """The visit's result as a FHIR Bundle, passed through as the service sent it."""
        return self._fhir(
            self._post(identity, "/visits/result", "result", FHIR_JSON, visit_id=visit_id)
        )

    def by_number_fhir(self, identity: InstitutionIdentity, query: dict[str, str]) -> bytes:
        """The fallback's result as a FHIR Bundle."""
        return self._fhir(
            self._post(identity, "/eligibility/by-number", "by-number", FHIR_JSON, **query)
        )

    def _post(
        self,
        identity: InstitutionIdentity,
        path: str,
        kind: str,
        accept: str = "application/json",
        **body: Any,
    ) -> httpx.Response:
        headers = {"Content-Type": JOSE, "Accept": accept, "Accept-Language": get_locale()}
        try:
            return self.http.post(
                self.base + path, content=identity.sign(kind, **body), headers=headers
            )
        except httpx.HTTPError as exc:
            raise ServiceUnreachableError from exc

    def _fhir(self, response: httpx.Response) -> bytes:
        content_type = response.headers.get("content-type", "")
        if response.is_success and content_type.startswith(FHIR_JSON):
            return response.content
        if response.is_success:
            raise NoFhirError
        self._json(response)  # raises the service's refusal
        raise UnreadableAnswerError

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        return json_answer(response, refused=ServiceRefusedError, unreadable=UnreadableAnswerError)


def _read(model: type[Read], body: dict[str, Any]) -> Read:
    return read_answer(model, body, unreadable=UnreadableAnswerError)
