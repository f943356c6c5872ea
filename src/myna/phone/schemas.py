"""The phone's unlock in JSON: what a login answer or a signature carries beside the JPKI part."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from myna.phone.domain import MAX_CREDENTIAL_ID, UnlockRefusedError
from myna.phone.unlock import Assertion, Attestation
from myna.platform.encoding import b64url_decode

_B64URL = r"^[A-Za-z0-9_-]+={0,2}$"


def _bytes(value: str) -> bytes:
    try:
        return b64url_decode(value)
    except ValueError as exc:
        raise UnlockRefusedError("unlock_malformed") from exc


class UnlockIn(BaseModel):
    """A WebAuthn assertion (``AuthenticatorAssertionResponse``), each part base64url.

    Required with a phone credential's certificate (docs/phone-credential.md): the
    challenge is SHA-256 of ``myna-phone-unlock-v1``, a line feed and the bytes the
    phone's key signs; the authenticator must report user verification.
    """

    model_config = ConfigDict(extra="forbid")

    credential_id: str = Field(min_length=16, max_length=MAX_CREDENTIAL_ID, pattern=_B64URL)
    client_data_json: str = Field(min_length=16, max_length=4096, pattern=_B64URL)
    authenticator_data: str = Field(min_length=16, max_length=4096, pattern=_B64URL)
    signature: str = Field(min_length=16, max_length=2048, pattern=_B64URL)
    user_handle: str | None = Field(default=None, max_length=128, pattern=_B64URL)

    def assertion(self) -> Assertion:
        """The decoded assertion (UnlockRefusedError ``unlock_malformed`` if it is not)."""
        return Assertion(
            credential_id=self.credential_id.rstrip("="),
            client_data_json=_bytes(self.client_data_json),
            authenticator_data=_bytes(self.authenticator_data),
            signature=_bytes(self.signature),
            user_handle=_bytes(self.user_handle) if self.user_handle else None,
        )


class RegistrationIn(BaseModel):
    """A WebAuthn registration (``AuthenticatorAttestationResponse``), each part base64url."""

    model_config = ConfigDict(extra="forbid")

    credential_id: str = Field(min_length=16, max_length=MAX_CREDENTIAL_ID, pattern=_B64URL)
    client_data_json: str = Field(min_length=16, max_length=4096, pattern=_B64URL)
    attestation_object: str = Field(min_length=16, max_length=16384, pattern=_B64URL)

    def attestation(self) -> Attestation:
        """The decoded registration."""
        return Attestation(
            credential_id=self.credential_id.rstrip("="),
            client_data_json=_bytes(self.client_data_json),
            attestation_object=_bytes(self.attestation_object),
        )
