"""The public keys the platform's algorithms accept (RFC 7518 §3.4, §3.5, §6).

One rule for every key a client gives the platform, whether it registers it (a
partner organisation's JWKS, a municipality's API client) or sends it in a DPoP proof's
``jwk`` header: a public key only, EC on P-256 (`Section 6.2.1.1`_; what ES256 is defined
over, `Section 3.4`_) or RSA with a modulus of 2048 bits at least (`Section 3.5`_ "MUST"
for PS256) and 8192 at most (larger keys only make every check slower). The size is read
from ``n`` before the key is imported: the library merely warns about a small key.

.. _`Section 3.4`: https://www.rfc-editor.org/rfc/rfc7518#section-3.4
.. _`Section 3.5`: https://www.rfc-editor.org/rfc/rfc7518#section-3.5
.. _`Section 6.2.1.1`: https://www.rfc-editor.org/rfc/rfc7518#section-6.2.1.1
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from myna.platform.encoding import b64url_decode
from myna.platform.errors import N_, MynaError

EC_CURVE = "P-256"
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
KEY_TYPES = ("EC", "RSA")
# Members only a private (§6.2.2, §6.3.2) or symmetric (§6.4) key has.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_PUBLIC_MEMBERS = {"EC": ("kty", "crv", "x", "y"), "RSA": ("kty", "n", "e")}


class UnacceptableKeyError(MynaError, code="invalid_key"):
    """A JWK the platform does not accept; the subclass says why."""

    message = N_("the key is not a valid public key")


class PrivateKeyError(UnacceptableKeyError):
    message = N_("the key must be a public key, without a private or secret part")


class KeyTypeError(UnacceptableKeyError):
    message = N_("the key type is not allowed")


class CurveError(UnacceptableKeyError):
    message = N_("an EC key must be on the curve P-256")


class KeySizeError(UnacceptableKeyError):
    message = N_("an RSA key must have 2048 to 8192 bits")


def rsa_bits(modulus: Any) -> int:
    """The bit length of a base64url RSA modulus ``n`` (0 when it is not one)."""
    # 8192 bits are 1366 characters: anything much longer is not worth decoding.
    if not isinstance(modulus, str) or len(modulus) > MAX_RSA_BITS // 4:
        return 0
    try:
        return int.from_bytes(b64url_decode(modulus), "big").bit_length()
    except ValueError:
        return 0


def check_rsa_size(jwk: Mapping[str, Any]) -> None:
    """An RSA JWK's modulus is 2048 to 8192 bits long, or :class:`KeySizeError`."""
    if not MIN_RSA_BITS <= rsa_bits(jwk.get("n")) <= MAX_RSA_BITS:
        raise KeySizeError


def check_ec_curve(jwk: Mapping[str, Any]) -> None:
    """An EC JWK is on P-256, or :class:`CurveError`."""
    if jwk.get("crv") != EC_CURVE:
        raise CurveError


def public_key(jwk: Any, *, key_types: Collection[str] = KEY_TYPES) -> ECKey | RSAKey:
    """``jwk`` imported from its public members, if it is a key the platform accepts.

    Other members (``kid``, ``use``, ``alg``...) are the caller's to check and keep.
    """
    if not isinstance(jwk, Mapping):
        raise UnacceptableKeyError
    if PRIVATE_MEMBERS & set(jwk):
        raise PrivateKeyError
    kty = jwk.get("kty")
    if kty not in key_types or kty not in _PUBLIC_MEMBERS:
        raise KeyTypeError
    if kty == "EC":
        check_ec_curve(jwk)
    else:
        check_rsa_size(jwk)
    try:
        members = {name: jwk[name] for name in _PUBLIC_MEMBERS[kty]}
        key = ECKey.import_key(members) if kty == "EC" else RSAKey.import_key(members)
    except (JoseError, KeyError, ValueError, TypeError) as exc:
        # The library checks the rest: the point is on the curve, the members decode.
        raise UnacceptableKeyError from exc
    return key
