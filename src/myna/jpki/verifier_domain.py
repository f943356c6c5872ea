"""Verifiers (署名検証者・利用者証明検証者) of JPKI: pure rules, no I/O, no ORM, no web.

A business that checks MyNumber-card certificates — a 署名検証者 approved by J-LIS for
signing certificates (署名用電子証明書), a 利用者証明検証者 for user-authentication
certificates (利用者証明用電子証明書), or a service provider (サービス提供者) that does so
through a platform operator (プラットフォーム事業者) — is registered as a *verifier*. It
gets an organisation certificate from the government CA naming ``jv-<code>`` and signs
every request to the revocation-status API with its key (see docs/api/verifiers.md).

What lives here: verifier kinds and codes, the request envelope and its fields, the
serial numbers a batch may ask about and the per-item problems, billing months (in
Japan time) and the fee lines of a monthly statement, and the errors verifiers see.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from myna.jpki.domain import JST, CertificateKind, JpkiError, check_organization
from myna.platform.errors import N_, MynaError, NotFoundError

VERIFIER_PREFIX = "jv-"
# Lowercase letters, digits and inner hyphens, 1 to 40: with the prefix, the organisation
# code of the verifier's certificate stays well within the 64 of a commonName.
_VERIFIER_CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")

# The request types of the verifier API (the ``type`` of a signed request's payload): a
# request made for one endpoint is refused at another.
STATUS = "status"
STATEMENT = "statement"
CRL = "crl"

# RFC 5280 §4.2.1.2 allows serial numbers of up to 20 octets: 40 hexadecimal digits.
MAX_SERIAL_DIGITS = 40
# What an item echoes back of what was sent, at most (a longer string is not repeated).
MAX_ECHOED = 64
_HEX = re.compile(r"[0-9a-fA-F]+")
# The envelope's own fields; a request id is the client's (a UUID is 36 characters).
MAX_REQUEST_ID = 64
MAX_ISSUED_AT = 40

# The months a statement can be asked for (a number outside is a clear 400, not a 500).
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class VerifierKind(StrEnum):
    """Which card certificates a verifier was approved to check."""

    SIGNATURE = "signature"  # 署名検証者: signing certificates (署名用電子証明書)
    AUTHENTICATION = "authentication"  # 利用者証明検証者: user-authentication certificates
    BOTH = "both"

    @property
    def certificate_kinds(self) -> frozenset[CertificateKind]:
        """The card certificates this kind of verifier may ask about."""
        return _ALLOWED[self]

    def allows(self, kind: CertificateKind) -> bool:
        """Whether a verifier of this kind may ask about certificates of ``kind``."""
        return kind in _ALLOWED[self]


_ALLOWED = {
    VerifierKind.SIGNATURE: frozenset({CertificateKind.SIGN}),
    VerifierKind.AUTHENTICATION: frozenset({CertificateKind.AUTH}),
    VerifierKind.BOTH: frozenset({CertificateKind.SIGN, CertificateKind.AUTH}),
}


class UsageKind(StrEnum):
    """What a verifier is billed for: a line of the monthly statement."""

    SIGN_STATUS = "sign_status"  # 署名検証: one status of a signing certificate
    AUTH_STATUS = "auth_status"  # one status of a user-authentication certificate
    CRL = "crl"  # one CRL fetched through the verifier API
    LATEST_INFO = "latest_info"  # 最新4情報の提供: one holder's latest 4 info given out

    @classmethod
    def status_of(cls, kind: CertificateKind) -> UsageKind:
        """The line a status of a certificate of ``kind`` is billed on."""
        return cls.SIGN_STATUS if kind is CertificateKind.SIGN else cls.AUTH_STATUS


USAGE_LABELS: dict[UsageKind, str] = {
    UsageKind.SIGN_STATUS: "署名用電子証明書の失効情報の提供（署名検証）",
    UsageKind.AUTH_STATUS: "利用者証明用電子証明書の失効情報の提供",
    UsageKind.CRL: "失効情報ファイル（CRL）の提供",
    UsageKind.LATEST_INFO: "最新4情報の提供",
}


@dataclass(frozen=True, slots=True)
class Tariff:
    """The fees per item, in yen, as the deployment's settings give them."""

    sign_status_yen: int
    auth_status_yen: int
    crl_yen: int
    latest_info_yen: int = 0

    def unit_price(self, kind: UsageKind) -> int:
        """The price of one item of ``kind``."""
        if kind is UsageKind.SIGN_STATUS:
            return self.sign_status_yen
        if kind is UsageKind.AUTH_STATUS:
            return self.auth_status_yen
        if kind is UsageKind.LATEST_INFO:
            return self.latest_info_yen
        return self.crl_yen


# --- errors verifiers see ---------------------------------------------------------


class InvalidVerifierError(JpkiError, code="invalid_verifier"):
    """A verifier code, name or kind that cannot be registered."""

    message = N_(
        "The verifier code must be 1 to 40 lowercase letters, digits or inner hyphens, the "
        "name 1 to 64 characters, and the kind signature, authentication or both. "
        "Correct them and try again."
    )


class VerifierExistsError(JpkiError, code="verifier_exists", status_code=409):
    """A verifier with this code is registered already."""

    message = N_("A verifier with this code is registered already. Choose another code.")


class UnknownVerifierError(NotFoundError, code="unknown_verifier"):
    """No verifier with this code is registered."""

    message = N_("No verifier with this code is registered. Check the code.")


class InvalidPlatformError(JpkiError, code="invalid_platform"):
    """The platform operator named for a service provider cannot take it."""

    message = N_(
        "The platform operator must be a registered, active verifier that is not itself "
        "under a platform, and approved for every certificate the service provider will "
        "check. Register the platform first, or choose another kind."
    )


class UnregisteredVerifierError(MynaError, code="unregistered_verifier", status_code=403):
    """The signer is not a registered verifier, or its registration is suspended."""

    message = N_(
        "This organisation is not registered as a JPKI verifier, or its registration is "
        "suspended. Ask J-LIS to register it with `myna jpki register-verifier`."
    )


class VerifierCertificateRevokedError(
    MynaError, code="verifier_certificate_revoked", status_code=403
):
    """The verifier's own certificate from the government CA has been revoked."""

    message = N_(
        "The verifier's certificate has been revoked. Ask the Myna Government CA for a new "
        "key and certificate, then sign again."
    )


class VerifierMismatchError(MynaError, code="verifier_mismatch", status_code=403):
    """The request names one verifier and is signed by another organisation."""

    message = N_(
        "The request names the verifier {claimed} but is signed by {signer}. Sign it with "
        "the key of the verifier it names."
    )


class CertificateKindNotPermittedError(
    MynaError, code="certificate_kind_not_permitted", status_code=403
):
    """A verifier asked about certificates it was not approved to check."""

    message = N_(
        "This verifier is approved for {approved} certificates only and may not ask about "
        "{asked} certificates. Ask J-LIS to register it for both kinds."
    )


class UnsignedVerifierRequestError(MynaError, code="unsigned_message", status_code=401):
    """A request without its signature (the ``Authorization: JWS`` header or the body)."""

    message = N_(
        "The request is not signed. Send a JWS (ES256) signed with the verifier's key, "
        "its certificate in x5c: in the body for POST, after 'JWS ' in the Authorization "
        "header for GET."
    )


class VerifierRequestTooLargeError(MynaError, code="request_too_large", status_code=413):
    """The signed request is larger than any batch needs."""

    message = N_("The request is larger than {limit} bytes. Ask about fewer serial numbers.")


class VerifierMediaTypeError(MynaError, code="unsupported_media_type", status_code=415):
    """The signed request was not sent as application/jose."""

    message = N_("Send the signed request with the content type application/jose.")


class MalformedVerifierRequestError(MynaError, code="malformed_request", status_code=400):
    """A field of the signed request is missing or cannot be read."""

    message = N_(
        "The request's field {field} is missing or cannot be read. "
        "See docs/api/verifiers.md for the request's fields."
    )


class WrongVerifierRequestTypeError(MynaError, code="wrong_message_type", status_code=400):
    """A request made for another endpoint of the verifier API."""

    message = N_("This request is for another endpoint of the verifier API (type {expected}).")


class TooManySerialsError(MynaError, code="too_many_serials", status_code=413):
    """A batch with more serial numbers than one request may carry."""

    message = N_(
        "A request may ask about at most {limit} serial numbers; this one has {count}. "
        "Split the batch."
    )


class InvalidMonthError(MynaError, code="invalid_month", status_code=400):
    """A billing month that is not ``YYYY-MM`` from 2000-01 to 2100-12."""

    message = N_("The month must be written YYYY-MM, from 2000-01 to 2100-12 (e.g. 2026-12).")


# --- verifiers --------------------------------------------------------------------


def check_verifier(code: str, name: str, kind: str) -> tuple[str, str, VerifierKind]:
    """The code, name and kind as registered, or InvalidVerifierError."""
    if not isinstance(code, str) or not _VERIFIER_CODE.fullmatch(code):
        raise InvalidVerifierError
    try:
        verifier_kind = VerifierKind(kind)
        _, checked_name = check_organization(organization_code(code), name)
    except (ValueError, JpkiError) as exc:
        raise InvalidVerifierError from exc
    return code, checked_name, verifier_kind


def organization_code(code: str) -> str:
    """The code a verifier's certificate from the government CA names: ``jv-<code>``."""
    return f"{VERIFIER_PREFIX}{code}"


def kind_names(kinds: frozenset[CertificateKind]) -> str:
    """Certificate kinds as a message names them (``sign``, ``auth``, ``sign and auth``)."""
    return " and ".join(kind.value for kind in sorted(kinds))


# --- the signed request -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    """What every verifier request carries, checked: its type, id, time and verifier."""

    type: str
    request_id: str
    verifier: str
    issued_at: datetime
    body: dict[str, Any]


def _text(body: dict[str, Any], field: str, limit: int) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise MalformedVerifierRequestError(field=field)
    return value


def open_envelope(payload: bytes, expected_type: str) -> Envelope:
    """The payload of a verified JWS read as a verifier request of ``expected_type``.

    A JSON object with ``type``, ``request_id`` (at most 64 characters, accepted once),
    ``verifier`` (the code) and ``issued_at`` (ISO 8601 with an offset).
    """
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedVerifierRequestError(field="payload") from exc
    if not isinstance(body, dict):
        raise MalformedVerifierRequestError(field="payload")
    kind = _text(body, "type", 32)
    request_id = _text(body, "request_id", MAX_REQUEST_ID)
    verifier = _text(body, "verifier", 40)
    try:
        issued_at = datetime.fromisoformat(_text(body, "issued_at", MAX_ISSUED_AT))
    except ValueError as exc:
        raise MalformedVerifierRequestError(field="issued_at") from exc
    if issued_at.tzinfo is None:
        raise MalformedVerifierRequestError(field="issued_at")
    if kind != expected_type:
        raise WrongVerifierRequestTypeError(expected=expected_type)
    return Envelope(kind, request_id, verifier, issued_at, body)


def certificate_kind(envelope: Envelope) -> CertificateKind:
    """The card certificates a request asks about: ``sign`` or ``auth``."""
    value = envelope.body.get("certificate_kind")
    if value not in (CertificateKind.SIGN.value, CertificateKind.AUTH.value):
        raise MalformedVerifierRequestError(field="certificate_kind")
    return CertificateKind(value)


class ItemStatus(StrEnum):
    """What a status answer says of one serial number of a batch."""

    GOOD = "good"  # a card certificate of the kind asked, not revoked
    REVOKED = "revoked"  # revoked: why and since when come with it
    UNKNOWN = "unknown"  # no card certificate of the kind asked has this serial
    INVALID = "invalid"  # the item could not be read: its problem says why

    @property
    def billed(self) -> bool:
        """Whether the status is billed: only answers about a certificate the CA issued."""
        return self in (ItemStatus.GOOD, ItemStatus.REVOKED)


class SerialProblem(StrEnum):
    """Why one item of a batch cannot be answered (the batch itself is answered)."""

    NOT_A_STRING = "not_a_string"  # a number, null, an object...: serials are hex strings
    NOT_HEX = "not_hex"  # empty, or a character other than 0-9, a-f, A-F
    TOO_LONG = "too_long"  # more than 40 hex digits (20 octets, RFC 5280 §4.2.1.2)
    ZERO = "zero"  # serial numbers are positive (RFC 5280 §4.1.2.2)
    DUPLICATE = "duplicate"  # the same serial earlier in the batch: answered there once


@dataclass(frozen=True, slots=True)
class SerialQuery:
    """One item of a batch: where it stands, what was sent and its stored form, or a problem."""

    index: int
    sent: str | None
    key: str | None
    problem: SerialProblem | None = None


def _query(index: int, value: object, seen: set[str]) -> SerialQuery:
    if not isinstance(value, str):
        return SerialQuery(index, None, None, SerialProblem.NOT_A_STRING)
    sent = value if len(value) <= MAX_ECHOED else None
    if len(value) > MAX_SERIAL_DIGITS:
        # Checked first: a megabyte of digits is refused by its length, never converted.
        problem = SerialProblem.TOO_LONG if _HEX.fullmatch(value) else SerialProblem.NOT_HEX
        return SerialQuery(index, sent, None, problem)
    if not _HEX.fullmatch(value):
        return SerialQuery(index, sent, None, SerialProblem.NOT_HEX)
    key = value.lower().rjust(MAX_SERIAL_DIGITS, "0")
    if not key.strip("0"):
        return SerialQuery(index, sent, None, SerialProblem.ZERO)
    if key in seen:
        return SerialQuery(index, sent, None, SerialProblem.DUPLICATE)
    seen.add(key)
    return SerialQuery(index, sent, key)


def read_serials(envelope: Envelope, *, limit: int) -> list[SerialQuery]:
    """The batch's serial numbers (hexadecimal strings), in order, each read or its problem.

    The list itself must be there, non-empty and at most ``limit`` long
    (:class:`TooManySerialsError`); a bad item is answered as such, the rest normally.
    Two spellings of one number (``0A`` and ``a``) are the same serial: the later one is a
    duplicate.
    """
    values = envelope.body.get("serials")
    if not isinstance(values, list) or not values:
        raise MalformedVerifierRequestError(field="serials")
    if len(values) > limit:
        raise TooManySerialsError(limit=limit, count=len(values))
    seen: set[str] = set()
    return [_query(index, value, seen) for index, value in enumerate(values)]


# --- billing months ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class BillingMonth:
    """A calendar month in Japan (請求月): usage is counted by the day in Japan."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not EARLIEST_YEAR <= self.year <= LATEST_YEAR or not 1 <= self.month <= 12:
            raise InvalidMonthError

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @classmethod
    def parse(cls, text: object) -> BillingMonth:
        """``YYYY-MM``, from 2000-01 to 2100-12; else InvalidMonthError."""
        if not isinstance(text, str):
            raise InvalidMonthError
        found = _MONTH.fullmatch(text)
        if found is None:
            raise InvalidMonthError
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> BillingMonth:
        """The month in Japan at ``moment`` (an aware time)."""
        local = moment.astimezone(JST)
        return cls(local.year, local.month)

    @property
    def starts(self) -> datetime:
        """Midnight in Japan on the 1st, in UTC."""
        return datetime(self.year, self.month, 1, tzinfo=JST).astimezone(UTC)

    @property
    def ends(self) -> datetime:
        """Midnight in Japan on the 1st of the next month, in UTC (exclusive)."""
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return datetime(year, month, 1, tzinfo=JST).astimezone(UTC)
