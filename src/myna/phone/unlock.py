"""The phone's unlock: WebAuthn (L3) registration and assertions, verified with py_webauthn.

A real phone keeps the JPKI keys in its secure element and lets them sign only after the
OS's biometric or PIN check. The stand-in phone app cannot reach such an element, so the
check is WebAuthn's user verification (UV, §6.2.3): a platform authenticator's credential
registered at issuance, and for every use of the phone's keys a fresh assertion with UV
over a challenge bound to what the keys sign (:func:`myna.phone.domain.unlock_challenge`),
verified here before the portal accepts the JPKI signature. The origin and the relying
party id come from the settings (the portal's URL and its host name).

The client data and the authenticator data flags are read first, so that a wrong
origin, another challenge or a missing UV each get their own code; py_webauthn then does
the whole verification (§7.1 registration, §7.2 assertion).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorAssertionResponse,
    AuthenticatorAttachment,
    AuthenticatorAttestationResponse,
    AuthenticatorSelectionCriteria,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from myna.phone.domain import RP_NAME, RegistrationRefusedError, UnlockRefusedError
from myna.platform.encoding import b64url, b64url_decode
from myna.platform.settings import Settings

# Authenticator data: rpIdHash (32), flags (1), signCount (4) — WebAuthn L3 §6.1.
_FLAGS_AT = 32
_COUNTER_AT = 33
_MIN_AUTHENTICATOR_DATA = 37
FLAG_USER_PRESENT = 0x01
FLAG_USER_VERIFIED = 0x04


@dataclass(frozen=True, slots=True)
class Assertion:
    """A WebAuthn assertion as the phone app sends it (``navigator.credentials.get``)."""

    credential_id: str  # base64url
    client_data_json: bytes
    authenticator_data: bytes
    signature: bytes
    user_handle: bytes | None = None


@dataclass(frozen=True, slots=True)
class Attestation:
    """A WebAuthn registration as the phone app sends it (``navigator.credentials.create``)."""

    credential_id: str  # base64url
    client_data_json: bytes
    attestation_object: bytes


@dataclass(frozen=True, slots=True)
class RegisteredUnlock:
    """What is kept of a verified registration."""

    credential_id: str
    public_key: bytes
    sign_count: int


def relying_party(settings: Settings) -> tuple[str, str]:
    """The expected origin and the relying party id: the portal's URL and its host."""
    origin = settings.portal_url.rstrip("/")
    return origin, urlsplit(origin).hostname or ""


def registration_options(
    settings: Settings, *, challenge: bytes, user_id: bytes, user_name: str
) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptions`` (JSON form) for the phone's platform authenticator.

    A platform authenticator (the phone itself), user verification required, a
    discoverable credential preferred, no attestation: the phone is trusted as the card
    holder's because the card signs the issuance, not because of its make.
    """
    _, rp_id = relying_party(settings)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_id=user_id,
        user_name=user_name,
        user_display_name=user_name,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            authenticator_attachment=AuthenticatorAttachment.PLATFORM,
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
    )
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def _client_data(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnlockRefusedError("unlock_malformed") from exc
    if not isinstance(data, dict):
        raise UnlockRefusedError("unlock_malformed")
    return data


def _check_client_data(
    client_data: dict[str, Any], *, kind: str, origin: str, challenge: bytes
) -> None:
    """The collected client data (§5.8.1): its type, origin and challenge."""
    if client_data.get("type") != kind:
        raise UnlockRefusedError("unlock_malformed")
    if client_data.get("origin") != origin:
        raise UnlockRefusedError("unlock_wrong_origin")
    if client_data.get("challenge") != b64url(challenge):
        raise UnlockRefusedError("unlock_wrong_challenge")


def _flags(authenticator_data: bytes) -> int:
    if len(authenticator_data) < _MIN_AUTHENTICATOR_DATA:
        raise UnlockRefusedError("unlock_malformed")
    return authenticator_data[_FLAGS_AT]


def verify_registration(
    settings: Settings, attestation: Attestation, *, challenge: bytes
) -> RegisteredUnlock:
    """Verify the registration made at issuance (§7.1), user verification required."""
    origin, rp_id = relying_party(settings)
    try:
        _check_client_data(
            _client_data(attestation.client_data_json),
            kind="webauthn.create",
            origin=origin,
            challenge=challenge,
        )
        raw_id = b64url_decode(attestation.credential_id)
    except (UnlockRefusedError, ValueError) as exc:
        raise RegistrationRefusedError from exc
    credential = RegistrationCredential(
        id=attestation.credential_id,
        raw_id=raw_id,
        response=AuthenticatorAttestationResponse(
            client_data_json=attestation.client_data_json,
            attestation_object=attestation.attestation_object,
        ),
    )
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise RegistrationRefusedError from exc
    return RegisteredUnlock(
        credential_id=b64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
    )


def verify_assertion(
    settings: Settings,
    assertion: Assertion,
    *,
    challenge: bytes,
    public_key: bytes,
    sign_count: int,
) -> int:
    """Verify an unlock (§7.2) with UV over ``challenge``; the authenticator's new counter.

    Refused with its own code: another origin, another challenge, no user verification,
    a counter that did not move on (a copied authenticator, §6.1.1), a bad signature.
    """
    origin, rp_id = relying_party(settings)
    _check_client_data(
        _client_data(assertion.client_data_json),
        kind="webauthn.get",
        origin=origin,
        challenge=challenge,
    )
    flags = _flags(assertion.authenticator_data)
    if not flags & FLAG_USER_VERIFIED:
        raise UnlockRefusedError("unlock_no_user_verification")
    counter = int.from_bytes(
        assertion.authenticator_data[_COUNTER_AT:_MIN_AUTHENTICATOR_DATA], "big"
    )
    if (counter or sign_count) and counter <= sign_count:
        raise UnlockRefusedError("unlock_replayed")
    try:
        raw_id = b64url_decode(assertion.credential_id)
        verified = verify_authentication_response(
            credential=AuthenticationCredential(
                id=assertion.credential_id,
                raw_id=raw_id,
                response=AuthenticatorAssertionResponse(
                    client_data_json=assertion.client_data_json,
                    authenticator_data=assertion.authenticator_data,
                    signature=assertion.signature,
                    user_handle=assertion.user_handle,
                ),
            ),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise UnlockRefusedError("unlock_bad_signature") from exc
    return verified.new_sign_count
