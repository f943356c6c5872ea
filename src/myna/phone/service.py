"""Phone credential use cases: issuance from the card, the unlock check, revocation.

Issuance (docs/phone-credential.md) runs in three steps, each its own request:

1. :func:`start_issuance` — a resident logged in with the card (auth PIN) asks for a
   phone credential; the card must be in force, and no other phone may hold one;
2. :func:`register_keys` — the phone sends its two new public keys, a proof of
   possession of each, and its WebAuthn registration; the issuance request that binds
   them is returned, for the card to sign (signing password) through the e-application
   signing flow;
3. :func:`complete_issuance` — once the card's signature verified, JPKI issues the two
   phone certificates (the basic 4 info copied from the card's signing certificate).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import jpki
from myna.phone import unlock
from myna.phone.domain import (
    ISSUANCE_LIFETIME,
    ISSUANCE_PROCEDURE_CODE,
    ISSUANCE_PROCEDURE_NAME,
    ISSUANCE_PROTOCOL,
    ISSUER_NAME,
    CardCertificatesUnusableError,
    CardLoginRequiredError,
    IssuanceCardMismatchError,
    IssuanceExpiredError,
    IssuanceNotFoundError,
    KeyPossessionError,
    PhoneAlreadyIssuedError,
    PhoneCredentialNotFoundError,
    PhoneKey,
    PhoneStatus,
    UnlockRefusedError,
    jpki_device_id,
    new_identifier,
    new_nonce,
    possession_message,
    unlock_challenge,
)
from myna.phone.models import PhoneCredential
from myna.platform.db import utcnow
from myna.platform.encoding import b64url, b64url_decode
from myna.platform.logging import get_logger
from myna.platform.settings import Settings

log = get_logger(__name__)

PHONE_KEY_BITS = 2048


@dataclass(frozen=True, slots=True)
class IssuanceStart:
    """What the phone app needs to make and register its keys."""

    issuance_id: str
    origin: str
    nonce: str
    expires_at: datetime
    registration: dict[str, Any]

    def possession_message(self, key: PhoneKey) -> bytes:
        """The bytes the new ``key`` signs."""
        return possession_message(
            origin=self.origin, issuance_id=self.issuance_id, nonce=self.nonce, key=key
        )


@dataclass(frozen=True, slots=True)
class PhoneView:
    """A resident's phone credential as the portal and the phone app show it."""

    id: str
    status: PhoneStatus
    card_id: str
    created_at: datetime
    issued_at: datetime | None
    revoked_at: datetime | None
    sign_serial: int | None
    auth_serial: int | None
    unlock_credential_id: str | None
    signing_request_id: str | None


def _hex(serial: int) -> str:
    return f"{serial:040x}"


def _view(row: PhoneCredential) -> PhoneView:
    return PhoneView(
        id=row.id,
        status=PhoneStatus(row.status),
        card_id=row.card_id,
        created_at=row.created_at,
        issued_at=row.issued_at,
        revoked_at=row.revoked_at,
        sign_serial=int(row.sign_serial, 16) if row.sign_serial else None,
        auth_serial=int(row.auth_serial, 16) if row.auth_serial else None,
        unlock_credential_id=row.unlock_credential_id,
        signing_request_id=row.signing_request_id,
    )


def _card_in_force(session: Session, card_id: str, at: datetime) -> list[jpki.CertificateRecord]:
    """The card's two certificates, both unrevoked and unexpired; else refused."""
    records = jpki.list_certificates(session=session, card_id=card_id)
    usable = [r for r in records if not r.revoked_by(at) and at < r.not_after]
    kinds = {r.kind for r in usable}
    if kinds != {jpki.CertificateKind.SIGN, jpki.CertificateKind.AUTH}:
        raise CardCertificatesUnusableError
    return usable


def _active(session: Session, resident_id: int) -> PhoneCredential | None:
    return session.scalars(
        select(PhoneCredential).where(
            PhoneCredential.resident_id == resident_id,
            PhoneCredential.status == PhoneStatus.ACTIVE.value,
        )
    ).first()


def start_issuance(
    *,
    session: Session,
    settings: Settings,
    resident_id: int,
    login_serial: int,
    now: datetime | None = None,
) -> IssuanceStart:
    """Begin issuing a phone credential from the card the resident logged in with.

    Refused: a login that did not rest on a card's user-authentication certificate of
    this resident (CardLoginRequiredError), a card whose certificates are revoked or
    expired (CardCertificatesUnusableError), a resident who already has a phone
    (PhoneAlreadyIssuedError). An unfinished earlier issuance is abandoned.
    """
    now = now or utcnow()
    try:
        login = jpki.certificate_status(session=session, serial=login_serial)
    except jpki.CertificateNotFoundError as exc:
        raise CardLoginRequiredError from exc
    if (
        login.kind is not jpki.CertificateKind.AUTH
        or login.holder_id != resident_id
        or login.card_id is None
        or _phone_of_device(session, login.card_id) is not None
    ):
        raise CardLoginRequiredError
    _card_in_force(session, login.card_id, now)
    if _active(session, resident_id) is not None:
        raise PhoneAlreadyIssuedError
    for pending in session.scalars(
        select(PhoneCredential).where(
            PhoneCredential.resident_id == resident_id,
            PhoneCredential.status == PhoneStatus.PENDING.value,
        )
    ):
        pending.status = PhoneStatus.ABANDONED.value
    row = PhoneCredential(
        id=new_identifier(),
        resident_id=resident_id,
        card_id=login.card_id,
        login_serial=_hex(login_serial),
        status=PhoneStatus.PENDING.value,
        nonce=new_nonce(),
        created_at=now,
        expires_at=now + ISSUANCE_LIFETIME,
        unlock_sign_count=0,
    )
    session.add(row)
    session.flush()
    origin, _ = unlock.relying_party(settings)
    return IssuanceStart(
        issuance_id=row.id,
        origin=origin,
        nonce=row.nonce,
        expires_at=row.expires_at,
        registration=unlock.registration_options(
            settings,
            challenge=b64url_decode(row.nonce),
            user_id=bytes.fromhex(row.id),
            # Nothing personal: the authenticator shows this name in its account list.
            user_name=f"myna-phone-{row.id[:8]}",
        ),
    )


def _phone_of_device(session: Session, device_id: str) -> PhoneCredential | None:
    if not device_id.startswith("phone-"):
        return None
    return session.get(PhoneCredential, device_id.removeprefix("phone-"))


def _pending(
    session: Session, *, resident_id: int, issuance_id: str, now: datetime
) -> PhoneCredential:
    row = session.get(PhoneCredential, issuance_id) if len(issuance_id) <= 32 else None
    if row is None or row.resident_id != resident_id or row.status != PhoneStatus.PENDING.value:
        raise IssuanceNotFoundError
    if row.expires_at <= now:
        raise IssuanceExpiredError
    return row


def _phone_key(spki: bytes, proof: bytes, message: bytes) -> rsa.RSAPublicKey:
    """A new RSA-2048 public key whose holder signed ``message`` with it (PKCS#1 v1.5)."""
    try:
        key = serialization.load_der_public_key(spki)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyPossessionError from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != PHONE_KEY_BITS:
        raise KeyPossessionError
    try:
        key.verify(proof, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError) as exc:
        raise KeyPossessionError from exc
    return key


def _spki(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def register_keys(
    *,
    session: Session,
    settings: Settings,
    resident_id: int,
    issuance_id: str,
    keys: dict[PhoneKey, tuple[bytes, bytes]],
    attestation: unlock.Attestation,
    applicant_name: str,
    now: datetime | None = None,
) -> bytes:
    """Take the phone's keys (SPKI DER and proof, by key) and its unlock; the request to sign.

    The request is the document the card signs with its signing key: it binds this
    issuance, the portal's origin, the SHA-256 of each new public key and the WebAuthn
    credential. Refused: an unknown, finished or expired issuance; a key that is not RSA
    2048 or whose proof does not verify (KeyPossessionError); the same key twice; a
    registration without user verification, for another origin or challenge.
    """
    now = now or utcnow()
    row = _pending(session, resident_id=resident_id, issuance_id=issuance_id, now=now)
    if row.sign_public_key is not None:
        raise IssuanceNotFoundError
    origin, _ = unlock.relying_party(settings)
    checked: dict[PhoneKey, bytes] = {}
    for kind in PhoneKey:
        if kind not in keys:
            raise KeyPossessionError
        spki, proof = keys[kind]
        message = possession_message(origin=origin, issuance_id=row.id, nonce=row.nonce, key=kind)
        checked[kind] = _spki(_phone_key(spki, proof, message))
    if checked[PhoneKey.SIGN] == checked[PhoneKey.AUTH]:
        raise KeyPossessionError
    registered = unlock.verify_registration(
        settings, attestation, challenge=b64url_decode(row.nonce)
    )
    row.sign_public_key = checked[PhoneKey.SIGN]
    row.auth_public_key = checked[PhoneKey.AUTH]
    row.unlock_credential_id = registered.credential_id
    row.unlock_public_key = registered.public_key
    row.unlock_sign_count = registered.sign_count
    session.flush()
    return issuance_document(row, origin=origin, applicant_name=applicant_name, now=now)


def issuance_document(
    row: PhoneCredential, *, origin: str, applicant_name: str, now: datetime
) -> bytes:
    """The issuance request the card signs: canonical JSON (sorted keys, UTF-8)."""
    if row.sign_public_key is None or row.auth_public_key is None:
        raise IssuanceNotFoundError
    sign_digest = hashlib.sha256(row.sign_public_key).hexdigest()
    auth_digest = hashlib.sha256(row.auth_public_key).hexdigest()
    document = {
        "type": ISSUANCE_PROTOCOL,
        "procedure": {"code": ISSUANCE_PROCEDURE_CODE, "name": ISSUANCE_PROCEDURE_NAME},
        "municipality": {"code": "", "name": ISSUER_NAME},
        "applicant": {"name": applicant_name},
        "answers": [
            {
                "title": "発行するスマホ用電子証明書",
                "answers": [
                    ["申請番号", row.id],
                    ["署名用電子証明書の公開鍵 (SHA-256)", sign_digest],
                    ["利用者証明用電子証明書の公開鍵 (SHA-256)", auth_digest],
                ],
            }
        ],
        "data": {
            "issuance_id": row.id,
            "origin": origin,
            "sign_public_key": b64url(row.sign_public_key),
            "auth_public_key": b64url(row.auth_public_key),
            "unlock_credential_id": row.unlock_credential_id,
        },
        "attachments": [],
        "submission_key": row.id,
        "prepared_at": now.isoformat(timespec="seconds"),
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def attach_signing_request(
    *, session: Session, resident_id: int, issuance_id: str, request_id: str
) -> None:
    """Remember which signing request carries the issuance's request."""
    row = _pending(session, resident_id=resident_id, issuance_id=issuance_id, now=utcnow())
    row.signing_request_id = request_id
    session.flush()


@dataclass(frozen=True, slots=True)
class PhoneIssued:
    """The outcome of an issuance: the phone's certificates, DER."""

    credential_id: str
    sign_certificate: bytes
    auth_certificate: bytes


def complete_issuance(
    *,
    session: Session,
    settings: Settings,
    signing_request_id: str,
    document: dict[str, Any],
    signed: jpki.SignedContent,
    now: datetime | None = None,
) -> PhoneIssued:
    """Issue the phone's two certificates once the card signed the issuance request.

    The signer must be the card the resident logged in with (IssuanceCardMismatchError);
    the card must still be in force, and no other phone issued meanwhile. The phone's
    signing certificate carries the 4 info of the card's (its auth certificate none);
    neither outlasts the card's certificates.
    """
    now = now or utcnow()
    row = session.scalars(
        select(PhoneCredential).where(PhoneCredential.signing_request_id == signing_request_id)
    ).first()
    if row is None or row.status != PhoneStatus.PENDING.value:
        raise IssuanceNotFoundError
    if row.expires_at <= now:
        raise IssuanceExpiredError
    data = document.get("data", {})
    if (
        not isinstance(data, dict)
        or data.get("issuance_id") != row.id
        or row.sign_public_key is None
        or row.auth_public_key is None
        or data.get("sign_public_key") != b64url(row.sign_public_key)
        or data.get("auth_public_key") != b64url(row.auth_public_key)
    ):
        raise IssuanceNotFoundError
    signer = signed.certificate
    if (
        signer.holder_id != row.resident_id
        or signer.card_id != row.card_id
        or signer.medium is not jpki.CredentialMedium.CARD
    ):
        raise IssuanceCardMismatchError
    card = _card_in_force(session, row.card_id, now)
    if _active(session, row.resident_id) is not None:
        raise PhoneAlreadyIssuedError
    not_after = min(r.not_after for r in card)
    device_id = jpki_device_id(row.id)
    certificates = {}
    for kind, spki in ((PhoneKey.SIGN, row.sign_public_key), (PhoneKey.AUTH, row.auth_public_key)):
        public_key = serialization.load_der_public_key(spki)
        if not isinstance(public_key, rsa.RSAPublicKey):  # pragma: no cover - checked
            raise KeyPossessionError
        certificates[kind] = jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=jpki.CertificateKind(kind.value),
            public_key=public_key,
            holder_id=row.resident_id,
            card_id=device_id,
            birth_date=signed.basic_info.birth_date,
            basic_info=signed.basic_info if kind is PhoneKey.SIGN else None,
            now=now,
            not_after=not_after,
            medium=jpki.CredentialMedium.PHONE,
        )
    row.sign_serial = _hex(certificates[PhoneKey.SIGN].serial_number)
    row.auth_serial = _hex(certificates[PhoneKey.AUTH].serial_number)
    row.status = PhoneStatus.ACTIVE.value
    row.issued_at = now
    session.flush()
    log.info("phone.issued", phone=row.id)
    der = serialization.Encoding.DER
    return PhoneIssued(
        credential_id=row.id,
        sign_certificate=certificates[PhoneKey.SIGN].public_bytes(der),
        auth_certificate=certificates[PhoneKey.AUTH].public_bytes(der),
    )


def issuance_for_request(*, session: Session, signing_request_id: str) -> PhoneView | None:
    """The issuance a signing request carries, if it is one."""
    row = session.scalars(
        select(PhoneCredential).where(PhoneCredential.signing_request_id == signing_request_id)
    ).first()
    return None if row is None else _view(row)


def issuance(*, session: Session, resident_id: int, issuance_id: str) -> PhoneView:
    """One of the resident's issuances (another resident's is "not found")."""
    row = session.get(PhoneCredential, issuance_id) if len(issuance_id) <= 32 else None
    if row is None or row.resident_id != resident_id:
        raise IssuanceNotFoundError
    return _view(row)


def certificates(*, session: Session, resident_id: int, issuance_id: str) -> tuple[bytes, bytes]:
    """The phone's signing and auth certificates (DER), once issued, for its holder only."""
    row = session.get(PhoneCredential, issuance_id) if len(issuance_id) <= 32 else None
    if (
        row is None
        or row.resident_id != resident_id
        or row.sign_serial is None
        or row.auth_serial is None
    ):
        raise IssuanceNotFoundError
    return (
        jpki.certificate_der(session=session, serial=int(row.sign_serial, 16)),
        jpki.certificate_der(session=session, serial=int(row.auth_serial, 16)),
    )


def current(*, session: Session, resident_id: int) -> PhoneView | None:
    """The resident's phone credential in force, if any."""
    row = _active(session, resident_id)
    return None if row is None else _view(row)


# --- the unlock ---------------------------------------------------------------------------


def verify_unlock(
    *,
    session: Session,
    settings: Settings,
    certificate: jpki.VerifiedCertificate,
    to_be_signed: bytes,
    assertion: unlock.Assertion | None,
) -> None:
    """Require the phone's unlock for a phone certificate's signature over ``to_be_signed``.

    A card's certificate needs none (the card's PIN or password guarded it). For a
    phone's: a WebAuthn assertion with user verification, by the credential registered
    with this very phone, over :func:`unlock_challenge` of the signed bytes; the
    authenticator's counter is kept. Refused with UnlockRefusedError and its code.
    """
    if certificate.medium is not jpki.CredentialMedium.PHONE:
        return
    if assertion is None:
        raise UnlockRefusedError("unlock_required")
    serial = _hex(certificate.serial)
    column = (
        PhoneCredential.sign_serial
        if certificate.kind is jpki.CertificateKind.SIGN
        else PhoneCredential.auth_serial
    )
    row = session.scalars(select(PhoneCredential).where(column == serial).with_for_update()).first()
    if (
        row is None
        or row.status != PhoneStatus.ACTIVE.value
        or row.resident_id != certificate.holder_id
        or row.unlock_public_key is None
    ):
        raise PhoneCredentialNotFoundError
    if assertion.credential_id != row.unlock_credential_id:
        raise UnlockRefusedError("unlock_wrong_credential")
    row.unlock_sign_count = unlock.verify_assertion(
        settings,
        assertion,
        challenge=unlock_challenge(to_be_signed),
        public_key=row.unlock_public_key,
        sign_count=row.unlock_sign_count,
    )
    session.flush()


# --- revocation ---------------------------------------------------------------------------


def _revoke(session: Session, row: PhoneCredential, at: datetime) -> None:
    jpki.revoke_for_card(
        session=session,
        card_id=jpki_device_id(row.id),
        reason=jpki.RevocationReason.LOSS,
        at=at,
    )
    row.status = PhoneStatus.REVOKED.value
    row.revoked_at = at
    row.revocation_reason = jpki.RevocationReason.LOSS.value
    log.info("phone.revoked", phone=row.id)


def report_lost(*, session: Session, resident_id: int, now: datetime | None = None) -> PhoneView:
    """The resident reports their phone lost: both its certificates are revoked (loss)."""
    now = now or utcnow()
    row = _active(session, resident_id)
    if row is None:
        raise PhoneCredentialNotFoundError
    _revoke(session, row, now)
    session.flush()
    return _view(row)


def revoke_for_card(*, session: Session, card_id: str, now: datetime | None = None) -> int:
    """The card was reported lost: the phones issued from it lose their certificates too."""
    now = now or utcnow()
    rows = session.scalars(
        select(PhoneCredential).where(
            PhoneCredential.card_id == card_id,
            PhoneCredential.status.in_([PhoneStatus.ACTIVE.value, PhoneStatus.PENDING.value]),
        )
    ).all()
    for row in rows:
        if row.status == PhoneStatus.ACTIVE.value:
            _revoke(session, row, now)
        else:
            row.status = PhoneStatus.ABANDONED.value
    session.flush()
    return len(rows)
