"""The log's signing key: ES256 (ECDSA P-256, SHA-256) JWS over tree heads.

RFC 9162 §4.9–§4.10 has the log sign each tree head; Myna carries the signature as a
JWS compact serialization (RFC 7515 §7.1) with ``alg`` ES256 (RFC 7518 §3.4) and
``kid`` the key's RFC 7638 JWK thumbprint, so anyone with a JOSE library and the
published public JWK can check a head.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from myna.network.transparency.domain import (
    ProofVerificationError,
    SignedTreeHead,
    canonical_json,
    tree_head_payload,
)
from myna.platform.encoding import b64
from myna.platform.errors import N_

ALGORITHM = "ES256"
COSIGNATURE_TYPE = "tree-head-cosignature+jws"


@dataclass(frozen=True)
class LogSigner:
    """The log's private key; ``key_id`` and ``public_jwk`` are what verifiers need."""

    key: ECKey

    @classmethod
    def generate(cls) -> LogSigner:
        """A fresh P-256 key."""
        return cls(ECKey.generate_key("P-256"))

    @classmethod
    def from_pem(cls, pem: bytes | str) -> LogSigner:
        """Load a P-256 private key from PEM (PKCS#8 or SEC 1)."""
        key = ECKey.import_key(pem)
        if key.curve_name != "P-256" or not key.is_private:
            msg = "the log key must be a P-256 private key"
            raise ValueError(msg)
        return cls(key)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (keep it secret)."""
        return self.key.as_pem(private=True)

    @property
    def key_id(self) -> str:
        """RFC 7638 JWK thumbprint of the public key."""
        return self.key.thumbprint()

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK, with its ``kid``, ``alg`` and ``use``."""
        jwk: dict[str, Any] = dict(self.key.as_dict(private=False))
        jwk.update({"kid": self.key_id, "alg": ALGORITHM, "use": "sig"})
        return jwk

    def sign_tree_head(self, *, tree_size: int, timestamp: int, root_hash: bytes) -> SignedTreeHead:
        """Sign ``{tree_size, timestamp, root_hash}`` (RFC 9162 §4.10)."""
        payload = tree_head_payload(tree_size=tree_size, timestamp=timestamp, root_hash=root_hash)
        signature = jws.serialize_compact({"alg": ALGORITHM, "kid": self.key_id}, payload, self.key)
        return SignedTreeHead(
            tree_size=tree_size,
            timestamp=timestamp,
            root_hash=root_hash,
            key_id=self.key_id,
            signature=signature,
        )


def public_key(jwk: Mapping[str, Any]) -> ECKey:
    """Read the log's public key from a JWK (only P-256 EC keys are accepted)."""
    try:
        key = ECKey.import_key(dict(jwk))
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ProofVerificationError(reason=N_("the public key is not a P-256 JWK")) from error
    if key.curve_name != "P-256":
        raise ProofVerificationError(reason=N_("the public key is not a P-256 JWK"))
    return key


def verify_tree_head(head: SignedTreeHead, key: ECKey) -> None:
    """Check a head's JWS signature and that it signs exactly the head's fields."""
    try:
        signed = jws.deserialize_compact(head.signature, key, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as error:
        raise ProofVerificationError(reason=N_("the tree head's signature is not valid")) from error
    if signed.protected.get("kid") != head.key_id or head.key_id != key.thumbprint():
        raise ProofVerificationError(reason=N_("the tree head was signed with another key"))
    if signed.payload != head.payload():
        raise ProofVerificationError(reason=N_("the signature covers other tree head fields"))


def cosignature_payload(*, head: SignedTreeHead, log_key_id: str, witnessed_at: int) -> bytes:
    """The bytes a witness signs: the head's fields, the log key's id, when it was seen."""
    return canonical_json(
        {
            "log_key_id": log_key_id,
            "root_hash": b64(head.root_hash),
            "timestamp": head.timestamp,
            "tree_size": head.tree_size,
            "witnessed_at": witnessed_at,
        }
    )


def verify_cosignature(*, cosignature: str, head: SignedTreeHead, witness_key: ECKey) -> int:
    """Check a witness's cosignature of ``head``; return when it was witnessed (ms)."""
    try:
        signed = jws.deserialize_compact(cosignature, witness_key, algorithms=[ALGORITHM])
        claims = json.loads(signed.payload)
    except (JoseError, ValueError) as error:
        raise ProofVerificationError(reason=N_("the cosignature is not valid")) from error
    if signed.protected.get("kid") != witness_key.thumbprint() or not isinstance(claims, dict):
        raise ProofVerificationError(reason=N_("the cosignature is from another witness"))
    witnessed_at = claims.get("witnessed_at")
    if not isinstance(witnessed_at, int) or signed.payload != cosignature_payload(
        head=head, log_key_id=head.key_id, witnessed_at=witnessed_at
    ):
        raise ProofVerificationError(reason=N_("the cosignature is for another tree head"))
    return witnessed_at
