"""The consent statement a resident signs for 最新4情報提供 (latest basic 4 info service).

A verifier (署名検証者) that wants to learn a customer's current basic 4 info (基本4情報)
after the customer's signing certificate is revoked because they moved or changed their
name needs the customer's consent, given with the card: the customer signs this
statement with the signing key (a detached CMS SignedData, RFC 5652 §5, as documents are
signed with the card) and the verifier registers statement and signature with J-LIS
(``POST /api/jpki/v1/latest-info/consents``, docs/api/verifiers.md).

The statement is built by both sides from its fields, never taken as bytes from a
server: the verifier's system (or the card reader) builds it with
:func:`consent_statement`, and J-LIS reads it back with :func:`read_consent_statement`,
which accepts only the canonical bytes. Pure: no I/O, no database, no web; a verifier's
system imports this module without the server's parts.

The canonical form is five lines of UTF-8 joined by a line feed (``\\n``), no line feed
at the end, no byte-order mark::

    myna-jpki-latest-info-consent-v1
    verifier: <verifier code>
    purpose: <the purpose, NFC, 1 to 200 characters>
    consent-id: <the verifier's id for this consent, 1 to 64 of A-Z a-z 0-9 . _ : ->
    issued-at: <UTC time, YYYY-MM-DDTHH:MM:SSZ>
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

PROTOCOL = "myna-jpki-latest-info-consent-v1"
MAX_PURPOSE = 200
MAX_STATEMENT_BYTES = 4096
_VERIFIER = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
_CONSENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_FIELDS = ("verifier", "purpose", "consent-id", "issued-at")


class ConsentStatementError(ValueError):
    """The statement is not in the canonical form; ``field`` names the first fault."""

    def __init__(self, field: str) -> None:
        super().__init__(f"the consent statement's {field} is not in the canonical form")
        self.field = field


@dataclass(frozen=True, slots=True)
class ConsentStatement:
    """What a resident consents to: this verifier may receive their latest 4 info."""

    verifier: str
    purpose: str
    consent_id: str
    issued_at: datetime

    def to_bytes(self) -> bytes:
        """The canonical bytes the card signs."""
        return consent_statement(
            verifier=self.verifier,
            purpose=self.purpose,
            consent_id=self.consent_id,
            issued_at=self.issued_at,
        )


def _check_purpose(purpose: str) -> str:
    if not isinstance(purpose, str):
        raise ConsentStatementError("purpose")
    if purpose != unicodedata.normalize("NFC", purpose) or purpose != purpose.strip():
        raise ConsentStatementError("purpose")
    if not 1 <= len(purpose) <= MAX_PURPOSE:
        raise ConsentStatementError("purpose")
    if any(unicodedata.category(c).startswith("C") for c in purpose):
        raise ConsentStatementError("purpose")  # no line breaks, tabs or other controls
    return purpose


def consent_statement(
    *, verifier: str, purpose: str, consent_id: str, issued_at: datetime
) -> bytes:
    """The exact bytes a resident signs to let ``verifier`` receive their latest 4 info.

    ``purpose`` is shown to the resident in the portal as written; ``consent_id`` is the
    verifier's own reference (unique per verifier); ``issued_at`` is an aware time,
    written in UTC to the second. Raises :class:`ConsentStatementError` on a bad field.
    """
    if not isinstance(verifier, str) or not _VERIFIER.fullmatch(verifier):
        raise ConsentStatementError("verifier")
    _check_purpose(purpose)
    if not isinstance(consent_id, str) or not _CONSENT_ID.fullmatch(consent_id):
        raise ConsentStatementError("consent-id")
    if not isinstance(issued_at, datetime) or issued_at.tzinfo is None:
        raise ConsentStatementError("issued-at")
    moment = issued_at.astimezone(UTC).strftime(_TIME_FORMAT)
    lines = (
        PROTOCOL,
        f"verifier: {verifier}",
        f"purpose: {purpose}",
        f"consent-id: {consent_id}",
        f"issued-at: {moment}",
    )
    return "\n".join(lines).encode("utf-8")


def read_consent_statement(data: bytes) -> ConsentStatement:
    """The statement's fields, when ``data`` is exactly the canonical form; else an error.

    Read, then built again from what was read and compared byte for byte: any other
    spelling (a trailing line feed, CRLF, a decomposed character, extra spaces, another
    order) is refused, so one consent has one signed form.
    """
    if not isinstance(data, bytes) or not data or len(data) > MAX_STATEMENT_BYTES:
        raise ConsentStatementError("statement")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConsentStatementError("statement") from exc
    lines = text.split("\n")
    if len(lines) != len(_FIELDS) + 1 or lines[0] != PROTOCOL:
        raise ConsentStatementError("protocol")
    values: dict[str, str] = {}
    for field, line in zip(_FIELDS, lines[1:], strict=True):
        prefix = f"{field}: "
        if not line.startswith(prefix):
            raise ConsentStatementError(field)
        values[field] = line.removeprefix(prefix)
    if not _TIME.fullmatch(values["issued-at"]):
        raise ConsentStatementError("issued-at")
    try:
        issued_at = datetime.strptime(values["issued-at"], _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise ConsentStatementError("issued-at") from exc
    statement = ConsentStatement(
        verifier=values["verifier"],
        purpose=values["purpose"],
        consent_id=values["consent-id"],
        issued_at=issued_at,
    )
    if statement.to_bytes() != data:
        raise ConsentStatementError("statement")
    return statement
