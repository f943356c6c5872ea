"""The MyNumber card's (マイナンバーカード) rules: PIN formats, try counters, validity.

Pure: no I/O, no ORM, no web. The card carries two JPKI applications, each with its
own key pair, certificate and secret:

- the user-authentication key (利用者証明用電子証明書), unlocked by a PIN
  (利用者証明用パスワード) of exactly 4 digits that locks after 3 consecutive wrong tries;
- the signing key (署名用電子証明書), unlocked by a signing password (署名用パスワード)
  of 6–16 characters A–Z / 0–9 that locks after 5 consecutive wrong tries.

A correct entry resets the count. A locked application stays locked (across restarts)
until the municipality resets it with a new secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from myna.platform.errors import N_, MynaError, NotFoundError


class KeyKind(StrEnum):
    """Which of the card's two JPKI applications (same values as ``jpki.CertificateKind``)."""

    AUTH = "auth"
    SIGN = "sign"


# Consecutive wrong entries before the application locks (J-LIS card specification).
TRY_LIMITS: dict[KeyKind, int] = {KeyKind.AUTH: 3, KeyKind.SIGN: 5}

# The secrets' lengths in characters (bytes on the chip), shortest and longest.
SECRET_LENGTHS: dict[KeyKind, tuple[int, int]] = {KeyKind.AUTH: (4, 4), KeyKind.SIGN: (6, 16)}

_AUTH_PIN = re.compile(r"[0-9]{4}")
_SIGN_PASSWORD = re.compile(r"[A-Z0-9]{6,16}")


class InvalidPinFormatError(MynaError):
    """The entered PIN or password does not have the card's format (no try is spent)."""

    code = "invalid_pin_format"
    message = N_("The PIN must be exactly 4 digits (0-9). Enter it again.")
    status_code = 422


class WrongPinError(MynaError):
    """The PIN or password was wrong; ``params["remaining"]`` tries are left."""

    code = "wrong_pin"
    message = N_("The PIN is wrong. {remaining} tries left before the card locks.")
    status_code = 401

    @property
    def remaining(self) -> int:
        """Tries left before the application locks."""
        return int(self.params["remaining"])


class CardLockedError(MynaError):
    """Too many consecutive wrong entries: the application refuses every try."""

    code = "card_locked"
    message = N_(
        "The card is locked after too many wrong PIN entries. Take the card to your "
        "municipality's counter to have the PIN reset."
    )
    status_code = 423


class CardNotFoundError(NotFoundError):
    """No card with the given id is in the reader."""

    code = "card_not_found"
    message = N_("No card with this id is in the reader. Check the card id and try again.")


class CardDamagedError(MynaError):
    """The card's integrity check failed (edited, truncated or from another deployment)."""

    code = "card_damaged"
    message = N_(
        "The card failed its integrity check and cannot be used. Take it to your "
        "municipality's counter to have it replaced."
    )
    status_code = 422


class ReissueNotEligibleError(MynaError):
    """A signing certificate is re-issued only to a resident whose record is active."""

    code = "reissue_not_eligible"
    message = N_(
        "A signing certificate can be re-issued only to a resident whose registry record "
        "is active. Check the resident's record at the municipality."
    )
    status_code = 409


class OtherMunicipalityCardError(MynaError):
    """The card's holder is not a resident of the clerk's municipality."""

    code = "card_of_other_municipality"
    message = N_(
        "This card's holder is not a resident of your municipality. The signing "
        "certificate is re-issued at the counter of the municipality where they live."
    )
    status_code = 404


class ResidentNotEligibleError(MynaError):
    """Cards are issued only to residents whose registry record is active."""

    code = "resident_not_eligible"
    message = N_(
        "A card can be issued only to a resident whose registry record is active. Check "
        "the resident's record at the municipality."
    )
    status_code = 409


class CardReaderUnavailableError(MynaError):
    """No card reader answers (PC/SC not running, no reader connected, support not installed)."""

    code = "card_reader_unavailable"
    message = N_(
        "No card reader was found. Connect a card reader and check that the PC/SC service "
        "(pcscd) is running."
    )
    status_code = 503


PCSC_NOT_INSTALLED = N_(
    "Card readers are used through PC/SC, whose Python support is not installed. Install "
    "it with: pip install 'myna[pcsc]'"
)


class NoCardOnReaderError(MynaError):
    """The reader is there, but no card is on it (or the card does not answer)."""

    code = "no_card_on_reader"
    message = N_("There is no card on the reader. Place your MyNumber card on the reader.")
    status_code = 409


class NotAMyNumberCardError(MynaError):
    """The card on the reader has no JPKI application (公的個人認証AP)."""

    code = "not_a_mynumber_card"
    message = N_(
        "The card on the reader is not a MyNumber card: it has no JPKI application. "
        "Place your MyNumber card on the reader."
    )
    status_code = 422


class CardCommunicationError(MynaError):
    """The card answered a command with an unexpected status word (``params["status"]``)."""

    code = "card_communication"
    message = N_(
        "The card could not complete the operation (status {status}). Take the card off "
        "the reader, place it again and try again."
    )
    status_code = 502


CARD_ANSWER_UNREADABLE = N_(
    "The card's answer could not be understood. Take the card off the reader, place it "
    "again and try again."
)


class CardSessionExpiredError(MynaError):
    """The card forgot the verified PIN (reset, or taken off the reader) before signing."""

    code = "card_session_expired"
    message = N_(
        "The card no longer holds the entered PIN: it was reset or taken off the reader. "
        "Enter the PIN again."
    )
    status_code = 409


class SigningCertificateProtectedError(MynaError):
    """A physical card shows its signing certificate only after the signing password."""

    code = "signing_certificate_protected"
    message = N_(
        "The card shows its signing certificate only after the signing password is entered."
    )
    status_code = 403


SIGN_PASSWORD_FORMAT = N_(
    "The signing password must be 6 to 16 characters: upper-case letters A-Z and digits "
    "0-9. Enter it again."
)
WRONG_SIGN_PASSWORD = N_(
    "The signing password is wrong. {remaining} tries left before the card locks."
)
SIGN_PASSWORD_LOCKED = N_(
    "The signing password is locked after too many wrong entries. Take the card to your "
    "municipality's counter to have the password reset."
)


def validate_secret(kind: KeyKind, secret: str) -> None:
    """Check ``secret`` against the format of ``kind``'s PIN or password.

    A malformed entry never reaches the chip, so it costs no try.
    """
    if kind is KeyKind.AUTH:
        if _AUTH_PIN.fullmatch(secret) is None:
            raise InvalidPinFormatError
    elif _SIGN_PASSWORD.fullmatch(secret) is None:
        raise InvalidPinFormatError(SIGN_PASSWORD_FORMAT)


def wrong_secret_error(kind: KeyKind, remaining: int) -> WrongPinError:
    """The error a wrong entry raises, in the words of ``kind``'s secret."""
    if kind is KeyKind.AUTH:
        return WrongPinError(remaining=remaining)
    return WrongPinError(WRONG_SIGN_PASSWORD, remaining=remaining)


def locked_error(kind: KeyKind) -> CardLockedError:
    """The error a locked application raises, in the words of ``kind``'s secret."""
    if kind is KeyKind.AUTH:
        return CardLockedError()
    return CardLockedError(SIGN_PASSWORD_LOCKED)


@dataclass(frozen=True, slots=True)
class TryCounter:
    """The consecutive-failure counter of one application (a small state machine).

    States: *open* (``failures < limit``) and *locked* (``failures == limit``). A
    failure moves towards locked; a success returns to zero; only a reset leaves
    *locked*.
    """

    failures: int
    limit: int

    @classmethod
    def fresh(cls, kind: KeyKind) -> TryCounter:
        """A counter at zero with ``kind``'s limit."""
        return cls(failures=0, limit=TRY_LIMITS[kind])

    def __post_init__(self) -> None:
        if self.limit < 1 or not 0 <= self.failures <= self.limit:
            msg = f"invalid try counter {self.failures}/{self.limit}"
            raise ValueError(msg)

    @property
    def locked(self) -> bool:
        """True once the limit is reached."""
        return self.failures >= self.limit

    @property
    def remaining(self) -> int:
        """Wrong entries still allowed before the lock."""
        return self.limit - self.failures

    def succeeded(self) -> TryCounter:
        """After a correct entry: back to zero (a locked counter cannot succeed)."""
        if self.locked:
            msg = "a locked counter accepts no entry"
            raise ValueError(msg)
        return replace(self, failures=0)

    def failed(self) -> TryCounter:
        """After a wrong entry: one closer to the lock."""
        if self.locked:
            msg = "a locked counter accepts no entry"
            raise ValueError(msg)
        return replace(self, failures=self.failures + 1)

    def reset(self) -> TryCounter:
        """The municipality's reset: zero failures, whatever the state."""
        return replace(self, failures=0)


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def card_expiry(birth_date: date, issued_on: date) -> date:
    """The card's own validity: the 10th birthday after issue, the 5th under 18.

    (番号法施行規則 第26条: the card lasts until the 10th birthday after issue for
    holders of 18 or more, the 5th for younger holders.)
    """
    years = 10 if age_on(birth_date, issued_on) >= 18 else 5
    return _nth_birthday_after(birth_date, issued_on, years)


def _nth_birthday_after(birth_date: date, issued_on: date, years: int) -> date:
    """The ``years``-th birthday counted from the first one after ``issued_on``."""
    first = _birthday_in(birth_date, issued_on.year)
    if first <= issued_on:
        first = _birthday_in(birth_date, issued_on.year + 1)
    return _birthday_in(birth_date, first.year + years - 1)


def _birthday_in(birth_date: date, year: int) -> date:
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


@dataclass(frozen=True, slots=True)
class CardSurface:
    """What is printed on the card's face (券面), kept for display only.

    The chip's certificates are the authority; the surface never authenticates anyone.
    ``sex`` follows the registry and JPKI: 1 male, 2 female.
    """

    holder_name: str
    holder_name_kana: str
    address: str
    birth_date: date
    sex: int
    expires_on: date
    municipality_code: str
    municipality_name: str
