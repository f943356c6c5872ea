"""最新4情報提供 and the re-issue of the signing certificate: pure rules, no I/O.

When the basic 4 info (基本4情報) of a card holder change — a move (転居・転出入) or a
change of name — J-LIS revokes the signing certificate (署名用電子証明書) with the reason
``basic_info_change``, and the municipality's counter re-issues one onto the same card
with the new 4 info (署名用電子証明書の再発行). J-LIS links the old certificate to the
new one. A verifier the holder consented to, with the card, can then ask J-LIS for the
holder's latest 4 info by the serial number it once verified (最新4情報提供), following
the links to the newest certificate.

What lives here: the rule that decides whether a re-issue may happen, the walk along the
links, the request types and the answers' vocabulary, the consent's time window, and the
errors a resident, a clerk or a verifier sees.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from myna.jpki.domain import CertificateStatus, JpkiError, RevocationReason
from myna.platform.errors import N_, MynaError, NotFoundError

# The request types of the verifier API's latest-info endpoints.
LATEST_INFO = "latest_info"
LATEST_INFO_CONSENT = "latest_info_consent"

# A consent statement is registered within this time of being signed, and is not dated
# ahead of J-LIS's clock by more than the skew.
CONSENT_MAX_AGE = timedelta(days=30)
CONSENT_CLOCK_SKEW = timedelta(minutes=5)
# The signature (CMS DER) and the statement, base64 in the signed request.
MAX_CONSENT_SIGNATURE_BYTES = 64 * 1024
# A signed document carrying the statement's fingerprint (a signing transaction's).
MAX_CONSENT_DOCUMENT_BYTES = 16 * 1024
# A chain of re-issues is walked at most this far (a card lives ten years).
MAX_SUCCESSIONS = 64

# The exchange log's names for a provision (やりとり履歴): J-LIS as the provider, the
# service as the procedure, the 4 info as the item.
LOG_PROVIDER = "jlis"
LOG_PROCEDURE = "jpki-latest-info"
LOG_ITEM = "basic-4-info"


class LatestStatus(StrEnum):
    """What a latest-info answer says of one serial number."""

    VALID = "valid"  # a signing certificate in force: the 4 info it carries are current
    EXPIRED = "expired"  # past its notAfter, never revoked
    REVOKED = "revoked"  # revoked: the reason comes with it (and, if consented, the news)
    UNKNOWN = "unknown"  # no signing certificate has this serial
    INVALID = "invalid"  # the item could not be read: its problem says why

    @property
    def billed(self) -> bool:
        """Whether the item is billed as a status (a certificate the CA issued)."""
        return self in (LatestStatus.VALID, LatestStatus.EXPIRED, LatestStatus.REVOKED)


class LatestOutcome(StrEnum):
    """What a consented verifier learns of a certificate revoked for a change of 4 info."""

    PROVIDED = "provided"  # the newest certificate's 4 info and serial
    NOT_REISSUED = "not_reissued"  # changed, and no new certificate issued yet


# --- errors -----------------------------------------------------------------------


class ReissueNotNeededError(JpkiError, code="reissue_not_needed", status_code=409):
    """The card's signing certificate is in force and its 4 info are the registry's."""

    message = N_(
        "The signing certificate on this card is still valid and its basic four "
        "information are current. No re-issue is needed."
    )


class CardLostError(JpkiError, code="card_revoked", status_code=409):
    """The card's user-authentication certificate is revoked: the card is lost or replaced."""

    message = N_(
        "This card's user-authentication certificate has been revoked (the card was "
        "reported lost or replaced). A signing certificate cannot be re-issued onto it: "
        "issue a new card."
    )


class NoCardCertificateError(NotFoundError, code="card_certificates_not_found"):
    """J-LIS issued no certificate to this card."""

    message = N_("J-LIS has no certificate of this card. Check the card ID.")


class UnreadableConsentError(MynaError, code="invalid_consent_statement", status_code=400):
    """The consent statement is not in the canonical form."""

    message = N_(
        "The consent statement is not in the canonical form ({field}). Build it with "
        "myna.jpki.consent_statement.consent_statement, exactly as docs/api/verifiers.md "
        "describes, and have the resident sign those bytes."
    )


class ConsentForAnotherVerifierError(MynaError, code="consent_verifier_mismatch", status_code=403):
    """The statement names another verifier than the one registering it."""

    message = N_(
        "The consent statement names the verifier {named}, not {verifier}. A consent can "
        "be registered only by the verifier it names."
    )


class ConsentSignatureError(MynaError, code="invalid_consent_signature", status_code=400):
    """The resident's signature over the statement did not verify."""

    message = N_(
        "The resident's signature over the consent statement could not be verified "
        "({problem}). It must be a detached CMS signature over the exact statement, made "
        "with a signing certificate of a MyNumber card that is valid now."
    )


class ConsentNotInDocumentError(MynaError, code="consent_not_in_document", status_code=400):
    """The signed document does not list the statement's SHA-256 among its digests."""

    message = N_(
        "The signed document does not list the consent statement's SHA-256 fingerprint "
        "among data.digests. Put the fingerprint of the exact statement in the document the "
        "resident signs (the authentication app's signing transaction does), or send the "
        "signature over the statement itself without a document."
    )


def statement_in_document(statement: bytes, document: bytes) -> bool:
    """Whether ``document`` (a JSON object) lists SHA-256(``statement``) in ``data.digests``.

    A signature over such a document binds the statement as surely as one over the
    statement itself: the document fixes its fingerprint (the authentication app's
    signing transactions sign documents of this shape, docs/api/authapp.md).
    """
    try:
        parsed = json.loads(document)
    except (ValueError, UnicodeDecodeError):
        return False
    data = parsed.get("data") if isinstance(parsed, dict) else None
    digests = data.get("digests") if isinstance(data, dict) else None
    if not isinstance(digests, list):
        return False
    return hashlib.sha256(statement).hexdigest() in digests


class ConsentOutOfTimeError(MynaError, code="consent_out_of_time", status_code=400):
    """The statement was signed too long ago, or is dated in the future."""

    message = N_(
        "The consent statement's issued-at is more than 30 days ago or in the future. "
        "Have the resident sign a new statement."
    )


class ConsentExistsError(MynaError, code="consent_exists", status_code=409):
    """The verifier registered a consent with this consent id already."""

    message = N_(
        "A consent with this consent-id is registered for this verifier already. Use a "
        "new consent-id for a new consent."
    )


class ConsentNotFoundError(NotFoundError, code="consent_not_found"):
    """No consent of this resident has this id (another's is "not found" too)."""

    message = N_("This consent was not found. It may have been withdrawn already.")


# --- rules ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SigningState:
    """What the re-issue rule needs of a card's newest signing certificate."""

    status: CertificateStatus
    reason: RevocationReason | None
    expired: bool
    info_current: bool


def check_reissue(*, auth_revoked: bool, signing: SigningState | None) -> None:
    """Refuse a re-issue that J-LIS would not make; return when it may go ahead.

    A lost or replaced card (its user-authentication certificate revoked) gets a new
    card, not a new certificate; a signing certificate in force with current 4 info
    needs none. Anything else — revoked for a change of 4 info, expired, or in force
    with 4 info that no longer match the registry — is re-issued.
    """
    if auth_revoked:
        raise CardLostError
    if signing is None:
        return
    in_force = signing.status is CertificateStatus.VALID and not signing.expired
    if in_force and signing.info_current:
        raise ReissueNotNeededError
    if signing.status is CertificateStatus.REVOKED and (
        signing.reason is not RevocationReason.BASIC_INFO_CHANGE
    ):
        raise CardLostError


def newest_in_chain(serial: str, successors: Mapping[str, str]) -> str:
    """The newest certificate reached from ``serial`` along old → new links.

    Stops after :data:`MAX_SUCCESSIONS` links or at a serial seen before, so stored data
    can never make it loop.
    """
    seen = {serial}
    current = serial
    for _step in range(MAX_SUCCESSIONS):
        following = successors.get(current)
        if following is None or following in seen:
            break
        seen.add(following)
        current = following
    return current


def consent_in_time(issued_at: datetime, now: datetime) -> bool:
    """Whether a statement signed at ``issued_at`` may be registered at ``now``."""
    return now - CONSENT_MAX_AGE <= issued_at <= now + CONSENT_CLOCK_SKEW
