"""訂正の申出: a resident disputes a value where they see it, and the holder answers.

Pure shapes of the four signed messages of a correction (docs/network.md, "Corrections"):

1. :class:`CorrectionRequest` — the portal, for the logged-in resident, to the hub: which
   item of which agency, which field, what the resident sees, what they say is right,
   why, and optionally one piece of evidence. The person is the portal's link code.
2. :class:`ProviderCorrection` — the hub to the agency holding the item, by *that
   agency's* link code, after checking the agency holds the item for the person.
3. :class:`CorrectionReceipt` — the agency's signed word that the request is in its queue.
4. :class:`CorrectionAnswer` — later, the agency to the hub: corrected or not, and why;
   the hub hands it to the portal, which tells the resident.

Each step is a message the hub verifies and logs; no step carries a MyNumber.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from myna.network.domain import (
    ExchangeError,
    MalformedMessageError,
    bounded_text,
    canonical,
    json_object,
)
from myna.platform.errors import N_

CORRECTION_REQUEST = "correction-request"  # the procedure logged when a request is delivered
CORRECTION_ANSWER = "correction-answer"  # ... and when its answer comes back
MAX_VALUE = 200
MAX_REASON = 1000
MAX_EVIDENCE_BYTES = 1 << 20  # 1 MiB: the message travels whole, signed, base64
MAX_CORRECTION_MESSAGE_BYTES = 2 * MAX_EVIDENCE_BYTES
EVIDENCE_TYPES = ("application/pdf", "image/png", "image/jpeg")


class CorrectionNotPossibleError(ExchangeError, code="correction_not_possible", status_code=422):
    message = N_(
        "The agency {owner} does not hold {item} for this person, so it cannot be asked to "
        "correct it. Check the item on わたしの情報 and send the request from there."
    )


class CorrectionNotAllowedError(ExchangeError, code="correction_not_allowed", status_code=403):
    message = N_(
        "Only the portal passes on a resident's correction request, for the resident "
        "logged in; {requester} may not."
    )


class CorrectionDeliveryFailedError(
    ExchangeError, code="correction_not_delivered", status_code=502
):
    message = N_(
        "The correction request could not be delivered to {owner} ({reason}). Nothing was "
        "sent; please try again later."
    )


class CorrectionUnknownError(ExchangeError, code="correction_unknown", status_code=404):
    message = N_("No correction request {request_id} of {owner} is waiting for an answer.")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One file the resident attaches (its type already checked from its bytes)."""

    filename: str
    media_type: str
    content: bytes

    def to_json(self) -> dict[str, Any]:
        """The file, its content in standard base64."""
        return {
            "filename": self.filename,
            "media_type": self.media_type,
            "content": base64.b64encode(self.content).decode("ascii"),
        }

    @classmethod
    def from_json(cls, value: object) -> Evidence | None:
        """Read an evidence object (or ``None``); TypeError/ValueError if malformed."""
        if value is None:
            return None
        if not isinstance(value, dict):
            raise TypeError
        media_type = bounded_text(value["media_type"], 64)
        if media_type not in EVIDENCE_TYPES:
            raise ValueError
        try:
            content = base64.b64decode(
                bounded_text(value["content"], 2 * MAX_EVIDENCE_BYTES), validate=True
            )
        except binascii.Error as exc:
            raise ValueError from exc
        if len(content) > MAX_EVIDENCE_BYTES:
            raise ValueError
        return cls(
            filename=bounded_text(value["filename"], 200), media_type=media_type, content=content
        )


def _optional(value: object, limit: int) -> str:
    if value == "":
        return ""
    return bounded_text(value, limit)


def _correction_fields(data: bytes, person: str) -> dict[str, Any]:
    body = json_object(data)
    try:
        fields: dict[str, Any] = {
            name: bounded_text(body[name], 64)
            for name in ("request_id", "requester", "owner", person, "item")
        }
        fields["field"] = _optional(body["field"], 64)
        fields["current"] = _optional(body["current"], MAX_VALUE)
        fields["proposed"] = bounded_text(body["proposed"], MAX_VALUE)
        fields["reason"] = bounded_text(body["reason"], MAX_REASON)
        fields["evidence"] = Evidence.from_json(body.get("evidence"))
        fields["issued_at"] = datetime.fromisoformat(bounded_text(body["issued_at"], 40))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedMessageError from exc
    return fields


@dataclass(frozen=True, slots=True, kw_only=True)
class _Correction:
    """What a correction request says, whoever carries it; the person differs per leg."""

    PERSON: ClassVar[str]
    request_id: str
    requester: str
    owner: str
    item: str
    field: str  # the field the resident points at ("" for the record as a whole)
    current: str  # what the resident was shown
    proposed: str  # what the resident says is right
    reason: str
    evidence: Evidence | None
    issued_at: datetime

    def to_json(self) -> bytes:
        """Canonical JSON for signing."""
        body = asdict(self)
        body["evidence"] = None if self.evidence is None else self.evidence.to_json()
        body["issued_at"] = self.issued_at.isoformat()
        return canonical(body)

    @classmethod
    def from_json(cls, data: bytes) -> Self:
        """Parse and check the shape; MalformedMessageError on anything else."""
        return cls(**_correction_fields(data, cls.PERSON))


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrectionRequest(_Correction):
    """The portal asks the hub to pass a resident's correction to ``owner``."""

    PERSON: ClassVar[str] = "subject"
    subject: str  # the requester's link code of the person


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderCorrection(_Correction):
    """The hub delivers a correction request to the holder, by its own link code."""

    PERSON: ClassVar[str] = "link_code"
    link_code: str


@dataclass(frozen=True, slots=True)
class CorrectionReceipt:
    """The holder's signed word that the request waits in its queue under ``reference``."""

    request_id: str
    owner: str
    reference: str

    def to_json(self) -> bytes:
        """Canonical JSON for signing."""
        return canonical(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> CorrectionReceipt:
        """Parse and check the shape; MalformedMessageError on anything else."""
        body = json_object(data)
        try:
            return cls(
                **{
                    name: bounded_text(body[name], 64)
                    for name in ("request_id", "owner", "reference")
                }
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedMessageError from exc


@dataclass(frozen=True, slots=True)
class CorrectionAnswer:
    """The holder's answer to one request: ``corrected`` or not, and why.

    ``answer_id`` is the answer's own message id (refused if seen twice);
    ``request_id`` names the request it answers.
    """

    answer_id: str
    request_id: str
    owner: str
    item: str
    corrected: bool
    reason: str
    issued_at: datetime

    def to_json(self) -> bytes:
        """Canonical JSON for signing."""
        body = asdict(self)
        body["issued_at"] = self.issued_at.isoformat()
        return canonical(body)

    @classmethod
    def from_json(cls, data: bytes) -> CorrectionAnswer:
        """Parse and check the shape; MalformedMessageError on anything else."""
        body = json_object(data)
        try:
            corrected = body["corrected"]
            if not isinstance(corrected, bool):
                raise TypeError
            return cls(
                answer_id=bounded_text(body["answer_id"], 64),
                request_id=bounded_text(body["request_id"], 64),
                owner=bounded_text(body["owner"], 64),
                item=bounded_text(body["item"], 64),
                corrected=corrected,
                reason=bounded_text(body["reason"], MAX_REASON),
                issued_at=datetime.fromisoformat(bounded_text(body["issued_at"], 40)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedMessageError from exc
