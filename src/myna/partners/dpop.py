"""DPoP: proof of possession of a client's key (RFC 9449), written by hand.

Authlib has no DPoP; this module checks a proof as `Section 4.3`_ lists, with joserfc
for the JWS, and remembers each accepted ``jti`` (:class:`SeenProof`) so a proof is
used once. The access token is bound to the key by its RFC 7638 thumbprint
(``cnf.jkt``, `Section 6.1`_).

.. _`Section 4.3`: https://www.rfc-editor.org/rfc/rfc9449#section-4.3
.. _`Section 6.1`: https://www.rfc-editor.org/rfc/rfc9449#section-6.1
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, RSAKey
from joserfc.jws import JWSRegistry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna.partners.domain import SIGNING_ALGORITHMS, PartnerError
from myna.partners.models import SeenProof
from myna.platform.encoding import b64url_sha256
from myna.platform.errors import N_

DPOP_TYPE = "dpop+jwt"
# Section 11.1: a short window, so remembered jtis can be forgotten soon after.
MAX_PROOF_AGE = timedelta(seconds=60)
MAX_PROOF_BYTES = 8192
MIN_RSA_BITS = 2048
# Private members of a JWK (RFC 7518 §6.2.2, §6.3.2): a proof must carry none.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidDPoPProofError(PartnerError):
    """The DPoP proof is missing or fails a check (RFC 9449 §7.1: ``invalid_dpop_proof``)."""

    code = "invalid_dpop_proof"
    message = N_("The DPoP proof is not valid: {reason}.")
    status_code = 401


class _Registry(JWSRegistry):
    # The header carries the public key; an RSA key of 4096 bits is about 700 bytes.
    max_header_length = 2048
    max_payload_length = 2048


REGISTRY = _Registry(algorithms=list(SIGNING_ALGORITHMS))


@dataclass(frozen=True, slots=True)
class DPoPProof:
    """A proof that passed every check: its key's thumbprint, its id and time."""

    jkt: str
    jti: str
    issued_at: datetime


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


def _rsa_bits(jwk: dict[str, Any]) -> int:
    try:
        modulus = base64.urlsafe_b64decode(str(jwk.get("n", "")) + "==")
    except ValueError:
        return 0
    return len(modulus.lstrip(b"\0")) * 8


def _public_key(jwk: Any) -> ECKey | RSAKey:
    """The proof's ``jwk`` header, refused if private, symmetric or weak (§4.3 item 6)."""
    if not isinstance(jwk, dict) or _PRIVATE_MEMBERS & set(jwk):
        raise _fail("the jwk header must be a public key")
    if jwk.get("kty") == "RSA" and _rsa_bits(jwk) < MIN_RSA_BITS:
        # Checked before the import, which only warns about weak keys.
        raise _fail("an RSA key must have at least 2048 bits")
    try:
        key = JWKRegistry.import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _fail("the jwk header is not a usable key") from exc
    if isinstance(key, ECKey):
        if key.curve_name != "P-256":
            raise _fail("an EC key must be on P-256")
        return key
    if isinstance(key, RSAKey):
        return key
    raise _fail("the key type is not allowed")


def verify_proof(  # noqa: PLR0912 - one branch per check of §4.3
    proof: str | None,
    *,
    method: str,
    url: str,
    now: datetime,
    access_token: str | None = None,
) -> DPoPProof:
    """Every check of `Section 4.3`_ except the replay one (see :func:`remember`).

    ``url`` is the URI the request was meant for (the issuer's, not what a proxy saw).

    .. _`Section 4.3`: https://www.rfc-editor.org/rfc/rfc9449#section-4.3
    """
    # 1-2: exactly one well-formed JWT.
    if not proof:
        raise _fail("a DPoP header is required")
    if len(proof) > MAX_PROOF_BYTES or "," in proof:
        raise _fail("send exactly one proof of reasonable size")
    try:
        compact = jws.extract_compact(proof.encode("ascii"), registry=REGISTRY)
    except (JoseError, ValueError, UnicodeEncodeError) as exc:
        raise _fail("the proof is not a JWS") from exc
    header = compact.protected
    # 4: typ; 5: an asymmetric algorithm this server supports (never none, never HS*).
    if header.get("typ") != DPOP_TYPE:
        raise _fail("typ must be dpop+jwt")
    algorithm = header.get("alg")
    if algorithm not in SIGNING_ALGORITHMS:
        raise _fail("alg must be PS256 or ES256")
    key = _public_key(header.get("jwk"))
    if (algorithm == "ES256") != isinstance(key, ECKey):
        raise _fail("alg does not match the key type")
    # 7: the signature, by the key in the header.
    try:
        jws.deserialize_compact(proof, key, algorithms=[algorithm], registry=REGISTRY)
    except (JoseError, ValueError) as exc:
        raise _fail("the signature does not verify") from exc
    try:
        claims = json.loads(compact.payload)
    except ValueError as exc:
        raise _fail("the payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise _fail("the payload is not a JSON object")
    jti, htm, htu, iat = (claims.get(name) for name in ("jti", "htm", "htu", "iat"))
    # 3: the required claims.
    if not isinstance(jti, str) or not 0 < len(jti) <= 128:
        raise _fail("jti is required")
    if not isinstance(htu, str) or not isinstance(htm, str):
        raise _fail("htm and htu are required")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise _fail("iat is required")
    # 8: the method; 9: the URI without query and fragment.
    if htm != method.upper():
        raise _fail("htm does not match the request method")
    if normalize_htu(htu) != normalize_htu(url):
        raise _fail("htu does not match the request URI")
    # 11: created within an acceptable window (either side, for clock skew).
    try:
        issued_at = datetime.fromtimestamp(iat, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _fail("iat is not a time") from exc
    if abs(now - issued_at) > MAX_PROOF_AGE:
        raise _fail("the proof is too old or from the future")
    # 12: at a resource server, the proof covers this access token (ath).
    if access_token is not None and claims.get("ath") != b64url_sha256(access_token):
        raise _fail("ath does not match the access token")
    return DPoPProof(jkt=key.thumbprint(), jti=jti, issued_at=issued_at)


def seen_key(kind: str, scope: str, jti: str) -> str:
    """What is stored for a jti: a digest, since jtis are chosen by clients and scoped
    to one key (DPoP) or one client (assertions)."""
    return hashlib.sha256(f"{kind}\x00{scope}\x00{jti}".encode()).hexdigest()


def remember(*, session: Session, kind: str, scope: str, jti: str, until: datetime) -> bool:
    """Record a jti as used; False if it was seen before (a replay, §11.1)."""
    key = seen_key(kind, scope, jti)
    if session.get(SeenProof, (key, kind)) is not None:
        return False
    try:
        # A savepoint, so a concurrent insert of the same jti fails alone.
        with session.begin_nested():
            session.add(SeenProof(jti=key, kind=kind, expires_at=until))
    except IntegrityError:
        return False
    return True


def check_proof(
    *,
    session: Session,
    proof: str | None,
    method: str,
    url: str,
    now: datetime,
    access_token: str | None = None,
) -> DPoPProof:
    """A valid proof not used before (all of §4.3, item 10 included)."""
    checked = verify_proof(proof, method=method, url=url, now=now, access_token=access_token)
    until = checked.issued_at + 2 * MAX_PROOF_AGE
    if not remember(session=session, kind="dpop", scope=checked.jkt, jti=checked.jti, until=until):
        raise _fail("the proof was already used")
    return checked
