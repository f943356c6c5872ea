"""The phone credential's JSON API (docs/phone-credential.md), for the phone app.

Issuance needs a portal session that logged in with the card: ``POST /api/phone/issuances``
starts it, ``POST /api/phone/issuances/{id}/keys`` takes the phone's keys and unlock and
opens the card's signing request, ``GET /api/phone/issuances/{id}`` tells when the
certificates are there and hands them over. ``POST /api/phone/revocations`` is the phone's
own report of loss, proven like a login (a challenge, the phone's auth key and its unlock).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field

from myna import cardlogin, jpki, phone
from myna.applications.resident_views import signing_link
from myna.cardlogin.domain import ChallengeStatus
from myna.cardlogin.web import CHALLENGE_ID_PATTERN
from myna.phone.schemas import RegistrationIn, UnlockIn
from myna.platform.api_errors import error_responses
from myna.platform.db import utcnow
from myna.platform.encoding import b64url, b64url_decode
from myna.platform.forms import SettingsDep
from myna.platform.ratelimit import Limit
from myna.platform.sessions import CurrentResident, SameOrigin
from myna.platform.web import client_address, transaction
from myna.portal.dependencies import LoginLimiterDep
from myna.portal.phone import request_signature

router = APIRouter(prefix="/api/phone", tags=["phone credential"])
ERRORS = error_responses(400, 401, 403, 404, 409, 410, 413, 422, 429)
IssuanceId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
_B64URL = r"^[A-Za-z0-9_-]+={0,2}$"


class IssuanceOut(BaseModel):
    """A started issuance: what the phone signs with its new keys and registers."""

    issuance_id: str
    origin: str
    nonce: str
    expires_at: datetime
    possession: dict[str, str] = Field(
        description="By key (sign, auth): the bytes the new key signs, base64url."
    )
    registration: dict[str, object] = Field(
        description="WebAuthn PublicKeyCredentialCreationOptions (JSON form)."
    )


class KeysIn(BaseModel):
    """The phone's two new public keys (SPKI DER), their proofs and its WebAuthn registration."""

    model_config = ConfigDict(extra="forbid")

    sign_public_key: str = Field(min_length=16, max_length=1024, pattern=_B64URL)
    sign_proof: str = Field(min_length=16, max_length=1024, pattern=_B64URL)
    auth_public_key: str = Field(min_length=16, max_length=1024, pattern=_B64URL)
    auth_proof: str = Field(min_length=16, max_length=1024, pattern=_B64URL)
    registration: RegistrationIn


class SigningOut(BaseModel):
    """The card's signing request over the issuance request."""

    request_id: str
    request_uri: str = Field(description="Where the card reader reads the request.")
    reader_link: str = Field(description="Opens the card reader on the request.")
    expires_at: datetime


class IssuanceStatusOut(BaseModel):
    """Where an issuance is; the certificates (DER, base64url) once issued."""

    status: Literal["pending", "active", "revoked", "abandoned"]
    sign_certificate: str | None = None
    auth_certificate: str | None = None


class PhoneOut(BaseModel):
    """The resident's phone credential in force."""

    credential_id: str
    issued_at: datetime | None
    sign_serial: str | None
    auth_serial: str | None


class RevocationIn(BaseModel):
    """The phone's own report of loss: a login challenge answered by the phone."""

    model_config = ConfigDict(extra="forbid")

    challenge_id: str = Field(pattern=CHALLENGE_ID_PATTERN)
    certificate: str = Field(min_length=16, max_length=8192, pattern=_B64URL)
    signature: str = Field(min_length=16, max_length=2048, pattern=_B64URL)
    unlock: UnlockIn


class RevokedOut(BaseModel):
    """The phone credential is revoked."""

    status: Literal["revoked"]


def _decode(value: str) -> bytes:
    try:
        return b64url_decode(value)
    except ValueError as exc:
        raise phone.KeyPossessionError from exc


def _login_serial(current: CurrentResident) -> int:
    serial = current.certificate_serial
    if serial is None or not serial.isdigit():
        raise phone.CardLoginRequiredError
    return int(serial)


@router.post(
    "/issuances",
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="Start issuing a phone credential from the card this session logged in with",
    dependencies=[SameOrigin],
)
def start_issuance(
    request: Request, settings: SettingsDep, current: CurrentResident
) -> IssuanceOut:
    with transaction(request) as db:
        started = phone.start_issuance(
            session=db,
            settings=settings,
            resident_id=current.resident_id,
            login_serial=_login_serial(current),
        )
    return IssuanceOut(
        issuance_id=started.issuance_id,
        origin=started.origin,
        nonce=started.nonce,
        expires_at=started.expires_at,
        possession={key.value: b64url(started.possession_message(key)) for key in phone.PhoneKey},
        registration=started.registration,
    )


@router.post(
    "/issuances/{issuance_id}/keys",
    responses=ERRORS,
    summary="Register the phone's keys and unlock; opens the card's signing request",
    dependencies=[SameOrigin],
)
def register_keys(
    request: Request,
    issuance_id: IssuanceId,
    body: KeysIn,
    settings: SettingsDep,
    current: CurrentResident,
) -> SigningOut:
    keys = {
        phone.PhoneKey.SIGN: (_decode(body.sign_public_key), _decode(body.sign_proof)),
        phone.PhoneKey.AUTH: (_decode(body.auth_public_key), _decode(body.auth_proof)),
    }
    with transaction(request) as db:
        signing = request_signature(
            session=db,
            settings=settings,
            resident_id=current.resident_id,
            issuance_id=issuance_id,
            keys=keys,
            attestation=body.registration.attestation(),
        )
    portal = settings.portal_url.rstrip("/")
    return SigningOut(
        request_id=signing.request_id,
        request_uri=f"{portal}/api/signing-requests/{signing.request_id}",
        reader_link=signing_link(settings.reader_url, settings.portal_url, signing.request_id),
        expires_at=signing.expires_at,
    )


@router.get(
    "/issuances/{issuance_id}",
    responses=ERRORS,
    summary="Where an issuance is; the phone's certificates once issued",
)
def issuance_status(
    request: Request, issuance_id: IssuanceId, current: CurrentResident
) -> IssuanceStatusOut:
    with transaction(request) as db:
        view = phone.issuance(session=db, resident_id=current.resident_id, issuance_id=issuance_id)
        if view.status is not phone.PhoneStatus.ACTIVE:
            return IssuanceStatusOut(status=view.status.value)
        sign, auth = phone.certificates(
            session=db, resident_id=current.resident_id, issuance_id=issuance_id
        )
    return IssuanceStatusOut(
        status="active", sign_certificate=b64url(sign), auth_certificate=b64url(auth)
    )


@router.get("/credential", responses=ERRORS, summary="The resident's phone credential in force")
def current_credential(request: Request, current: CurrentResident) -> PhoneOut:
    with transaction(request) as db:
        view = phone.current(session=db, resident_id=current.resident_id)
    if view is None:
        raise phone.PhoneCredentialNotFoundError
    return PhoneOut(
        credential_id=view.id,
        issued_at=view.issued_at,
        sign_serial=str(view.sign_serial) if view.sign_serial is not None else None,
        auth_serial=str(view.auth_serial) if view.auth_serial is not None else None,
    )


@router.post(
    "/credential/lost",
    responses=ERRORS,
    summary="Report the phone lost from the portal: its certificates are revoked",
    dependencies=[SameOrigin],
)
def report_lost(request: Request, current: CurrentResident) -> RevokedOut:
    with transaction(request) as db:
        phone.report_lost(session=db, resident_id=current.resident_id)
    return RevokedOut(status="revoked")


@router.post(
    "/revocations",
    responses=ERRORS,
    summary="The phone reports itself lost: a login challenge answered with its key and unlock",
)
def revoke_by_phone(
    request: Request, body: RevocationIn, settings: SettingsDep, limiter: LoginLimiterDep
) -> RevokedOut:
    limiter.hit(Limit.LOGIN, client_address(request))
    try:
        certificate = b64url_decode(body.certificate)
        signature = b64url_decode(body.signature)
    except ValueError as exc:
        raise jpki.VerificationError("malformed_certificate") from exc
    now = utcnow()
    with transaction(request) as db:
        answer = cardlogin.verify_answer(
            session=db,
            settings=settings,
            challenge_id=body.challenge_id,
            certificate_der=certificate,
            signature=signature,
            at=now,
            unlock=body.unlock.assertion(),
        )
        if answer.certificate.medium is not jpki.CredentialMedium.PHONE:
            raise phone.PhoneCredentialNotFoundError
        cardlogin.accept_answer(session=db, answer=answer, status=ChallengeStatus.COMPLETED, at=now)
        phone.report_lost(session=db, resident_id=answer.certificate.holder_id)
    return RevokedOut(status="revoked")
