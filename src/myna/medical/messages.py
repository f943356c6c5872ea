"""What an institution's system sends the eligibility service, and the service's refusals.

Every request is a JWS compact serialisation (RFC 7515 §7.1), ES256, signed with the
institution's key; its certificate from the government CA travels in ``x5c`` and names
the institution (``mi-<医療機関コード>``), the way agencies sign to the hub. The payload
is a JSON object with a ``type`` naming the endpoint it is for (a message made for one
endpoint is refused at another), a ``request_id`` accepted once, and ``issued_at``
within the clock skew. Pure: parsing and checking only.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from myna.medical.domain import InsuredId, InsurerNumber
from myna.network.domain import MalformedMessageError, bounded_text, json_object
from myna.platform.errors import N_, MynaError

INSTITUTION_PREFIX = "mi-"
VISIT = "visit"
CARD = "card"
CONSENT = "consent"
RESULT = "result"
BY_NUMBER = "by-number"
PIN = "pin"
FACE = "face"
MAX_CERTIFICATE_BYTES = 4096
MAX_SIGNATURE_BYTES = 512
MAX_STAFF_NAME = 100


def organization_code(institution_code: str) -> str:
    """The organisation code an institution's certificate carries."""
    return f"{INSTITUTION_PREFIX}{institution_code}"


class EligibilityError(MynaError, code="eligibility_failed"):
    """A confirmation the service refuses or cannot complete."""

    message = N_("The eligibility confirmation could not be completed. Please try again.")


class UnregisteredInstitutionError(
    EligibilityError, code="unregistered_institution", status_code=403
):
    """The signer is not a registered medical institution or pharmacy."""

    message = N_(
        "This institution is not registered for online eligibility confirmation. "
        "Register it with its 医療機関コード first."
    )


class WrongMessageTypeError(EligibilityError, code="wrong_message_type"):
    """A message made for another endpoint."""

    message = N_("This message is for another step of the confirmation.")


class VisitNotFoundError(EligibilityError, code="visit_not_found", status_code=404):
    """No such visit at this institution."""

    message = N_("This reception is unknown. Start a new one at the card reader.")


class VisitExpiredError(EligibilityError, code="visit_expired", status_code=410):
    """The reception waited too long, or the viewing window has passed."""

    message = N_("This reception has expired. Ask the patient to present the card again.")


class VisitStateError(EligibilityError, code="visit_out_of_order", status_code=409):
    """A step out of order (consents before the card, a card twice)."""

    message = N_("This step does not follow the reception's current state. Start again.")


class UnregisteredCardError(EligibilityError, code="card_not_registered", status_code=404):
    """The card is not registered as a health insurance card (マイナ保険証)."""

    message = N_(
        "This card is not registered for use as a health insurance card. The patient can "
        "register at the card reader's guide or in Mynaportal; until then, use the "
        "資格確認書 and confirm by the insured number."
    )


class NotInsuredError(EligibilityError, code="not_insured", status_code=404):
    """No insurer knows the person, or the number does not match the birth date."""

    message = N_(
        "No coverage was found for this number and date of birth. Check the numbers on "
        "the 資格確認書 and ask the patient's insurer."
    )


class InsurerUnavailableError(EligibilityError, code="insurer_unavailable", status_code=503):
    """The insurer did not answer."""

    message = N_("The insurer could not be reached. Please try again in a few minutes.")


class BadCardAnswerError(EligibilityError, code="bad_card_answer", status_code=401):
    """The card's certificate or signature does not verify."""

    message = N_("The card could not be verified. Ask the patient to present it again.")


@dataclass(frozen=True, slots=True)
class Envelope:
    """What every request carries, checked."""

    type: str
    request_id: str
    institution: str
    issued_at: datetime
    body: dict[str, Any]


def open_envelope(data: bytes, expected_type: str) -> Envelope:
    """Read a payload and check its type; MalformedMessageError on anything else."""
    body = json_object(data)
    try:
        kind = bounded_text(body["type"], 32)
        request_id = bounded_text(body["request_id"], 64)
        institution = bounded_text(body["institution"], 10)
        issued_at = datetime.fromisoformat(bounded_text(body["issued_at"], 40))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedMessageError from exc
    if kind != expected_type:
        raise WrongMessageTypeError
    return Envelope(kind, request_id, institution, issued_at, body)


def _b64(value: object, limit: int) -> bytes:
    text = bounded_text(value, limit * 2)
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError from exc
    if not decoded or len(decoded) > limit:
        raise ValueError
    return decoded


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise TypeError(name)
    return value


def visit_id(envelope: Envelope) -> str:
    """The visit a step is about."""
    try:
        return bounded_text(envelope.body["visit_id"], 32)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedMessageError from exc


@dataclass(frozen=True, slots=True)
class CardAnswer:
    """The card at the reader: its auth certificate, and either a PIN-unlocked signature
    over the visit's challenge or a staff member's confirmation of the face match."""

    visit_id: str
    method: str
    certificate_der: bytes
    signature: bytes | None
    confirmed_by: str | None

    @classmethod
    def parse(cls, envelope: Envelope) -> CardAnswer:
        """Read a ``card`` message."""
        body = envelope.body
        try:
            method = body["method"]
            if method not in (PIN, FACE):
                raise ValueError(method)
            certificate = _b64(body["certificate"], MAX_CERTIFICATE_BYTES)
            signature = _b64(body["signature"], MAX_SIGNATURE_BYTES) if method == PIN else None
            staff = (
                bounded_text(str(body["confirmed_by"]).strip(), MAX_STAFF_NAME)
                if method == FACE
                else None
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedMessageError from exc
        return cls(visit_id(envelope), method, certificate, signature, staff)


@dataclass(frozen=True, slots=True)
class ConsentAnswer:
    """The patient's answers on the reader's consent screens."""

    visit_id: str
    medication: bool  # 過去の診療・薬剤情報の提供
    checkup: bool  # 特定健診情報の提供
    limit: bool  # 限度額情報の提供

    @classmethod
    def parse(cls, envelope: Envelope) -> ConsentAnswer:
        """Read a ``consent`` message (each answer a JSON boolean)."""
        try:
            flags = [_flag(envelope.body, n) for n in ("medication", "checkup", "limit")]
        except TypeError as exc:
            raise MalformedMessageError from exc
        return cls(visit_id(envelope), *flags)


@dataclass(frozen=True, slots=True)
class NumberQuery:
    """The fallback: 被保険者記号・番号・枝番 and the date of birth from the 資格確認書."""

    insured: InsuredId
    birth_date: date

    @classmethod
    def parse(cls, envelope: Envelope) -> NumberQuery:
        """Read a ``by-number`` message (InsuranceNumberError names a malformed number)."""
        body = envelope.body
        try:
            insurer = bounded_text(body["insurer_number"], 8)
            symbol = body.get("symbol", "")
            if not isinstance(symbol, str) or len(symbol) > 20:
                raise TypeError(symbol)
            number = bounded_text(body["number"], 20)
            branch = bounded_text(body["branch"], 2)
            birth = date.fromisoformat(bounded_text(body["birth_date"], 10))
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedMessageError from exc
        insured = InsuredId(InsurerNumber.parse(insurer), symbol, number, branch)
        return cls(insured, birth)
