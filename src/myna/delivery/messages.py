"""What a sender's system sends the 民間送達 API (see docs/delivery.md).

Every request is a JWS compact serialisation (RFC 7515 §7.1), ES256, signed with the
sender's key; its certificate from the government CA travels in ``x5c`` and names the
sender (``ds-<code>``). The payload is a JSON object with a ``type`` naming the endpoint
(a message made for one endpoint is refused at another), a ``request_id`` accepted once,
``issued_at`` within the clock skew and the ``sender`` code. Pure: parsing only.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from myna.delivery.documents import MAX_DOCUMENT_BYTES
from myna.delivery.domain import is_tax_year
from myna.delivery.errors import DocumentTooLargeError, MalformedDocumentFieldError
from myna.network.domain import MalformedMessageError, bounded_text, json_object
from myna.platform.errors import N_, MynaError

DELIVERY = "delivery"
RECEIPT = "receipt"
# 年末調整: an employer lists the hand-overs of a year, and collects one.
HANDOVERS = "handovers"
COLLECT = "collect"
# The base64 of the largest document, with room for the rest of the payload: a slightly
# larger document is still read, and refused by its size in words the sender understands.
MAX_REQUEST_BYTES = 2 * MAX_DOCUMENT_BYTES + 16 * 1024


class WrongMessageTypeError(MynaError, code="wrong_message_type"):
    """A message made for another endpoint."""

    message = N_("This message is for another endpoint of the delivery API.")


@dataclass(frozen=True, slots=True)
class Envelope:
    """What every request carries, checked."""

    type: str
    request_id: str
    sender: str
    issued_at: datetime
    body: dict[str, Any]


def open_envelope(data: bytes, expected_type: str) -> Envelope:
    """Read a payload and check its type; MalformedMessageError on anything else."""
    body = json_object(data)
    try:
        kind = bounded_text(body["type"], 32)
        request_id = bounded_text(body["request_id"], 64)
        sender = bounded_text(body["sender"], 48)
        issued_at = datetime.fromisoformat(bounded_text(body["issued_at"], 40))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedMessageError from exc
    if issued_at.tzinfo is None:
        raise MalformedMessageError
    if kind != expected_type:
        raise WrongMessageTypeError
    return Envelope(kind, request_id, sender, issued_at, body)


@dataclass(frozen=True, slots=True)
class DocumentDelivery:
    """A ``delivery`` message: the signed document and whom it is for."""

    recipient: str
    document: bytes

    @classmethod
    def parse(cls, envelope: Envelope) -> DocumentDelivery:
        """Read the recipient and the base64 document (size-capped before decoding)."""
        try:
            recipient = bounded_text(envelope.body["recipient"], 128)
            text = envelope.body["document"]
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedDocumentFieldError from exc
        if not isinstance(text, str) or not text:
            raise MalformedDocumentFieldError
        if len(text) > (MAX_DOCUMENT_BYTES * 4) // 3 + 4:
            raise DocumentTooLargeError(limit=MAX_DOCUMENT_BYTES)
        try:
            document = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedDocumentFieldError from exc
        if len(document) > MAX_DOCUMENT_BYTES:
            raise DocumentTooLargeError(limit=MAX_DOCUMENT_BYTES)
        return cls(recipient, document)


def receipt_document_id(envelope: Envelope) -> str:
    """The document id a ``receipt`` message asks about."""
    try:
        return bounded_text(envelope.body["document_id"], 64)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedMessageError from exc


def handovers_year(envelope: Envelope) -> int:
    """The 年分 a ``handovers`` message lists (2000 to 2100)."""
    year = envelope.body.get("year")
    if not is_tax_year(year):
        raise MalformedMessageError
    return year


def collect_handover_id(envelope: Envelope) -> str:
    """The hand-over a ``collect`` message asks for."""
    try:
        return bounded_text(envelope.body["handover_id"], 64)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedMessageError from exc
