"""Pure rules of e-applications (電子申請): the signed document, receipt numbers, statuses.

No I/O here. The **canonical form** of an application is what the card's signing key
signs: a JSON object serialised with sorted keys, no insignificant whitespace and UTF-8
(the RFC 8785 JSON Canonicalization Scheme for the value types an application uses:
strings, integers, booleans, lists and objects — never floats). The back office and any
third party can rebuild and check it byte for byte.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.i18n import gettext as _

DOCUMENT_VERSION = 1
MAX_APPLICATION_ATTACHMENTS = 5
MAX_APPLICATION_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_COMMENT_LENGTH = 2000
# Crockford's base32 alphabet: no I, L, O or U, so a number read aloud is not misheard.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_GROUPS = 4
RECEIPT_GROUP_LENGTH = 4
SIGNING_REQUEST_MINUTES = 10
MAX_SIGNING_FAILURES = 5


class ApplicationStatus(StrEnum):
    """Where an application stands in the municipality's processing (処理状況)."""

    RECEIVED = "received"  # 受付
    UNDER_REVIEW = "under-review"  # 審査中
    CORRECTION_REQUESTED = "correction-requested"  # 補正依頼
    COMPLETED = "completed"  # 完了
    REJECTED = "rejected"  # 却下

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({ApplicationStatus.COMPLETED, ApplicationStatus.REJECTED})

STATUS_LABELS: dict[ApplicationStatus, str] = {
    ApplicationStatus.RECEIVED: N_("Received"),
    ApplicationStatus.UNDER_REVIEW: N_("Under review"),
    ApplicationStatus.CORRECTION_REQUESTED: N_("Correction requested"),
    ApplicationStatus.COMPLETED: N_("Completed"),
    ApplicationStatus.REJECTED: N_("Rejected"),
}

# received → under review → correction requested ⇄ under review → completed / rejected
TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    ApplicationStatus.RECEIVED: frozenset(
        {ApplicationStatus.UNDER_REVIEW, ApplicationStatus.REJECTED}
    ),
    ApplicationStatus.UNDER_REVIEW: frozenset(
        {
            ApplicationStatus.CORRECTION_REQUESTED,
            ApplicationStatus.COMPLETED,
            ApplicationStatus.REJECTED,
        }
    ),
    ApplicationStatus.CORRECTION_REQUESTED: frozenset(
        {ApplicationStatus.UNDER_REVIEW, ApplicationStatus.REJECTED}
    ),
    ApplicationStatus.COMPLETED: frozenset(),
    ApplicationStatus.REJECTED: frozenset(),
}

# A correction request or a rejection must tell the resident why.
NEEDS_REASON = frozenset({ApplicationStatus.CORRECTION_REQUESTED, ApplicationStatus.REJECTED})


class ApplicationError(MynaError):
    """Base of e-application errors."""

    code = "application_error"


class ApplicationNotFoundError(NotFoundError):
    code = "application_not_found"
    message = N_("No application with this receipt number was found.")


class InvalidTransitionError(ApplicationError):
    code = "invalid_transition"
    message = N_(
        "An application that is “{current}” cannot become “{target}”. "
        "Reload the page to see its current status."
    )
    status_code = 409


class ReasonRequiredError(ApplicationError):
    code = "reason_required"
    message = N_("Write the reason for the resident when requesting a correction or rejecting.")
    status_code = 422


class CommentTooLongError(ApplicationError):
    code = "comment_too_long"
    message = N_("A comment can be at most {limit} characters.")
    status_code = 422


class InvalidReceiptNumberError(ApplicationError):
    code = "invalid_receipt_number"
    message = N_(
        "“{value}” is not a receipt number. "
        "A receipt number has 16 letters and digits in groups of four."
    )
    status_code = 422


@dataclass(frozen=True, slots=True)
class AttachmentDigest:
    """What the signed document says about an attached file."""

    name: str
    media_type: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True)
class ApplicationDocument:
    """The content of an application as signed: who files what with whom."""

    procedure_code: str
    procedure_name: str
    municipality_code: str
    municipality_name: str
    applicant_name: str
    data: dict[str, Any]
    attachments: tuple[AttachmentDigest, ...]
    submission_key: str
    prepared_at: datetime
    # Names of coded answers as the resident read them ({"new_municipality_code":
    # "大阪府大阪市"}): signed with the codes, so what the reader shows is what is signed.
    labels: dict[str, str] = field(default_factory=dict)
    # The proxy (代理人) who applies for the applicant and signs with their own card: the
    # document names both, so no one can read a proxy's signature as the applicant's.
    proxy_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        labels = {"labels": dict(self.labels)} if self.labels else {}
        proxy = {"proxy": {"name": self.proxy_name}} if self.proxy_name is not None else {}
        return {
            **labels,
            **proxy,
            "version": DOCUMENT_VERSION,
            "procedure": {"code": self.procedure_code, "name": self.procedure_name},
            "municipality": {"code": self.municipality_code, "name": self.municipality_name},
            "applicant": {"name": self.applicant_name},
            "data": self.data,
            "attachments": [a.to_dict() for a in self.attachments],
            "submission_key": self.submission_key,
            "prepared_at": self.prepared_at.isoformat(timespec="seconds"),
        }

    def canonical(self) -> bytes:
        """The bytes the signing key signs (see the module docstring)."""
        return canonical_json(self.to_dict())


def canonical_json(value: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8; refuses floats, whose text form varies."""
    _refuse_floats(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        msg = "an application document holds no floating-point numbers"
        raise TypeError(msg)
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)


def new_receipt_number() -> str:
    """A random receipt number (受付番号), 80 bits, e.g. ``7K3M-Q9TD-2HXA-R4WB``."""
    chars = "".join(
        secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_GROUPS * RECEIPT_GROUP_LENGTH)
    )
    return "-".join(
        chars[i : i + RECEIPT_GROUP_LENGTH] for i in range(0, len(chars), RECEIPT_GROUP_LENGTH)
    )


def parse_receipt_number(value: str) -> str:
    """Normalise a typed receipt number (case, spaces, missing hyphens) or refuse it."""
    compact = "".join(value.split()).replace("-", "").upper()
    length = RECEIPT_GROUPS * RECEIPT_GROUP_LENGTH
    if len(compact) != length or any(c not in RECEIPT_ALPHABET for c in compact):
        raise InvalidReceiptNumberError(value=value[:40])
    return "-".join(compact[i : i + RECEIPT_GROUP_LENGTH] for i in range(0, length, 4))


def check_transition(current: ApplicationStatus, target: ApplicationStatus, comment: str) -> None:
    """Refuse a status change the flow does not allow or that lacks its reason."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransitionError(
            current=_(STATUS_LABELS[current]), target=_(STATUS_LABELS[target])
        )
    if target in NEEDS_REASON and not comment.strip():
        raise ReasonRequiredError
    check_comment(comment)


def check_comment(comment: str) -> str:
    """A comment within the length limit."""
    if len(comment) > MAX_COMMENT_LENGTH:
        raise CommentTooLongError(limit=MAX_COMMENT_LENGTH)
    return comment
