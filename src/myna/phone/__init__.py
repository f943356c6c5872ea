"""The phone credential (スマホ用電子証明書): JPKI on the resident's phone.

Issued from the MyNumber card (card login and a signature with the card's signing
certificate over a request binding the phone's two new keys), unlocked for each use by
the phone's user verification (WebAuthn), revoked with the card or on its own. Other
contexts import only from here. See docs/phone-credential.md.
"""

from myna.phone.domain import (
    ISSUANCE_PURPOSE,
    CardCertificatesUnusableError,
    CardLoginRequiredError,
    IssuanceCardMismatchError,
    IssuanceExpiredError,
    IssuanceNotFoundError,
    KeyPossessionError,
    PhoneAlreadyIssuedError,
    PhoneCredentialNotFoundError,
    PhoneError,
    PhoneKey,
    PhoneStatus,
    RegistrationRefusedError,
    UnlockRefusedError,
    possession_message,
    unlock_challenge,
)
from myna.phone.service import (
    IssuanceStart,
    PhoneIssued,
    PhoneView,
    attach_signing_request,
    certificates,
    complete_issuance,
    current,
    issuance,
    issuance_for_request,
    register_keys,
    report_lost,
    revoke_for_card,
    start_issuance,
    verify_unlock,
)
from myna.phone.unlock import Assertion, Attestation, relying_party

__all__ = [
    "ISSUANCE_PURPOSE",
    "Assertion",
    "Attestation",
    "CardCertificatesUnusableError",
    "CardLoginRequiredError",
    "IssuanceCardMismatchError",
    "IssuanceExpiredError",
    "IssuanceNotFoundError",
    "IssuanceStart",
    "KeyPossessionError",
    "PhoneAlreadyIssuedError",
    "PhoneCredentialNotFoundError",
    "PhoneError",
    "PhoneIssued",
    "PhoneKey",
    "PhoneStatus",
    "PhoneView",
    "RegistrationRefusedError",
    "UnlockRefusedError",
    "attach_signing_request",
    "certificates",
    "complete_issuance",
    "current",
    "issuance",
    "issuance_for_request",
    "possession_message",
    "register_keys",
    "relying_party",
    "report_lost",
    "revoke_for_card",
    "start_issuance",
    "unlock_challenge",
    "verify_unlock",
]
