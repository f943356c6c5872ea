"""The log's signing keys: ES256 (ECDSA P-256, SHA-256) and ML-DSA-65 JWS over tree heads.

RFC 9162 §4.9–§4.10 has the log sign each tree head; Myna carries the signature as a
JWS compact serialization (RFC 7515 §7.1) with ``alg`` ES256 (RFC 7518 §3.4) and
``kid`` the key's RFC 7638 JWK thumbprint, so anyone with a JOSE library and the
published public JWK can check a head.

A second, post-quantum signature (ML-DSA-65, FIPS 204) is made over the same payload
(docs/adr/0010-post-quantum-signatures.md): a JWS compact serialization with ``alg``
``ML-DSA-65`` and the key published as a JWK of key type ``AKP`` (``pub``: the raw public
key), as the JOSE drafts for ML-DSA define them. No JOSE library here signs with ML-DSA
yet, so those few lines are written by hand over ``cryptography``'s ML-DSA. Which
signatures a verifier requires is its policy: ``classic`` (ES256), ``hybrid`` (both) or
``post-quantum`` (ML-DSA-65).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from myna.network.transparency.domain import (
    ProofVerificationError,
    SignedTreeHead,
    canonical_json,
    tree_head_payload,
)
from myna.platform.encoding import b64, b64url, b64url_decode
from myna.platform.errors import N_

ALGORITHM = "ES256"
PQ_ALGORITHM = "ML-DSA-65"
PQ_KEY_TYPE = "AKP"
COSIGNATURE_TYPE = "tree-head-cosignature+jws"
POLICIES = ("classic", "hybrid", "post-quantum")


@dataclass(frozen=True)
class PqSigner:
    """The log's ML-DSA-65 key (FIPS 204): the second signature of each tree head."""

    key: mldsa.MLDSA65PrivateKey

    @classmethod
    def generate(cls) -> PqSigner:
        """A fresh ML-DSA-65 key."""
        return cls(mldsa.MLDSA65PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> PqSigner:
        """Load an ML-DSA-65 private key from PKCS#8 PEM."""
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, mldsa.MLDSA65PrivateKey):
            msg = "the log's post-quantum key must be an ML-DSA-65 private key"
            raise ValueError(msg)
        return cls(key)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (keep it secret)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public(self) -> PqPublicKey:
        """The public half, as verifiers hold it."""
        return PqPublicKey(self.key.public_key())

    def sign(self, payload: bytes) -> str:
        """A compact JWS over ``payload`` with ``alg`` ML-DSA-65 and the key's ``kid``."""
        header = canonical_json({"alg": PQ_ALGORITHM, "kid": self.public.key_id})
        signing_input = f"{b64url(header)}.{b64url(payload)}".encode("ascii")
        return f"{signing_input.decode('ascii')}.{b64url(self.key.sign(signing_input))}"


@dataclass(frozen=True)
class PqPublicKey:
    """An ML-DSA-65 public key, published as an ``AKP`` JWK."""

    key: mldsa.MLDSA65PublicKey

    def _raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        """RFC 7638 thumbprint over the key type's required members (alg, kty, pub)."""
        members = {"alg": PQ_ALGORITHM, "kty": PQ_KEY_TYPE, "pub": b64url(self._raw())}
        return b64url(hashlib.sha256(canonical_json(members)).digest())

    @property
    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK, with its ``kid`` and ``use``."""
        return {
            "kty": PQ_KEY_TYPE,
            "alg": PQ_ALGORITHM,
            "pub": b64url(self._raw()),
            "kid": self.key_id,
            "use": "sig",
        }

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PqPublicKey:
        """Read an ``AKP`` ML-DSA-65 JWK; anything else is refused."""
        try:
            if jwk.get("kty") != PQ_KEY_TYPE or jwk.get("alg") != PQ_ALGORITHM:
                raise ValueError(jwk.get("kty"))
            raw = b64url_decode(str(jwk["pub"]))
            return cls(mldsa.MLDSA65PublicKey.from_public_bytes(raw))
        except (KeyError, ValueError, TypeError) as error:
            raise ProofVerificationError(
                reason=N_("the post-quantum public key is not an ML-DSA-65 JWK")
            ) from error

    def verify(self, token: str, payload: bytes) -> None:
        """Check a compact ML-DSA-65 JWS over exactly ``payload`` by this key."""
        invalid = ProofVerificationError(
            reason=N_("the tree head's ML-DSA-65 signature is not valid")
        )
        parts = token.split(".")
        if len(parts) != 3:
            raise invalid
        try:
            header = json.loads(b64url_decode(parts[0]))
            signed_payload = b64url_decode(parts[1])
            signature = b64url_decode(parts[2])
        except ValueError as error:
            raise invalid from error
        if not isinstance(header, dict) or header.get("alg") != PQ_ALGORITHM:
            raise invalid
        if header.get("kid") != self.key_id:
            raise ProofVerificationError(reason=N_("the tree head was signed with another key"))
        if signed_payload != payload:
            raise ProofVerificationError(reason=N_("the signature covers other tree head fields"))
        try:
            self.key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
        except InvalidSignature as error:
            raise invalid from error


@dataclass(frozen=True)
class LogSigner:
    """The log's private key; ``key_id`` and ``public_jwk`` are what verifiers need."""

    key: ECKey
    pq: PqSigner | None = None

    @classmethod
    def generate(cls) -> LogSigner:
        """A fresh P-256 key and a fresh ML-DSA-65 key."""
        return cls(ECKey.generate_key("P-256"), PqSigner.generate())

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
            pq_signature=None if self.pq is None else self.pq.sign(payload),
        )

    @property
    def public_jwks(self) -> list[dict[str, Any]]:
        """Every public key of the log: ES256 first, then ML-DSA-65 when it has one."""
        keys = [self.public_jwk]
        if self.pq is not None:
            keys.append(self.pq.public.jwk)
        return keys


def public_key(jwk: Mapping[str, Any]) -> ECKey:
    """Read the log's public key from a JWK (only P-256 EC keys are accepted)."""
    try:
        key = ECKey.import_key(dict(jwk))
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ProofVerificationError(reason=N_("the public key is not a P-256 JWK")) from error
    if key.curve_name != "P-256":
        raise ProofVerificationError(reason=N_("the public key is not a P-256 JWK"))
    return key


def _verify_classic(head: SignedTreeHead, key: ECKey) -> None:
    try:
        signed = jws.deserialize_compact(head.signature, key, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as error:
        raise ProofVerificationError(reason=N_("the tree head's signature is not valid")) from error
    if signed.protected.get("kid") != head.key_id or head.key_id != key.thumbprint():
        raise ProofVerificationError(reason=N_("the tree head was signed with another key"))
    if signed.payload != head.payload():
        raise ProofVerificationError(reason=N_("the signature covers other tree head fields"))


def verify_tree_head(
    head: SignedTreeHead,
    key: ECKey,
    *,
    pq_key: PqPublicKey | None = None,
    policy: str = "classic",
) -> None:
    """Check a head's signatures as ``policy`` requires, each over exactly the head's fields.

    ``classic``: the ES256 signature. ``hybrid``: ES256 and ML-DSA-65, both present and
    valid. ``post-quantum``: ML-DSA-65 (the ES256 one is not relied on).
    """
    if policy not in POLICIES:
        msg = f"unknown signature policy {policy!r}"
        raise ValueError(msg)
    if policy != "post-quantum":
        _verify_classic(head, key)
    if policy == "classic":
        return
    if head.pq_signature is None:
        raise ProofVerificationError(reason=N_("the tree head has no ML-DSA-65 signature"))
    if pq_key is None:
        raise ProofVerificationError(reason=N_("no ML-DSA-65 key of the log is known"))
    pq_key.verify(head.pq_signature, head.payload())


@dataclass(frozen=True)
class LogPublicKeys:
    """What a verifier holds of the log: its ES256 key and, once published, its ML-DSA-65 key."""

    classic: ECKey
    pq: PqPublicKey | None = None

    @classmethod
    def from_document(cls, document: object) -> LogPublicKeys:
        """Read a JWK (the ES256 key alone) or the JWK Set of ``/transparency/keys``."""
        if not isinstance(document, Mapping):
            raise ProofVerificationError(reason=N_("the public key is not a P-256 JWK"))
        listed = document.get("keys")
        if not isinstance(listed, list):
            return cls(public_key(document))
        classic = [k for k in listed if isinstance(k, Mapping) and k.get("kty") == "EC"]
        pq = [k for k in listed if isinstance(k, Mapping) and k.get("kty") == PQ_KEY_TYPE]
        if len(classic) != 1 or len(pq) > 1:
            raise ProofVerificationError(reason=N_("the public key is not a P-256 JWK"))
        return cls(public_key(classic[0]), PqPublicKey.from_jwk(pq[0]) if pq else None)

    def verify(self, head: SignedTreeHead, policy: str = "classic") -> None:
        """:func:`verify_tree_head` with these keys."""
        verify_tree_head(head, self.classic, pq_key=self.pq, policy=policy)


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
