"""Client authentication of organisations with ``private_key_jwt`` (FAPI 2.0 §5.3.1.1).

FAPI 2.0 Security Profile §5.3.1.1 and §5.3.2.1: the only method; the assertion is signed
with PS256 or ES256 by a key the organisation registered, its ``aud`` is the issuer
identifier as a string, and its ``jti`` is accepted once. The checks are the platform's
(:func:`myna.platform.oauth.rfc7523.verify_client_assertion`); this module says where an
organisation's keys are and where used ``jti`` values are kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.orm import Session

from myna.partners import dpop, organizations
from myna.partners.authorization import require_active
from myna.partners.discovery import issuer
from myna.partners.domain import SIGNING_ALGORITHMS, OrganizationNotFoundError, RegisteredClient
from myna.platform.errors import N_
from myna.platform.oauth import rfc7523
from myna.platform.oauth.errors import InvalidClientError
from myna.platform.settings import Settings


def _registered_keys(
    session: Session,
    settings: Settings,
    cache: organizations.JwksCache,
    client_id: str,
    kid: str | None,
) -> Sequence[ECKey | RSAKey]:
    """The approved organisation's signing keys (its JWKS, or those at its jwks_uri).

    An organisation that is not approved is refused before its keys are looked up: the
    assertion is not verified yet, and a registration anyone may make must not make the
    platform fetch its jwks_uri.
    """
    try:
        client = organizations.get_client(session=session, client_id=client_id)
    except OrganizationNotFoundError as exc:
        raise rfc7523.unknown_client() from exc
    require_active(client)
    try:
        keys = organizations.client_keys(
            session=session, settings=settings, cache=cache, client_id=client_id, kid=kid
        )
    except organizations.JwksUnavailableError as exc:
        # The organisation's integrator needs to know why (an address, a size, a status):
        # the fetch's own sentence, in the request's language.
        raise InvalidClientError(exc.message, **exc.params) from exc
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise InvalidClientError(
            reason=N_("the organisation's registered keys cannot be used")
        ) from exc
    return [key for key in keys.keys if isinstance(key, ECKey | RSAKey)]


def authenticate_client(
    *,
    session: Session,
    settings: Settings,
    cache: organizations.JwksCache,
    params: Mapping[str, str],
    now: datetime,
) -> RegisteredClient:
    """The approved organisation that signed ``client_assertion`` (RFC 7523 §3)."""
    if params.get("client_assertion_type") != rfc7523.ASSERTION_TYPE:
        raise InvalidClientError(
            reason=N_("use private_key_jwt (client_assertion_type jwt-bearer)")
        )
    if "client_secret" in params:
        raise InvalidClientError(reason=N_("client secrets are not accepted"))

    def client_keys(client_id: str, kid: str | None) -> Sequence[ECKey | RSAKey]:
        return _registered_keys(session, settings, cache, client_id, kid)

    verified = rfc7523.verify_client_assertion(
        params.get("client_assertion", ""),
        audience=rfc7523.issuer_audience(issuer(settings)),
        algorithms=SIGNING_ALGORITHMS,
        client_keys=client_keys,
        remember=dpop.remembering(session, "assertion"),
        now=now,
        client_id=params.get("client_id"),
    )
    return organizations.get_client(session=session, client_id=verified.client_id)
