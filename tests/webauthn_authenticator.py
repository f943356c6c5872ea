"""A software WebAuthn platform authenticator for tests (ES256, "none" attestation).

It builds what a browser hands the phone app, byte for byte as WebAuthn L3 lays it out:
the collected client data (§5.8.1), the authenticator data (§6.1) with the attested
credential data at registration (§6.5.1) and the assertion signature over the
authenticator data and the client data's hash (§6.3.3). The knobs (origin, user
verification, counter) make each refusal of the server reproducible.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from myna.platform.encoding import b64url

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40


@dataclass
class SoftAuthenticator:
    """One platform authenticator holding one credential for ``rp_id``."""

    rp_id: str
    origin: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    counter: int = 0

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, kind: str, challenge: bytes, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": b64url(challenge),
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def _auth_data(self, flags: int, extra: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + self.counter.to_bytes(4, "big") + extra

    def register(
        self, challenge: bytes, *, origin: str | None = None, verified: bool = True
    ) -> dict[str, Any]:
        """``navigator.credentials.create()``'s answer, as the phone app sends it."""
        attested = (
            bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id
        ) + self._cose_key()
        flags = FLAG_UP | FLAG_AT | (FLAG_UV if verified else 0)
        attestation = cbor2.dumps(
            {"fmt": "none", "attStmt": {}, "authData": self._auth_data(flags, attested)}
        )
        return {
            "credential_id": b64url(self.credential_id),
            "client_data_json": b64url(self._client_data("webauthn.create", challenge, origin)),
            "attestation_object": b64url(attestation),
        }

    def assert_(
        self,
        challenge: bytes,
        *,
        origin: str | None = None,
        verified: bool = True,
        step: int = 1,
    ) -> dict[str, Any]:
        """``navigator.credentials.get()``'s answer (the counter moves on by ``step``)."""
        self.counter += step
        client_data = self._client_data("webauthn.get", challenge, origin)
        auth_data = self._auth_data(FLAG_UP | (FLAG_UV if verified else 0))
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "credential_id": b64url(self.credential_id),
            "client_data_json": b64url(client_data),
            "authenticator_data": b64url(auth_data),
            "signature": b64url(signature),
        }
