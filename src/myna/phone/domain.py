"""The phone credential's (スマホ用電子証明書) pure rules: its messages and its errors.

A resident issues a phone credential from the MyNumber card: two key pairs made on the
phone (never leaving it), two certificates of JPKI's own under the phone policies, and a
WebAuthn credential whose user verification (biometrics or the phone's PIN) unlocks the
keys for each use. See docs/phone-credential.md.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from typing import ClassVar

from myna.platform.encoding import b64url
from myna.platform.errors import N_, MynaError, NotFoundError

ISSUANCE_PROTOCOL = "myna-phone-issuance-v1"
POSSESSION_PROTOCOL = "myna-phone-possession-v1"
UNLOCK_PROTOCOL = "myna-phone-unlock-v1"
# How long an issuance may take from its start to the card's signature.
ISSUANCE_LIFETIME = timedelta(minutes=15)
NONCE_BYTES = 32
# The signing request of an issuance: its purpose, and what the card reader shows.
ISSUANCE_PURPOSE = "phone-issuance"
ISSUANCE_PROCEDURE_CODE = "phone-credential"
ISSUANCE_PROCEDURE_NAME = "スマホ用電子証明書の発行申請"
ISSUER_NAME = "地方公共団体情報システム機構 (J-LIS)"
RP_NAME = "Myna スマホ用電子証明書"
# A WebAuthn credential id is at most 1023 bytes (WebAuthn L3 §5.1.3); its base64url.
MAX_CREDENTIAL_ID = 1366


class PhoneStatus(StrEnum):
    """Where a phone credential is in its life."""

    PENDING = "pending"  # keys and unlock registered, waiting for the card's signature
    ACTIVE = "active"  # certificates issued
    REVOKED = "revoked"  # reported lost, or the card was
    ABANDONED = "abandoned"  # an issuance that was never finished (expired or restarted)


class PhoneKey(StrEnum):
    """The phone's two keys, as the card's: signing and user authentication."""

    SIGN = "sign"
    AUTH = "auth"


def new_identifier() -> str:
    """A phone credential's identifier (128 random bits, hex)."""
    return secrets.token_hex(16)


def new_nonce() -> str:
    """A fresh random value, base64url (256 bits)."""
    return b64url(secrets.token_bytes(NONCE_BYTES))


def jpki_device_id(credential_id: str) -> str:
    """The identifier JPKI records the phone's certificates under (where a card's id goes)."""
    return f"phone-{credential_id}"


def possession_message(*, origin: str, issuance_id: str, nonce: str, key: PhoneKey) -> bytes:
    """The bytes each new key signs to prove the phone holds it (proof of possession)."""
    return "\n".join((POSSESSION_PROTOCOL, origin.rstrip("/"), issuance_id, nonce, key)).encode()


def unlock_challenge(to_be_signed: bytes) -> bytes:
    """The WebAuthn challenge of a use of the phone's keys: bound to what they sign.

    SHA-256 over the protocol name, a line feed and the exact bytes the JPKI key signs
    (the login message, or the document of a signing request), so an assertion made for
    one login or one document unlocks nothing else.
    """
    return hashlib.sha256(UNLOCK_PROTOCOL.encode() + b"\n" + to_be_signed).digest()


# --- errors people see ------------------------------------------------------------------


class PhoneError(MynaError, code="phone_error"):
    """Base of the phone credential's errors."""


class PhoneAlreadyIssuedError(PhoneError, code="phone_already_issued", status_code=409):
    """A resident has at most one phone credential."""

    message = N_(
        "A phone credential has already been issued to you, and only one phone can hold it. "
        "Report the old phone lost (or revoke its credential) first, then issue it again."
    )


class CardCertificatesUnusableError(PhoneError, code="card_certificates_unusable", status_code=409):
    """The card's certificates are revoked or expired: nothing can be issued from it."""

    message = N_(
        "Your MyNumber card's certificates are revoked or expired, so a phone credential "
        "cannot be issued from it. Have the card's certificates reissued at your "
        "municipality's counter first."
    )


class CardLoginRequiredError(PhoneError, code="card_login_required", status_code=403):
    """Issuance needs a session that logged in with the card itself."""

    message = N_(
        "Log in with your MyNumber card (not with a phone) to issue a phone credential, "
        "then start again."
    )


class IssuanceNotFoundError(NotFoundError, code="phone_issuance_not_found"):
    """No such pending issuance for this resident."""

    message = N_(
        "This phone credential issuance does not exist or was already finished. "
        "Start the issuance again in the phone app."
    )


class IssuanceExpiredError(PhoneError, code="phone_issuance_expired", status_code=410):
    """The issuance was not finished in time."""

    message = N_(
        "The time to finish this issuance has run out. Start the issuance again in the phone app."
    )


class IssuanceCardMismatchError(PhoneError, code="phone_issuance_card_mismatch", status_code=403):
    """The issuance request was signed with another card than the one that logged in."""

    message = N_(
        "The issuance request must be signed with the same MyNumber card you logged in "
        "with. Sign it again with that card."
    )


class KeyPossessionError(PhoneError, code="phone_key_possession", status_code=400):
    """A new key's proof of possession did not verify, or the key is unfit."""

    message = N_(
        "The phone's new keys could not be accepted: each must be an RSA key of 2048 bits "
        "and sign the issuance's nonce. Start the issuance again in the phone app."
    )


class PhoneCredentialNotFoundError(NotFoundError, code="phone_credential_not_found"):
    """No phone credential in force for this resident or certificate."""

    message = N_("No phone credential is in force. Issue one from the phone app first.")


_UNLOCK_MESSAGES: dict[str, str] = {
    "unlock_required": N_(
        "The phone credential must be unlocked for each use (fingerprint, face or the "
        "phone's PIN). Use the phone app, which asks for it."
    ),
    "unlock_malformed": N_("The phone's unlock could not be read. Try again from the phone app."),
    "unlock_wrong_credential": N_(
        "The phone's unlock does not belong to this phone credential. Use the phone the "
        "credential was issued to."
    ),
    "unlock_wrong_origin": N_(
        "The phone's unlock was made for another site. Open the phone app from this portal "
        "and try again."
    ),
    "unlock_wrong_challenge": N_(
        "The phone's unlock was made for another request. Try again from the phone app."
    ),
    "unlock_no_user_verification": N_(
        "The phone did not verify you (fingerprint, face or the phone's PIN). "
        "Unlock with one of them and try again."
    ),
    "unlock_bad_signature": N_("The phone's unlock does not verify. Try again from the phone app."),
    "unlock_replayed": N_(
        "The phone's unlock was used before (its counter went back), so the phone may have "
        "been copied. Report the phone lost and issue a new credential."
    ),
}
UNLOCK_CODES = frozenset(_UNLOCK_MESSAGES)


class UnlockRefusedError(PhoneError, code="unlock_refused", status_code=400):
    """The WebAuthn assertion (the phone's unlock) was refused; ``code`` says why."""

    _messages: ClassVar[Mapping[str, str]] = _UNLOCK_MESSAGES

    def __init__(self, code: str) -> None:
        if code not in _UNLOCK_MESSAGES:
            msg = f"unknown unlock failure code {code!r}"
            raise ValueError(msg)
        self.code = code
        if code == "unlock_required":
            self.status_code = 401
        super().__init__(_UNLOCK_MESSAGES[code])


class RegistrationRefusedError(PhoneError, code="unlock_registration_refused", status_code=400):
    """The WebAuthn registration at issuance was refused."""

    message = N_(
        "The phone's unlock could not be registered: the phone must verify you "
        "(fingerprint, face or its PIN) on this site. Start the issuance again in the phone app."
    )
