"""JWS Compact Serialization (RFC 7515 `Section 7.1`_), read within bounds, with joserfc.

A client assertion or a DPoP proof is read twice: once unverified, to learn whose key
should have signed it (``iss`` and ``kid``, or the ``jwk`` header), and once to verify
the signature with that key. Both go through :data:`REGISTRY`, which admits only the
asymmetric algorithms the platform accepts (``none`` and HMAC never verify anything,
so a public key can never serve as an HMAC secret) and small headers and payloads.

.. _`Section 7.1`: https://www.rfc-editor.org/rfc/rfc7515#section-7.1
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from joserfc.jws import CompactSignature, JWSRegistry

# FAPI 2.0 Security Profile §5.4: PS256, ES256 (and EdDSA) only; the platform takes the
# first two, with RSA keys (RFC 7518 §3.5) and P-256 keys (RFC 7518 §3.4).
SIGNING_ALGORITHMS = ("PS256", "ES256")
KEY_TYPE_FOR_ALGORITHM: dict[str, type[ECKey] | type[RSAKey]] = {
    "PS256": RSAKey,
    "ES256": ECKey,
}
# A JWT of one request: its compact form is refused beyond this before it is parsed.
MAX_COMPACT_BYTES = 8192


class _Registry(JWSRegistry):
    # A DPoP header carries the public key; an RSA key of 4096 bits is about 700 bytes.
    max_header_length = 2048
    max_payload_length = 2048


REGISTRY = _Registry(algorithms=list(SIGNING_ALGORITHMS))


def parse(token: str) -> CompactSignature:
    """The unverified header and payload; ``ValueError`` if ``token`` is not a compact
    JWS of reasonable size."""
    if len(token) > MAX_COMPACT_BYTES:
        msg = "the JWS is too long"
        raise ValueError(msg)
    try:
        return jws.extract_compact(token.encode("ascii"), registry=REGISTRY)
    except (JoseError, UnicodeEncodeError) as exc:
        raise ValueError(str(exc)) from exc


def claims(compact: CompactSignature) -> dict[str, Any]:
    """The payload as a JWT Claims Set (RFC 7519 §7.2 item 10): a JSON object, or
    ``ValueError``."""
    try:
        value = json.loads(compact.payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from exc
    if not isinstance(value, dict):
        msg = "the payload is not a JSON object"
        raise ValueError(msg)
    return value


def verified_by(
    token: str, keys: Iterable[ECKey | RSAKey], algorithm: str
) -> ECKey | RSAKey | None:
    """The first of ``keys`` whose signature over ``token`` verifies with ``algorithm``
    (`Section 5.2`_), or None. The caller has already checked ``algorithm``.

    .. _`Section 5.2`: https://www.rfc-editor.org/rfc/rfc7515#section-5.2
    """
    for key in keys:
        try:
            jws.deserialize_compact(token, key, algorithms=[algorithm], registry=REGISTRY)
        except (JoseError, ValueError):
            continue
        return key
    return None
