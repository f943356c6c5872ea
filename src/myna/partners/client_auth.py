"""Client authentication with ``private_key_jwt`` (RFC 7523 §2.2 and §3, OIDC Core §9).

FAPI 2.0 Security Profile §5.3.1.1 and §5.3.2.1: the only method; the assertion is signed
with PS256 or ES256 by a key the organisation registered, its ``aud`` is the issuer
identifier as a string, and its ``jti`` is accepted once. Authlib's rfc7523 client
assertion support is tied to its server classes, so the checks are written here with
joserfc, in the order the RFC lists them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy.orm import Session

from myna.partners import dpop, organizations
from myna.partners.authorization import InvalidClientError, UnauthorizedClientError
from myna.partners.discovery import issuer
from myna.partners.domain import SIGNING_ALGORITHMS, OrganizationNotFoundError, RegisteredClient
from myna.platform.settings import Settings

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_BYTES = 8192
# An assertion is made for one request: it may not claim to live longer than this.
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)


def _fail(reason: str) -> InvalidClientError:
    return InvalidClientError(reason=reason)


def _claimed_client(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unverified header and claims, only to find whose keys to verify with."""
    try:
        compact = jws.extract_compact(assertion.encode("ascii"), registry=dpop.REGISTRY)
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeEncodeError) as exc:
        raise _fail("the client assertion is not a signed JWT") from exc
    if not isinstance(claims, dict):
        raise _fail("the client assertion's payload is not an object")
    return dict(compact.protected), claims


def _registered_keys(
    *, session: Session, settings: Settings, client: RegisteredClient, kid: Any
) -> KeySet:
    """The organisation's registered signing keys (its JWKS, or those at its jwks_uri)."""
    try:
        return organizations.client_keys(
            session=session,
            settings=settings,
            client_id=client.client_id,
            kid=kid if isinstance(kid, str) else None,
        )
    except organizations.JwksUnavailableError as exc:
        # The organisation's integrator needs to know why (an address, a size, a status).
        why = str(exc).rstrip(".")
        raise _fail(why[:1].lower() + why[1:]) from exc
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _fail("the organisation's registered keys cannot be used") from exc


def _verification_keys(keys: KeySet, header: Mapping[str, Any]) -> list[ECKey | RSAKey]:
    """Keys that may have signed: signing keys only (never the encryption key), by
    ``kid`` when given, only of the ``alg``'s type."""
    wanted = ECKey if header.get("alg") == "ES256" else RSAKey
    kid = header.get("kid")
    return [
        key
        for key in keys.keys
        if isinstance(key, wanted)
        and key.get("use") == organizations.SIGNING
        and (kid is None or key.kid == kid)
        and not key.is_private
    ]


def _number(claims: Mapping[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _fail(f"the client assertion needs {name}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _fail(f"{name} is not a time") from exc


def authenticate_client(  # noqa: PLR0912 - one branch per check of RFC 7523 §3
    *, session: Session, settings: Settings, params: Mapping[str, str], now: datetime
) -> RegisteredClient:
    """The approved organisation that signed ``client_assertion``, per RFC 7523 `Section 3`_.

    ``iss`` and ``sub`` are the client id (and match ``client_id`` if sent), ``aud`` is
    the issuer, ``exp`` is near and not past, and the ``jti`` is new. ``alg: none``, HMAC
    and any algorithm other than PS256/ES256 are refused before a key is looked at, so an
    RSA public key can never be used as an HMAC secret (algorithm confusion). An
    organisation that is not approved is refused before its keys are looked up: the
    assertion is not verified yet, and a registration anyone may make must not make the
    platform fetch its jwks_uri.

    .. _`Section 3`: https://www.rfc-editor.org/rfc/rfc7523#section-3
    """
    if params.get("client_assertion_type") != ASSERTION_TYPE:
        raise _fail("use private_key_jwt (client_assertion_type jwt-bearer)")
    if "client_secret" in params:
        raise _fail("client secrets are not accepted")
    assertion = params.get("client_assertion", "")
    if not assertion or len(assertion) > MAX_ASSERTION_BYTES:
        raise _fail("client_assertion is required")
    header, claims = _claimed_client(assertion)
    algorithm = header.get("alg")
    if algorithm not in SIGNING_ALGORITHMS:
        raise _fail("the client assertion must be signed with PS256 or ES256")
    client_id = claims.get("iss")
    if not isinstance(client_id, str) or claims.get("sub") != client_id:
        raise _fail("iss and sub must both be the client_id")
    if params.get("client_id", client_id) != client_id:
        raise _fail("client_id does not match the assertion")
    try:
        client = organizations.get_client(session=session, client_id=client_id)
    except OrganizationNotFoundError as exc:
        raise _fail("unknown client") from exc
    if not client.is_active:
        raise UnauthorizedClientError
    keys = _registered_keys(
        session=session, settings=settings, client=client, kid=header.get("kid")
    )
    candidates = _verification_keys(keys, header)
    for key in candidates:
        try:
            jws.deserialize_compact(assertion, key, algorithms=[algorithm], registry=dpop.REGISTRY)
            break
        except (JoseError, ValueError):
            continue
    else:
        raise _fail("the signature does not verify with a registered key")
    # FAPI 2.0 §5.3.2.1 item 8 (final): the issuer identifier, as a single string.
    if claims.get("aud") != issuer(settings):
        raise _fail("aud must be the issuer identifier")
    expires = _number(claims, "exp")
    if expires <= now - CLOCK_SKEW:
        raise _fail("the client assertion has expired")
    if expires > now + MAX_ASSERTION_LIFETIME:
        raise _fail("the client assertion lives too long")
    if "iat" in claims and _number(claims, "iat") > now + CLOCK_SKEW:
        raise _fail("the client assertion is from the future")
    if "nbf" in claims and _number(claims, "nbf") > now + CLOCK_SKEW:
        raise _fail("the client assertion is not yet valid")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 128:
        raise _fail("the client assertion needs a jti")
    until = expires + CLOCK_SKEW
    if not dpop.remember(session=session, kind="assertion", scope=client_id, jti=jti, until=until):
        raise _fail("the client assertion was already used")
    return client
