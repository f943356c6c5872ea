"""DPoP: proof of possession of a client's key (RFC 9449).

Authlib has no DPoP; :func:`verify_proof` checks a proof as `Section 4.3`_ lists, with
joserfc for the JWS, and :func:`remember_proof` makes the replay check (item 10) through
the caller's table of seen ``jti`` values. A code or an access token is bound to the
key by its RFC 7638 thumbprint (``jkt``, `Section 6.1`_).

.. _`Section 4.3`: https://www.rfc-editor.org/rfc/rfc9449#section-4.3
.. _`Section 6.1`: https://www.rfc-editor.org/rfc/rfc9449#section-6.1
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from joserfc.jwk import ECKey, RSAKey

from myna.platform.encoding import b64url_sha256
from myna.platform.errors import N_
from myna.platform.oauth import rfc7515, rfc7518, rfc7519, rfc7638
from myna.platform.oauth.errors import InvalidDPoPProofError
from myna.platform.oauth.rfc7519 import Remember

DPOP_TYPE = "dpop+jwt"
# Section 11.1: a short window, so remembered jtis can be forgotten soon after.
MAX_PROOF_AGE = timedelta(seconds=60)
MAX_PROOF_BYTES = rfc7515.MAX_COMPACT_BYTES
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class DPoPProof:
    """A proof that passed every check: its key's thumbprint, its id and time."""

    jkt: str
    jti: str
    issued_at: datetime

    @property
    def forget_after(self) -> datetime:
        """When its ``jti`` may be forgotten: a proof this old is refused anyway."""
        return self.issued_at + 2 * MAX_PROOF_AGE


def normalize_htu(url: str) -> str:
    """The URI as §4.3 compares it: scheme and host in lower case, no default port,
    no query or fragment (RFC 3986 §6.2.2 and §6.2.3 normalisation)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def _fail(reason: str) -> InvalidDPoPProofError:
    return InvalidDPoPProofError(reason=reason)


def _public_key(jwk: Any, algorithm: str) -> ECKey | RSAKey:
    """The proof's ``jwk`` header: a public key the platform accepts (§4.3 item 6), of
    the type ``alg`` signs with."""
    try:
        key = rfc7518.public_key(jwk)
    except rfc7518.UnacceptableKeyError as exc:
        raise _fail(exc.message) from exc
    if not isinstance(key, rfc7515.KEY_TYPE_FOR_ALGORITHM[algorithm]):
        raise _fail(N_("alg does not match the key type"))
    return key


def verify_proof(
    proof: str | None,
    *,
    method: str,
    url: str,
    now: datetime,
    access_token: str | None = None,
) -> DPoPProof:
    """Every check of `Section 4.3`_ except the replay one (see :func:`remember_proof`).

    ``url`` is the URI the request was meant for (the issuer's, not what a proxy saw);
    ``access_token``, at a resource server, the token the proof must cover (``ath``).

    .. _`Section 4.3`: https://www.rfc-editor.org/rfc/rfc9449#section-4.3
    """
    # 1-2: exactly one well-formed JWT.
    if not proof:
        raise _fail(N_("a DPoP header is required"))
    if len(proof) > MAX_PROOF_BYTES or "," in proof:
        raise _fail(N_("send exactly one proof of reasonable size"))
    try:
        compact = rfc7515.parse(proof)
    except ValueError as exc:
        raise _fail(N_("the proof is not a JWS")) from exc
    header = compact.protected
    # 4: typ; 5: an asymmetric algorithm this server supports (never none, never HS*).
    if header.get("typ") != DPOP_TYPE:
        raise _fail(N_("typ must be dpop+jwt"))
    algorithm = header.get("alg")
    if algorithm not in rfc7515.SIGNING_ALGORITHMS:
        raise _fail(N_("alg must be PS256 or ES256"))
    # 6, 7: the signature, by the public key in the header.
    key = _public_key(header.get("jwk"), algorithm)
    if rfc7515.verified_by(proof, [key], algorithm) is None:
        raise _fail(N_("the signature does not verify"))
    try:
        claims = rfc7515.claims(compact)
    except ValueError as exc:
        raise _fail(N_("the payload is not a JSON object")) from exc
    # 3: the required claims.
    jti = rfc7519.jwt_id(claims, error=InvalidDPoPProofError)
    htm, htu = claims.get("htm"), claims.get("htu")
    if not isinstance(htu, str) or not isinstance(htm, str):
        raise _fail(N_("htm and htu are required"))
    issued_at = rfc7519.required_date(claims, "iat", error=InvalidDPoPProofError)
    # 8: the method; 9: the URI without query and fragment.
    if htm != method.upper():
        raise _fail(N_("htm does not match the request method"))
    if normalize_htu(htu) != normalize_htu(url):
        raise _fail(N_("htu does not match the request URI"))
    # 11: created within an acceptable window (either side, for clock skew).
    if abs(now - issued_at) > MAX_PROOF_AGE:
        raise _fail(N_("the proof is too old or from the future"))
    # 12: at a resource server, the proof covers this access token (ath).
    if access_token is not None and claims.get("ath") != b64url_sha256(access_token):
        raise _fail(N_("ath does not match the access token"))
    return DPoPProof(jkt=rfc7638.thumbprint(key), jti=jti, issued_at=issued_at)


def remember_proof(proof: DPoPProof, remember: Remember) -> DPoPProof:
    """`Section 4.3`_ item 10: ``proof`` if its ``jti`` is new for its key, recorded
    through ``remember``; else :class:`~myna.platform.oauth.errors.InvalidDPoPProofError`.

    .. _`Section 4.3`: https://www.rfc-editor.org/rfc/rfc9449#section-4.3
    """
    if not remember(proof.jkt, proof.jti, proof.forget_after):
        raise _fail(N_("the proof was already used"))
    return proof
