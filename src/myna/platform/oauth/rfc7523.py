"""Client authentication with a signed JWT: ``private_key_jwt`` (RFC 7523 §2.2 and §3).

The client signs a short-lived JWT about itself with a key it registered and sends it
as ``client_assertion`` with ``client_assertion_type`` :data:`ASSERTION_TYPE` (RFC 7521
§4.2, OpenID Connect Core §9). :func:`verify_client_assertion` makes the checks of
`Section 3`_ in the order it lists them, for any authorization server of the platform:
what differs between them (where a client's keys are, where used ``jti`` values are
kept, which algorithms and which audience they accept) comes in as arguments.

Authlib's RFC 7523 support is bound to its server classes, so the checks are written
here over joserfc, which parses and verifies the JWS.

.. _`Section 3`: https://www.rfc-editor.org/rfc/rfc7523#section-3
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey, RSAKey

from myna.platform.errors import N_
from myna.platform.oauth import rfc7515, rfc7519
from myna.platform.oauth.errors import InvalidClientError
from myna.platform.oauth.rfc7519 import Remember

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_BYTES = rfc7515.MAX_COMPACT_BYTES
# An assertion is made for one request: it may not claim to live longer than this...
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
# ...give or take the difference between the client's clock and ours (§3 item 4).
CLOCK_SKEW = timedelta(seconds=60)

ClientKeys = Callable[[str, str | None], Sequence[ECKey | RSAKey]]
"""The keys registered by a client: ``(client_id, kid) -> keys``.

Called once the assertion names its client, before its signature is checked. To refuse
the client (unknown, disabled, its keys unreachable) it raises
:class:`~myna.platform.oauth.errors.OAuthError`; ``kid`` is the header's, a hint for a
client whose keys are fetched from its ``jwks_uri``.
"""


@dataclass(frozen=True, slots=True)
class Audience:
    """The one value an assertion's ``aud`` must be, and the reason given when it is not."""

    value: str
    reason: str


def issuer_audience(issuer: str) -> Audience:
    """The authorization server's issuer identifier (RFC 8414 §2), as FAPI 2.0 Security
    Profile §5.3.2.1 item 8 requires: a server that publishes metadata is named by it."""
    return Audience(issuer, N_("aud must be the issuer identifier {audience}, as one string"))


def token_endpoint_audience(url: str) -> Audience:
    """The token endpoint's URL (§3 item 3), for a server that publishes no issuer."""
    return Audience(url, N_("aud must be the token endpoint {audience}, as one string"))


@dataclass(frozen=True, slots=True)
class ClientAssertion:
    """An assertion that passed every check: whose it is, its id and its expiry."""

    client_id: str
    jti: str
    expires_at: datetime


def _fail(reason: str, **params: Any) -> InvalidClientError:
    return InvalidClientError(reason=reason, **params)


def _candidates(keys: Iterable[ECKey | RSAKey], header: Mapping[str, Any]) -> list[ECKey | RSAKey]:
    """The registered keys that may have signed (RFC 7515 §4.1.4, RFC 7517 §4.2): public
    signing keys of the algorithm's type, and of the header's ``kid`` when a key has one."""
    wanted = rfc7515.KEY_TYPE_FOR_ALGORITHM[header["alg"]]
    kid = header.get("kid")
    return [
        key
        for key in keys
        if isinstance(key, wanted)
        and not key.is_private
        and key.get("use") in {None, "sig"}
        and (kid is None or key.kid is None or key.kid == kid)
    ]


def _read(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims before the signature is checked, to find the client's keys."""
    if not assertion:
        raise _fail(N_("client_assertion is required"))
    if len(assertion) > MAX_ASSERTION_BYTES:
        raise _fail(N_("the client assertion is too long"))
    try:
        compact = rfc7515.parse(assertion)
    except ValueError as exc:
        raise _fail(N_("the client assertion is not a compact JWS")) from exc
    try:
        return dict(compact.protected), rfc7515.claims(compact)
    except ValueError as exc:
        raise _fail(N_("the client assertion's payload is not a JSON object")) from exc


def _expiry(claims: Mapping[str, Any], now: datetime) -> datetime:
    """``exp`` (§3 item 4), checked with ``iat`` and ``nbf`` (items 5 and 6) if present."""
    expires = rfc7519.required_date(claims, "exp", error=InvalidClientError)
    if expires <= now - CLOCK_SKEW:
        raise _fail(N_("the client assertion has expired"))
    if expires > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
        raise _fail(N_("exp may be at most 5 minutes ahead"))
    issued = rfc7519.numeric_date(claims, "iat", error=InvalidClientError)
    if issued is not None and issued > now + CLOCK_SKEW:
        raise _fail(N_("the client assertion was issued in the future (iat)"))
    not_before = rfc7519.numeric_date(claims, "nbf", error=InvalidClientError)
    if not_before is not None and not_before > now + CLOCK_SKEW:
        raise _fail(N_("the client assertion is not valid yet (nbf)"))
    return expires


def verify_client_assertion(
    assertion: str,
    *,
    audience: Audience,
    algorithms: Collection[str],
    client_keys: ClientKeys,
    remember: Remember,
    now: datetime,
    client_id: str | None = None,
) -> ClientAssertion:
    """The client that signed ``assertion``, per `Section 3`_; else
    :class:`~myna.platform.oauth.errors.InvalidClientError`.

    ``alg`` is one of ``algorithms`` (a subset of PS256 and ES256) before any key is
    looked at: ``none`` and HMAC are refused, so a public key is never taken for an HMAC
    secret (algorithm confusion). ``iss`` and ``sub`` are the client id (1, 2), and so
    is the ``client_id`` parameter if the client sent one (RFC 7521 §4.2). The signature
    verifies with a key the client registered (5). ``aud`` is exactly ``audience``, a
    single string (3): an array could make an assertion meant for one server good at
    another. ``exp`` is required, not past and at most :data:`MAX_ASSERTION_LIFETIME`
    ahead; ``iat`` and ``nbf``, when present, are not in the future (4, 5, 6); each is a
    time of the platform's calendar. ``jti`` is required and accepted once (7):
    ``remember`` records it for the client until the assertion has expired.

    .. _`Section 3`: https://www.rfc-editor.org/rfc/rfc7523#section-3
    """
    header, claims = _read(assertion)
    algorithm = header.get("alg")
    allowed = [name for name in algorithms if name in rfc7515.SIGNING_ALGORITHMS]
    if algorithm not in allowed:
        raise _fail(
            N_("the client assertion must be signed with {algorithms}"),
            algorithms=" or ".join(allowed),
        )
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer or claims.get("sub") != issuer:
        raise _fail(N_("iss and sub must both be the client_id"))
    if client_id is not None and client_id != issuer:
        raise _fail(N_("client_id does not match the assertion"))
    kid = header.get("kid")
    keys = client_keys(issuer, kid if isinstance(kid, str) else None)
    if rfc7515.verified_by(assertion, _candidates(keys, header), algorithm) is None:
        raise _fail(N_("the signature does not match the client's registered key"))
    if claims.get("aud") != audience.value:
        raise _fail(audience.reason, audience=audience.value)
    expires = _expiry(claims, now)
    jti = rfc7519.jwt_id(claims, error=InvalidClientError)
    if not remember(issuer, jti, expires + CLOCK_SKEW):
        raise _fail(N_("this client assertion (jti) was already used"))
    return ClientAssertion(client_id=issuer, jti=jti, expires_at=expires)


def unknown_client() -> InvalidClientError:
    """How a :data:`ClientKeys` refuses a ``client_id`` nobody registered."""
    return _fail(N_("unknown client"))
